"""The run lock: one run per pipeline, a clear message for the second, stale locks of crashed runs taken over."""

import json
import os
import subprocess
import sys

import pytest

from medallion.engine import runlock
from medallion.engine.runlock import ConcurrentRunError
from medallion.platform.config import load_settings


@pytest.fixture
def settings(tmp_path):
    return load_settings("local", root=str(tmp_path))


def test_second_run_of_the_same_pipeline_stops_with_the_holder_named(settings):
    with runlock.hold(settings, "fitness", "run-a"):
        with pytest.raises(ConcurrentRunError) as raised:
            runlock.acquire(settings, "fitness", "run-b")
    message = str(raised.value)
    assert "Pipeline 'fitness' is already running: run run-a (pid " in message
    assert str(runlock.lock_path(settings, "fitness")) in message
    assert not runlock.lock_path(settings, "fitness").exists()  # released on exit


def test_other_pipelines_are_not_blocked(settings):
    with runlock.hold(settings, "fitness", "run-a"), runlock.hold(settings, "movies", "run-b") as other:
        assert other.owner.run_id == "run-b"


def test_a_lock_left_by_a_dead_process_is_taken_over_and_reported(settings):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = runlock.lock_path(settings, "fitness")
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"pid": int(dead.stdout), "host": os.uname().nodename, "run_id": "crashed-run", "started": 1.0})
    )
    lock = runlock.acquire(settings, "fitness", "run-b")
    assert lock.replaced.run_id == "crashed-run"
    assert runlock.read_owner(path).run_id == "run-b"
    lock.release()
    assert not path.exists()


def test_a_lock_of_a_live_process_on_another_host_is_never_stolen(settings):
    path = runlock.lock_path(settings, "fitness")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"pid": 1, "host": "another-host", "run_id": "remote", "started": 1.0}))
    with pytest.raises(ConcurrentRunError, match="run remote \\(pid 1 on another-host"):
        runlock.acquire(settings, "fitness", "run-b")


def test_release_leaves_a_lock_that_another_run_owns(settings):
    lock = runlock.acquire(settings, "fitness", "run-a")
    path = runlock.lock_path(settings, "fitness")
    path.write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "run_id": "run-z", "started": 1.0}))
    lock.release()
    assert runlock.read_owner(path).run_id == "run-z"


def test_databricks_uses_job_concurrency_instead_of_a_lock_file(tmp_path):
    settings = load_settings("dev")
    assert runlock.lock_path(settings, "fitness") is None
    assert runlock.acquire(settings, "fitness", "run-a").path is None
