"""Two runs of one pipeline at once: one stops with a clear message before touching anything (the run
lock); and even without the lock, Delta's optimistic concurrency never lets one batch in twice."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from medallion import io
from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import InsertOnly, Layer
from medallion.engine.runner import CONCURRENT_WRITE_ERRORS
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime
from tests.integration.reliability import faults
from tests.integration.reliability.conftest import child_env, prepared_root


def test_two_concurrent_runs_one_succeeds_the_other_stops_with_a_clear_message(clean_run, conf_dir, tmp_path):
    root = prepared_root(clean_run, tmp_path / "lakehouse")
    command = [
        sys.executable,
        "-m",
        "medallion",
        "run",
        "fitness",
        "--table",
        "registered_users_bz",
        "--env",
        "test",
        "--root",
        str(root),
    ]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(conf_dir))
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=400) for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes) == [0, 1], outputs  # 1: a runtime failure (2 is for usage errors)
    _, refused = outputs[codes.index(1)]
    assert "error: Pipeline 'fitness' is already running: run " in refused
    assert "Wait for it to finish (`medallion runs fitness`)" in refused
    assert "Traceback" not in refused
    runtime = Runtime(load_settings("local", root=str(root)), spark=clean_run.runtime.spark)
    table = get_pipeline("fitness").get("registered_users_bz")
    written = faults.table_rows(runtime.spark, runtime.location("fitness", table.layer, table.name).path)
    assert written == clean_run.rows["registered_users_bz"]  # 8 rows, none twice


def race(*writes):
    """Start the writes at the same instant in threads; returns what each raised (None when it committed)."""
    barrier = threading.Barrier(len(writes))
    outcomes = [None] * len(writes)

    def attempt(i, write):
        barrier.wait()
        try:
            write()
        except Exception as err:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = err

    threads = [threading.Thread(target=attempt, args=(i, w)) for i, w in enumerate(writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def assert_only_concurrency_conflicts(outcomes):
    assert any(outcome is None for outcome in outcomes)
    for outcome in outcomes:
        assert outcome is None or any(name in str(outcome) for name in CONCURRENT_WRITE_ERRORS), outcome


@pytest.mark.parametrize("attempt", range(2))
def test_without_the_lock_concurrent_writes_of_one_batch_commit_it_once(make_runtime, attempt):
    runtime = make_runtime()
    spark = runtime.spark
    batch = spark.createDataFrame([(k, f"v{k}") for k in range(20)], "k INT, v STRING")
    merged = runtime.location("race", Layer.SILVER, "merged")
    io.create_if_missing(spark, merged, batch.schema)
    appended = runtime.settings.path("race", "appended")

    assert_only_concurrency_conflicts(
        race(
            lambda: io.write(batch, merged, InsertOnly(("k",)), "race.merged", 0),
            lambda: io.write(batch, merged, InsertOnly(("k",)), "race.merged", 0),
        )
    )
    assert_only_concurrency_conflicts(
        race(
            lambda: io.append_rows(batch, appended, "race.appended", 0),
            lambda: io.append_rows(batch, appended, "race.appended", 0),
        )
    )
    for path in (merged.path, appended):
        assert spark.read.format("delta").load(path).groupBy("k").count().where("count > 1").count() == 0
        assert spark.read.format("delta").load(path).count() == 20
