"""The health report: newest run per table, failing checks, a readable table."""

from datetime import datetime

from medallion.display import format_rows
from medallion.engine.eventlog import EVENT_LOG_SCHEMA, TableRun
from medallion.read.health import HEADER, PipelineHealth, last_runs, table_health


def test_last_runs_takes_the_newest_row_of_each_table_and_skips_crash_markers(spark):
    old = TableRun("r1", "fitness", "users", "silver", "once", started=1_000.0, rows_in=5)
    new = TableRun(
        "r2", "fitness", "users", "silver", "once", started=2_000.0, rows_in=0, status="failed", error="boom"
    )
    crash = TableRun("r3", "fitness", "*", "-", "once", started=3_000.0, status="crashed")
    other = TableRun("r4", "movies", "users", "silver", "once", started=4_000.0)
    log = spark.createDataFrame([r.as_row() for r in (old, new, crash, other)], EVENT_LOG_SCHEMA)
    last = last_runs(log, "fitness")
    assert list(last) == ["users"] and (last["users"]["run_id"], last["users"]["error"]) == ("r2", "boom")


def test_the_micro_batches_of_a_stream_mode_run_add_up_to_one_run(spark):
    earlier = TableRun(
        "r1", "fitness", "heart_rate", "silver", "once", started=500.0, rows_in=99, rows_inserted=99, status="ok"
    )
    batches = [
        TableRun(
            "r2",
            "fitness",
            "heart_rate",
            "silver",
            "stream",
            started=1_000.0 + i,
            rows_in=10,
            rows_inserted=8,
            rows_quarantined=2,
            status="ok",
        )
        for i in range(3)
    ]
    batches.append(
        TableRun(
            "r2", "fitness", "heart_rate", "silver", "stream", started=1_003.0, rows_in=4, rows_late=4, status="ok"
        )
    )
    batches[1].status, batches[1].error = "failed", "disk full"
    log = spark.createDataFrame([r.as_row() for r in (earlier, *batches)], EVENT_LOG_SCHEMA)
    run = last_runs(log, "fitness")["heart_rate"]
    assert (run["run_id"], run["rows_in"], run["rows_inserted"], run["rows_quarantined"], run["rows_late"]) == (
        "r2",
        34,
        24,
        6,
        4,
    )
    assert (run["status"], run["error"], run["started_at"]) == ("failed", "disk full", datetime(1970, 1, 1, 0, 16, 40))


def test_a_table_is_unhealthy_when_its_last_run_failed_or_a_check_fails():
    last = {
        "started_at": datetime(2024, 1, 1, 12),
        "status": "ok",
        "rows_in": 10,
        "rows_inserted": 7,
        "rows_updated": 1,
        "rows_quarantined": 2,
        "rows_late": 0,
        "rows_duplicate": 1,
        "checks": {"unique(user_id)": 0, "references users(user_id)": 3},
        "error": None,
    }
    health = table_health("silver", "user_profile", last, quarantine_total=4)
    assert health.as_list() == [
        "silver",
        "user_profile",
        "2024-01-01 12:00:00",
        "ok",
        10,
        8,
        2,
        0,
        1,
        4,
        "references users(user_id)",
        None,
    ]
    assert not health.healthy
    never = table_health("gold", "gym_summary", None)
    report = PipelineHealth("fitness", [health, never])
    assert report.summary() == "fitness: 1 table(s) need attention: user_profile"
    text = format_rows(HEADER, [t.as_list() for t in report.tables])
    assert text.splitlines()[3].startswith("gold    gym_summary   NULL") and "never run" in text


def _lock_of(settings, pid: int, host: str) -> None:
    import json

    from medallion.engine import runlock

    path = runlock.lock_path(settings, "fitness")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host, "run_id": "r9", "started": 0.0}))


def test_a_lock_whose_process_is_gone_is_not_reported_as_running(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    from types import SimpleNamespace

    from medallion.platform.config import load_settings
    from medallion.read.health import lock_holder

    runtime = SimpleNamespace(settings=load_settings("local", root=str(tmp_path)))
    assert lock_holder(runtime, "fitness") == (None, None)
    _lock_of(runtime.settings, os.getpid(), socket.gethostname())
    running, dead = lock_holder(runtime, "fitness")
    assert running.startswith(f"run r9 (pid {os.getpid()} on {socket.gethostname()}") and dead is None
    ended = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    _lock_of(runtime.settings, ended, socket.gethostname())
    running, dead = lock_holder(runtime, "fitness")
    assert running is None and dead.startswith(f"run r9 (pid {ended} on ")
    summary = PipelineHealth("fitness", [], running, None, dead).summary().splitlines()
    assert summary[1].startswith(f"not running: run r9 (pid {ended} on ") and "running now" not in summary[0]
    assert summary[1].endswith(
        "ended without finishing (its process is gone); the next run takes its lock over "
        "and resumes from the checkpoints"
    )
