"""The spec's acceptance table in stream mode: every layer as processingTime streams while sets land."""
import pytest

from medallion import acceptance

pytestmark = pytest.mark.integration


def test_stream_mode_reaches_the_acceptance_counts_of_both_sets(make_runtime):
    runtime = make_runtime(streaming={"trigger_interval": "2 seconds"})
    results = acceptance.run_acceptance(runtime, "fitness", "stream", stream_timeout=600)
    assert results["set 1"]["workout_bpm"] == 3_900
    assert results["set 2"]["workout_bpm"] == 8_100
    assert results["set 2"]["workout_bpm_summary"] == 2
