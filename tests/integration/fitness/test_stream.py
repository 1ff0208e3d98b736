"""The spec's acceptance table in stream mode: every layer as processingTime streams while sets land."""

import pytest
from pyspark.sql import functions as F

from medallion.engine import acceptance

pytestmark = pytest.mark.integration


def test_stream_mode_reaches_the_acceptance_counts_of_both_sets(make_runtime):
    runtime = make_runtime(streaming={"trigger_interval": "2 seconds"})
    results = acceptance.run_acceptance(runtime, "fitness", "stream", stream_timeout=600)
    assert results["set 1"]["workout_bpm"] == 3_900
    assert results["set 2"]["workout_bpm"] == 8_100
    assert results["set 2"]["workout_bpm_summary"] == 2

    # Every micro-batch with rows is in the event log: its rows add up to the tables, and each row's
    # rows in are accounted for (how many readings a watermark drops depends on the batches: not fixed).
    log = runtime.spark.read.format("delta").load(runtime.system_path("event_log")).where("mode = 'stream'")
    unaccounted = log.where(
        "rows_in != rows_quarantined + rows_inserted + rows_updated + rows_unchanged + rows_duplicate + rows_late"
    )
    assert unaccounted.count() == 0
    # None failed. A view refresh may be skipped: started because an input table moved, it finds that nothing
    # it reads changed since its last refresh (which had already read the newer versions).
    assert log.where("status NOT IN ('ok', 'skipped')").select("table", "status", "error").collect() == []
    assert log.where("status = 'skipped'").where("rows_in > 0 OR rows_inserted > 0").count() == 0
    totals = {
        r.table: (r.inserted, r.quarantined)
        for r in log.groupBy("table")
        .agg(F.sum("rows_inserted").alias("inserted"), F.sum("rows_quarantined").alias("quarantined"))
        .collect()
    }
    assert totals["registered_users_bz"] == (10, 0)
    assert totals["users"] == (10, 0)
    assert totals["heart_rate"] == (507_602, 0)
    assert totals["workout_bpm"] == (8_100, 0)
    assert totals["workout_bpm_summary"] == (2, 0)  # a view: a row per refresh
