"""Each table's last run: the cache beside the event log answers only while the log is at the version it was
written for; otherwise (or when it is missing or damaged) the event log's query answers.

Each test runs twice: the file read and written on the driver's disk (a classic session on local storage),
and through Spark (a Spark Connect session, or cloud storage)."""

import pytest

from medallion import sessions
from medallion.engine import eventlog, last_runs
from medallion.engine.eventlog import RecordedRun, TableRun


@pytest.fixture(autouse=True, params=["driver disk", "through spark"])
def file_access(request, monkeypatch, spark, tmp_path) -> str:
    if request.param == "through spark":
        monkeypatch.setattr(sessions, "driver_disk_path", lambda spark, path: None)
    else:  # the tests' classic session on local storage: the file really is on the disk
        assert sessions.driver_disk_path(spark, "file:" + str(tmp_path)) == str(tmp_path)
    return request.param


def table_run(table: str, fingerprint: str | None, status: str = "ok", started: float = 1_700_000_000.0) -> TableRun:
    run = TableRun("run", "toy", table, "silver", "once", started=started, status=status)
    run.fingerprint = fingerprint
    run.unread_files = {"late.csv": "re-landed"} if table == "orders" else None
    return run


def test_a_run_leaves_what_the_log_would_answer_and_the_next_run_reads_it_without_the_log(spark, tmp_path):
    log, cache = str(tmp_path / "event_log"), str(tmp_path / "last_runs" / "toy")
    first = [table_run("orders", "f1"), table_run("users", "u1")]
    committed = eventlog.record(spark, log, first)
    last_runs.write(spark, cache, committed, {}, first)
    expected = {"orders": RecordedRun("f1", {"late.csv": "re-landed"}), "users": RecordedRun("u1", None)}
    assert eventlog.fingerprints(spark, log, "toy") == expected
    assert last_runs.read(spark, cache, log, committed, "toy") == expected

    # A second run: a failed table keeps its last successful fingerprint, a skipped one its own.
    second = [
        table_run("orders", None, "failed", 1_700_000_100.0),
        table_run("users", "u2", "skipped", 1_700_000_100.0),
    ]
    committed = eventlog.record(spark, log, second)
    last_runs.write(spark, cache, committed, expected, second)
    now = {"orders": RecordedRun("f1", {"late.csv": "re-landed"}), "users": RecordedRun("u2", None)}
    assert eventlog.fingerprints(spark, log, "toy") == now
    assert last_runs.read(spark, cache, log, committed, "toy") == now

    # The file is what answers while the log is at its version: a file saying otherwise is believed.
    last_runs.write(spark, cache, committed, {"orders": RecordedRun("cached", None)}, [])
    assert last_runs.read(spark, cache, log, committed, "toy") == {"orders": RecordedRun("cached", None)}


def test_a_log_written_since_the_file_or_a_missing_or_damaged_file_is_answered_by_the_log(spark, tmp_path):
    log, cache = str(tmp_path / "event_log"), str(tmp_path / "last_runs" / "toy")
    assert last_runs.read(spark, cache, log, -1, "toy") == {}  # no log yet: nothing ran
    committed = eventlog.record(spark, log, [table_run("orders", "f1")])
    assert last_runs.read(spark, cache, log, committed, "toy") == {
        "orders": RecordedRun("f1", {"late.csv": "re-landed"})
    }

    last_runs.write(spark, cache, committed, {"orders": RecordedRun("stale", None)}, [])
    # A run that committed its rows but ended before writing the file: the log moved on, the file is stale.
    moved = eventlog.record(spark, log, [table_run("orders", "f2", started=1_700_000_100.0)])
    assert moved == committed + 1
    assert last_runs.read(spark, cache, log, moved, "toy") == {"orders": RecordedRun("f2", {"late.csv": "re-landed"})}

    spark.createDataFrame([("{not json",)], "value STRING").write.mode("overwrite").text(cache)
    assert last_runs.read(spark, cache, log, moved, "toy") == {"orders": RecordedRun("f2", {"late.csv": "re-landed"})}


def test_a_file_written_one_way_is_read_the_other_and_replaced_whole(spark, tmp_path, monkeypatch, file_access):
    log, cache = str(tmp_path / "event_log"), str(tmp_path / "last_runs" / "toy")
    committed = eventlog.record(spark, log, [table_run("orders", "f1")])
    last_runs.write(spark, cache, committed, {"orders": RecordedRun("cached", None)}, [])
    if file_access == "through spark":
        monkeypatch.undo()
    else:
        monkeypatch.setattr(sessions, "driver_disk_path", lambda spark, path: None)
    assert last_runs.read(spark, cache, log, committed, "toy") == {"orders": RecordedRun("cached", None)}
    last_runs.write(spark, cache, committed, {"orders": RecordedRun("again", None)}, [])  # over the other's file
    assert last_runs.read(spark, cache, log, committed, "toy") == {"orders": RecordedRun("again", None)}
