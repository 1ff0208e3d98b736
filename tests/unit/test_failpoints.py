"""Failpoints are off by default, fire on the N-th hit of a matching table, and crash hard."""

import subprocess
import sys

import pytest

from medallion.platform import failpoints
from medallion.platform.failpoints import CRASH_EXIT_CODE, Failpoint, FailpointError


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch):
    monkeypatch.delenv(failpoints.ENV_VAR, raising=False)
    failpoints.reset()


def test_parse_reads_name_table_count_and_action():
    assert failpoints.parse("after_sink_commit:users@2=raise, mid_merge") == [
        Failpoint("after_sink_commit", "users", 2, "raise"),
        Failpoint("mid_merge", None, 1, "crash"),
    ]


def test_an_unknown_failpoint_name_is_an_error_not_a_silent_no_op():
    with pytest.raises(ValueError, match="unknown failpoint 'after_sink'.*Known: after_bronze_commit"):
        failpoints.parse("after_sink")


def test_nothing_fires_without_the_environment_variable():
    assert failpoints.armed("after_sink_commit", "users") is None
    failpoints.hit("after_sink_commit", "users")  # returns: nothing armed


def test_fires_only_for_the_named_table_and_on_the_counted_hit(monkeypatch):
    monkeypatch.setenv(failpoints.ENV_VAR, "after_sink_commit:users@2")
    assert failpoints.armed("after_sink_commit", "gym_logs") is None
    assert failpoints.armed("between_writes", "users") is None
    assert failpoints.armed("after_sink_commit", "users") is None  # first hit
    assert failpoints.armed("after_sink_commit", "fitness.users") == Failpoint("after_sink_commit", "users", 2)
    assert failpoints.armed("after_sink_commit", "users") is None  # fires once


def test_raise_action_raises_a_failpoint_error(monkeypatch):
    monkeypatch.setenv(failpoints.ENV_VAR, "between_writes=raise")
    with pytest.raises(FailpointError, match="between_writes raised in users"):
        failpoints.hit("between_writes", "users")


def test_crash_ends_the_process_at_once_without_cleanup(tmp_path):
    marker = tmp_path / "finally-ran"
    script = (
        "from medallion.platform import failpoints\n"
        "try:\n"
        "    failpoints.hit('after_bronze_commit', 'registered_users_bz')\n"
        f"finally:\n    open({str(marker)!r}, 'w').write('cleanup ran')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**_env(), failpoints.ENV_VAR: "after_bronze_commit:registered_users_bz"},
    )
    assert done.returncode == CRASH_EXIT_CODE
    assert "failpoint after_bronze_commit hit in registered_users_bz" in done.stderr
    assert not marker.exists()


def _env():
    import os

    return dict(os.environ)


def test_the_jvm_is_found_as_the_nearest_java_ancestor_in_the_process_table(tmp_path):
    """A Python worker (400) under PySpark's daemon (300) under the JVM (200) under the driver (100)."""
    from medallion.platform.failpoints import java_ancestor

    for pid, parent, name in [(400, 300, "python3"), (300, 200, "python3 (x)"), (200, 100, "java"), (100, 1, "python")]:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({name}) S {parent} 1 1 0 -1\n")
        (tmp_path / str(pid) / "comm").write_text(name.split(" ")[0] + "\n")
    assert java_ancestor(400, proc=str(tmp_path)) == 200
    assert java_ancestor(100, proc=str(tmp_path)) is None


def test_a_spark_python_worker_finds_its_jvm(spark):
    """Inside a real job: the worker's nearest java ancestor is a running java process."""
    from medallion.platform.failpoints import java_ancestor

    found = spark.range(1).rdd.map(lambda _: java_ancestor(__import__("os").getpid())).collect()[0]
    assert found is not None
    with open(f"/proc/{found}/comm") as comm:
        assert comm.read().strip() == "java"


def test_reset_counts_hits_from_zero_as_a_new_process_would(monkeypatch):
    monkeypatch.setenv(failpoints.ENV_VAR, "between_writes:users@2=raise")
    assert failpoints.armed("between_writes", "users") is None  # the first hit
    failpoints.reset()
    assert failpoints.armed("between_writes", "users") is None  # the first again, not the second
    with pytest.raises(FailpointError, match="between_writes raised in users"):
        failpoints.hit("between_writes", "users")
