"""Batch reconciliation: our count of a batch against Delta's commit metrics; any mismatch fails the run."""

import pytest

from medallion.engine.eventlog import TableRun, reconcile_write
from medallion.errors import ReconciliationError
from medallion.io import WriteResult


def test_a_merge_splits_accepted_rows_into_written_unchanged_and_in_batch_duplicates():
    # 10 accepted rows, 8 distinct keys; Delta's merge read 8 rows, inserted 5 and updated 1
    result = WriteResult(inserted=5, updated=1, source_rows=8, committed=True)
    assert reconcile_write("t", accepted=10, distinct_keys=8, result=result) == (2, 2)


def test_a_merge_that_read_other_rows_than_the_batch_holds_fails():
    with pytest.raises(ReconciliationError, match="the batch holds 8 distinct keys but Delta's merge read 7 rows"):
        reconcile_write("t", 10, 8, WriteResult(5, 0, source_rows=7, committed=True))


def test_an_append_must_commit_every_accepted_row():
    assert reconcile_write("t", 4, None, WriteResult(4, committed=True)) == (0, 0)
    with pytest.raises(ReconciliationError, match="4 rows accepted but Delta committed 3"):
        reconcile_write("t", 4, None, WriteResult(3, committed=True))


def test_a_replayed_batch_or_a_merge_with_nothing_to_do_leaves_every_row_unchanged():
    assert reconcile_write("t", 4, None, WriteResult(replayed=True)) == (0, 4)
    assert reconcile_write("t", 5, 3, WriteResult()) == (2, 3)


def test_table_run_checks_every_batch_adds_up():
    run = TableRun("r", "fitness", "users", "silver", "once")
    run.add_batch(
        rows_in=12,
        quarantined=2,
        accepted=10,
        inserted=5,
        updated=1,
        broken={"id_present": 2},
        duplicates=2,
        unchanged=2,
        drift={"spo2": 3},
    )
    run.add_batch(rows_in=1, quarantined=0, accepted=1, inserted=1, updated=0, broken={"id_present": 0})
    assert (run.rows_in, run.rows_quarantined, run.rows_inserted, run.rows_unchanged, run.rows_duplicate) == (
        13,
        2,
        6,
        2,
        2,
    )
    assert (run.broken_rules, run.schema_drift, run.batches) == ({"id_present": 2}, {"spo2": 3}, 2)
    with pytest.raises(ReconciliationError, match="fitness.users: 3 rows in but 2 accepted \\+ 0 quarantined"):
        run.add_batch(rows_in=3, quarantined=0, accepted=2, inserted=2, updated=0, broken={})
    with pytest.raises(ReconciliationError, match="2 inserted \\+ 0 updated \\+ 1 unchanged \\+ 0 duplicates"):
        run.add_batch(rows_in=2, quarantined=0, accepted=2, inserted=2, updated=0, broken={}, unchanged=1)


def test_the_event_log_row_matches_its_schema(spark):
    from medallion.engine.eventlog import EVENT_LOG_SCHEMA

    run = TableRun("r", "fitness", "users", "silver", "once", rows_late=3, checks={"unique(user_id)": 0})
    row = spark.createDataFrame([run.as_row()], EVENT_LOG_SCHEMA).first()
    assert (row["rows_late"], row["checks"], row["status"]) == (3, {"unique(user_id)": 0}, "running")


def test_a_committed_keyed_merge_counts_duplicates_from_the_rows_its_merge_read():
    merged = WriteResult(5, 0, source_rows=7, committed=True)
    assert reconcile_write("t", 10, None, merged, keyed=True) == (3, 2)
    with pytest.raises(ReconciliationError):
        reconcile_write("t", 6, None, merged, keyed=True)  # a merge cannot read more rows than were accepted


def test_a_keyed_write_that_committed_nothing_needs_the_batchs_distinct_keys():
    with pytest.raises(ValueError, match="distinct keys"):
        reconcile_write("t", 5, None, WriteResult(), keyed=True)
    assert reconcile_write("t", 5, 3, WriteResult(), keyed=True) == (2, 3)


def test_a_rows_duration_ends_when_its_table_finished_not_when_the_run_writes_the_log():
    finished = TableRun("run", "p", "t", "silver", "once", started=100.0, ended=103.25)
    assert finished.as_row()[6] == 3.25


def test_recorded_rows_read_back_exactly_as_the_runs_hold_them(spark, tmp_path):
    from datetime import datetime, timedelta, timezone

    from pyspark.sql import functions as F

    from medallion.engine.eventlog import record

    message = 'a "quoted", back\\slash, new\nline, ünïcode ✓ and \u2028'
    failed = TableRun(
        "r1",
        "fitness",
        "users",
        "silver",
        "once",
        started=1_700_000_000.123456,
        ended=1_700_000_002.5,
        rows_read=None,
        broken_rules={"id_present": 2},
        checks={"unique(user_id)": 0},
        status="failed",
        error=message,
        unread_files={"set 1/x.json": "empty"},
    )
    skipped = TableRun("r1", "fitness", "gym_logs", "silver", "once", started=1_700_000_003.0, ended=1_700_000_003.0)
    skipped.status, skipped.fingerprint = "skipped", '{"users": 3}'
    path = str(tmp_path / "event_log")

    assert record(spark, path, [failed, skipped]) == 0
    log = spark.read.format("delta").load(path)
    rows = {r["table"]: r.asDict() for r in log.withColumn("micros", F.unix_micros("started_at")).collect()}
    for run in (failed, skipped):
        row, expected = rows[run.table], run.as_recorded()
        started = expected.pop("started_at").replace(tzinfo=timezone.utc)
        assert row.pop("micros") == (started - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
        row.pop("started_at")
        assert row == expected
    assert rows["users"]["error"] == message and rows["users"]["rows_read"] is None
    assert rows["gym_logs"]["unread_files"] is None and rows["gym_logs"]["broken_rules"] == {}
