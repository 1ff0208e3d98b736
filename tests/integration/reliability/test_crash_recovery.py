"""Crash safety, end to end: each failpoint kills a real `medallion run` (a process of its own with its own
JVM), a plain restart carries on, and the final tables equal those of a clean run row for row.

The chain, on one storage root with set A landed (steps 1 to 4 each a new process, ended by its crash;
steps 5 and 6 end normally, so they run `medallion` in this process, on the test session's JVM):
1. crash after kafka_multiplex_bz committed (bronze done, silver not started);
2. crash between the quarantine write and the table write of the users batch;
3. SIGKILL of driver and JVM while the user_profile MERGE runs (nothing of it committed);
4. crash after a completed_workouts batch (a stream-stream join) committed but before its streaming
   checkpoint did;
5. an unexpected error (a raising failpoint) in gym_summary: the error path;
6. a plain restart, reading the key from a secrets file referenced by config → identical to the clean run.

The tokenisation key of every run is a canary; no output, log, table or commit of any step may hold it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine.personal_data import token
from medallion.platform.config import load_settings
from medallion.platform.failpoints import CRASH_EXIT_CODE
from medallion.platform.runtime import Runtime
from tests.integration.reliability import faults
from tests.integration.reliability.conftest import CANARY, SUITE_OVERRIDES, medallion, medallion_here, prepared_root

FITNESS = get_pipeline("fitness")
FAILPOINTS = "MEDALLION_FAILPOINTS"


@pytest.fixture(scope="module")
def chain(clean_run, conf_dir, canary_secrets_file, tmp_path_factory):
    """Runs the six steps; returns the root, the runtime reading it and every finished child process,
    with what each step left behind (read between the steps)."""
    root = prepared_root(clean_run, tmp_path_factory.mktemp("crash"))
    (conf_dir / "testfile.yml").write_text(
        yaml.safe_dump(
            {
                "runtime": "local",
                "spark": {"shuffle_partitions": 2},
                "secrets": {"provider": "file", "file": str(canary_secrets_file)},
                **SUITE_OVERRIDES,
            }
        )
    )
    runtime = Runtime(load_settings("local", root=str(root)), spark=clean_run.runtime.spark)
    steps, seen = {}, {}

    def step(name, failpoint=None, env="test", in_a_process_of_its_own=True):
        extra = {FAILPOINTS: failpoint} if failpoint else {}
        command = medallion if in_a_process_of_its_own else medallion_here
        steps[name] = command(conf_dir, root, "run", "fitness", env=env, **extra)
        seen[name] = {t.name: _count(runtime, t.name) for t in FITNESS.ordered()}
        seen[name]["users quarantined"] = _quarantined(runtime, "users")
        seen[name]["user_profile versions"] = _versions(runtime, "user_profile")
        joined = FITNESS.get("completed_workouts")
        seen[name]["completed_workouts commits"] = sorted(
            p.name
            for p in Path(runtime.location("fitness", joined.layer, joined.name).checkpoint, "commits").glob("[0-9]*")
        )

    step("after_bronze_commit", "after_bronze_commit:kafka_multiplex_bz")
    step("between_writes", "between_writes:users")
    step("mid_merge", "mid_merge:user_profile")
    step("after_sink_commit", "after_sink_commit:completed_workouts")
    step("error", "after_sink_commit:gym_summary=raise", in_a_process_of_its_own=False)
    step("restart", env="testfile", in_a_process_of_its_own=False)
    return root, runtime, steps, seen


def _count(runtime, table):
    declared = FITNESS.get(table)
    return runtime.spark.read.format("delta").load(runtime.location("fitness", declared.layer, table).path).count()


def _quarantined(runtime, table):
    path = runtime.quarantine_path("fitness")
    from medallion.io import table_exists

    if not table_exists(runtime.spark, path):
        return 0
    return runtime.spark.read.format("delta").load(path).where(F.col("table") == table).count()


def _versions(runtime, table):
    declared = FITNESS.get(table)
    return sorted(
        p.stem for p in Path(runtime.location("fitness", declared.layer, table).path, "_delta_log").glob("*.json")
    )


def test_crash_after_a_bronze_commit(chain):
    _, _, steps, seen = chain
    crashed = steps["after_bronze_commit"]
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-3000:]
    assert "failpoint after_bronze_commit hit in kafka_multiplex_bz" in crashed.stderr
    assert (seen["after_bronze_commit"]["kafka_multiplex_bz"], seen["after_bronze_commit"]["users"]) == (438, 0)


def test_crash_between_the_two_writes_of_one_batch(chain):
    _, _, steps, seen = chain
    crashed = steps["between_writes"]
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-3000:]
    assert "the previous run" in crashed.stderr and "crashed; resuming from its checkpoints" in crashed.stderr
    assert (seen["between_writes"]["users quarantined"], seen["between_writes"]["users"]) == (1, 0)


def test_kill_in_the_middle_of_a_merge_commits_nothing_of_it(chain):
    _, _, steps, seen = chain
    killed = steps["mid_merge"]
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert "failpoint mid_merge armed in fitness.user_profile: its Spark job will kill driver" in killed.stderr
    assert seen["mid_merge"]["user_profile"] == 0
    assert seen["mid_merge"]["user_profile versions"] == ["00000000000000000000"]  # only the empty table
    assert (seen["mid_merge"]["users"], seen["mid_merge"]["users quarantined"]) == (5, 1)  # the replay added nothing


def test_crash_after_the_sink_commit_before_the_checkpoint(chain):
    _, _, steps, seen = chain
    crashed = steps["after_sink_commit"]
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-3000:]
    assert seen["after_sink_commit"]["completed_workouts"] == 8
    assert seen["after_sink_commit"]["completed_workouts commits"] == []  # the batch is written, its commit is not
    assert seen["restart"]["completed_workouts"] == 8  # replayed on restart with the join's state, written once
    assert seen["restart"]["workout_bpm"] == 390


def test_an_unexpected_error_stops_the_run_and_is_recorded(chain):
    _, runtime, steps, _ = chain
    failed = steps["error"]
    assert failed.returncode == 1
    assert "FailpointError: failpoint after_sink_commit raised in gym_summary" in failed.stderr
    log = runtime.spark.read.format("delta").load(runtime.system_path("event_log"))
    row = log.where("table = 'gym_summary' AND status = 'failed'").first()
    assert row["error"] == "FailpointError: failpoint after_sink_commit raised in gym_summary"


def test_a_plain_restart_ends_in_exactly_the_tables_of_a_clean_run(chain, clean_run):
    root, runtime, steps, _ = chain
    restart = steps["restart"]
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert faults.lakehouse_rows(runtime, FITNESS) == clean_run.rows
    assert not Path(root, "_system", "locks", "fitness.lock").exists()


def test_every_crash_is_in_the_event_log(chain):
    _, runtime, _, _ = chain
    log = runtime.spark.read.format("delta").load(runtime.system_path("event_log"))
    assert log.where("status = 'crashed'").count() == 4  # steps 1-4; the error of step 5 released its lock


def test_the_canary_secret_appears_nowhere(chain, clean_run):
    root, runtime, steps, _ = chain
    tokens = {
        r["mac_address"]
        for r in runtime.spark.read.format("delta")
        .load(runtime.location("fitness", FITNESS.get("users").layer, "users").path)
        .collect()
    }
    assert token("4c:c5:9f:cb:13:bd", CANARY.encode()) in tokens  # the canary really was the key
    for name, process in steps.items():
        assert CANARY not in process.stdout and CANARY not in process.stderr, name
    for lakehouse in (root, Path(clean_run.runtime.settings.root)):
        leaks = [str(p) for p in Path(lakehouse).rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
        assert leaks == []
        scanned = Runtime(load_settings("local", root=str(lakehouse)), spark=runtime.spark)
        for path in _delta_tables(Path(lakehouse)):
            frame = scanned.spark.read.format("delta").load(str(path))
            texts = [F.col(c).cast("string") for c in frame.columns]
            assert frame.where(F.concat_ws("|", *texts).contains(CANARY)).count() == 0, path
            history = scanned.spark.sql(f"DESCRIBE HISTORY delta.`{path}`").toJSON().collect()
            assert not any(CANARY in json.dumps(entry) for entry in history), path


def _delta_tables(root: Path) -> list[Path]:
    return sorted(log.parent for log in root.rglob("_delta_log") if log.is_dir())
