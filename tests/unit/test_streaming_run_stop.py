"""Stopping stream mode: every query stopped and the run lock released, and no stream failure lost."""

import pytest

from medallion.engine.streams import StreamingRun
from medallion.errors import MedallionError


class Query:
    """A streaming query as StreamingRun sees it: a name, its progress, its failure (None while healthy)."""

    def __init__(self, name: str):
        self.name, self.recentProgress, self.failure, self.stopped = name, [], None, False

    def exception(self):
        return self.failure

    def stop(self):
        self.stopped = True


class Lock:
    released = False

    def release(self):
        self.released = True


def streaming_run(*queries):
    return StreamingRun(context=None, queries=list(queries), views=[], lock=Lock())


def test_a_stream_that_failed_after_the_last_wait_is_raised_by_stop():
    users, workouts = Query("fitness.users"), Query("fitness.workouts")
    run = streaming_run(users, workouts)
    run.wait(1)  # looks once: nothing has failed yet
    workouts.failure = "Delta table changed under the stream"
    with pytest.raises(MedallionError, match="^fitness.workouts failed: Delta table changed under the stream$"):
        run.stop()
    assert users.stopped and workouts.stopped and run.lock.released


def test_a_failure_wait_raised_is_not_raised_again_by_stop():
    users = Query("fitness.users")
    users.failure = "boom"
    run = streaming_run(users)
    with pytest.raises(MedallionError, match="fitness.users failed: boom"):
        run.wait(5)
    run.stop()
    assert users.stopped and run.lock.released


def test_a_background_error_after_the_last_look_is_raised_by_stop_and_a_raised_one_is_not():
    run = streaming_run(Query("fitness.users"))
    run.errors.append(ValueError("view refresh failed"))
    with pytest.raises(ValueError, match="view refresh failed"):
        run.wait(5)
    run.errors.append(OSError("landing folder gone"))
    with pytest.raises(OSError, match="landing folder gone"):
        run.stop()
    assert run.lock.released


def test_a_query_that_cannot_be_stopped_neither_hides_a_stream_failure_nor_keeps_the_lock():
    class Stuck(Query):
        def stop(self):
            raise RuntimeError("stop timed out")

    stuck, users = Stuck("fitness.workouts"), Query("fitness.users")
    run = streaming_run(stuck, users)
    users.failure = "state store lost"
    with pytest.raises(MedallionError, match="fitness.users failed: state store lost"):
        run.stop()
    assert users.stopped and run.lock.released

    healthy = streaming_run(Stuck("fitness.workouts"))
    with pytest.raises(RuntimeError, match="stop timed out"):
        healthy.stop()
    assert healthy.lock.released
