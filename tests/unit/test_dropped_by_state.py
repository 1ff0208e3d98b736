"""Rows a stateful operator dropped, counted from a query's progress: once per batch that ran."""

from types import SimpleNamespace

from medallion.engine.eventlog import TableRun
from medallion.engine.streams import StreamingRun
from medallion.engine.table import batches_run, count_dropped_by_state


def ran(batch_id, duplicates=0, late=0):
    """A trigger that ran batch ``batch_id``, its dedupe dropping ``duplicates`` and its watermark ``late``."""
    return {
        "batchId": batch_id,
        "numInputRows": 5,
        "durationMs": {"addBatch": 120, "triggerExecution": 300},
        "stateOperators": [
            {"numRowsDroppedByWatermark": late, "customMetrics": {"numDroppedDuplicateRows": duplicates}}
        ],
    }


def idle(batch_id, duplicates):
    """A trigger that found no data: Spark repeats the last batch's operator metrics but for the late rows."""
    return {
        "batchId": batch_id,
        "numInputRows": 0,
        "durationMs": {"latestOffset": 2, "triggerExecution": 2},
        "stateOperators": [{"numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": duplicates}}],
    }


def counted(progress):
    stats = TableRun("run", "fitness", "users", "silver", "stream")
    count_dropped_by_state(progress, stats)
    return stats.rows_duplicate, stats.rows_late, stats.rows_in


def test_an_idle_trigger_repeating_the_last_batchs_metrics_counts_nothing():
    progress = [ran(0, duplicates=2, late=1), idle(1, duplicates=2), idle(1, duplicates=2), ran(1, duplicates=3)]
    assert counted(progress) == (5, 1, 6)


def test_a_batch_seen_twice_counts_once():
    first, again = ran(0, duplicates=2), ran(0, duplicates=2)
    assert counted([first, again]) == (2, 0, 2)
    assert list(batches_run([first, idle(1, 2), again])) == [0]


def test_a_streaming_run_adds_up_each_batch_once_beyond_the_querys_last_updates():
    query = SimpleNamespace(name="fitness.users", recentProgress=[ran(0, duplicates=2, late=1), idle(1, 2)])
    run = StreamingRun(context=None, queries=[query], views=[])
    run.gather_progress()
    query.recentProgress = [idle(1, 2), ran(1, duplicates=3), idle(2, 3)]  # batch 0 has left the query's window
    run.gather_progress()
    run.gather_progress()
    assert run.dropped["fitness.users"] == (1, 1, 5)
