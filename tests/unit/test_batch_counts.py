"""A batch's counts reach the driver through its mailbox only in the driver's own process; anywhere else the
batch is told to write them to the batch log."""

import subprocess
import sys

from pyspark import cloudpickle  # what Spark ships a foreachBatch function with

from medallion.engine import batch_counts
from medallion.engine.eventlog import EVENT_LOG_COLUMNS, TableRun


def batch_run(rows_in: int) -> TableRun:
    run = TableRun("run-1", "toy", "readings", "bronze", "once", started=1_700_000_000.0)
    run.add_batch(
        rows_in=rows_in, quarantined=1, accepted=rows_in - 1, inserted=rows_in - 1, updated=0, broken={"r": 1}
    )
    run.status = "ok"
    return run


def test_counts_delivered_in_this_process_come_back_as_the_log_would_give_them_in_order():
    token = batch_counts.open_mailbox()
    assert batch_counts.deliver(token, batch_run(5), 0)
    assert batch_counts.deliver(token, batch_run(7), 1)
    delivered = batch_counts.collect(token)
    assert [row["rows_in"] for row in delivered] == [5, 7]
    assert list(delivered[0]) == [name for name, _ in EVENT_LOG_COLUMNS] + ["batch_id", "source_reads"]
    assert [(row["batch_id"], row["source_reads"]) for row in delivered] == [(0, 1), (1, 1)]
    assert delivered[0]["rows_quarantined"] == 1 and delivered[0]["broken_rules"] == {"r": 1}
    assert delivered[0]["batches"] == 1 and delivered[0]["status"] == "ok"


def test_a_closed_or_missing_mailbox_takes_nothing():
    token = batch_counts.open_mailbox()
    assert batch_counts.collect(token) == []
    assert not batch_counts.deliver(token, batch_run(5), 0)
    assert not batch_counts.deliver(None, batch_run(5), 0)
    assert batch_counts.collect(token) == []


def test_a_batch_shipped_to_another_process_finds_no_mailbox_there():
    # What a Spark Connect server does with a foreachBatch function: pickle it by value and call it in a
    # Python worker of its own. The mailbox the driver opened must not travel with it.
    token = batch_counts.open_mailbox()
    try:

        def each_batch() -> bool:
            return batch_counts.deliver(token, batch_run(3), 0)

        shipped = cloudpickle.dumps(each_batch)
        child = subprocess.run(
            [sys.executable, "-c", "import pickle, sys; print(pickle.loads(sys.stdin.buffer.read())())"],
            input=shipped,
            capture_output=True,
            check=True,
        )
        assert child.stdout.decode().strip() == "False"
        assert each_batch() is True  # the same function, called in the driver's process, delivers
    finally:
        assert [row["rows_in"] for row in batch_counts.collect(token)] == [3]
