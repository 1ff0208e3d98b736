"""Stream mode against the real broker: the Kafka and file tables run as continuous streams while a set is
published; after the same events every gold table equals the manifest, hence the batch result."""

import pytest

from medallion.engine.streams import start_streams
from tests.integration.commerce.conftest import assert_gold_equals_manifest, produce

pytestmark = pytest.mark.integration


def test_stream_mode_reads_the_broker_continuously_and_gives_the_manifest(commerce_runtime):
    runtime = commerce_runtime
    produce(runtime, 1)
    streams = start_streams(runtime, "commerce")
    try:
        streams.await_idle(timeout=900)
        truths = produce(runtime, 2)  # published while the streams run
        streams.await_idle(timeout=900)
    finally:
        streams.stop()
    assert truths["sets"] == [1, 2]
    assert_gold_equals_manifest(runtime, truths)
