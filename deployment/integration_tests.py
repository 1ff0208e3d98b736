"""``medallion deploy --env qa --run-tests``: run the deployed integration-tests job and wait for it.

Each task runs notebook 08-batch-test for one pipeline. Every run gets an id of its own (job parameter
``test_run``): the notebook then writes to a storage root and schemas named by it, never to the tables the
scheduled jobs write, and removes them when it ends, so the tests pass any number of times in a row and
alongside the scheduled jobs. A failed task's error (the failing assertion) and the tail of its trace are
printed, and the command exits 1, so a CI stage fails with the reason in its log.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from deployment.jobs import TEST_RUN_PARAMETER
from deployment.settings import DeploymentSettings
from deployment.workspace import Workspace
from medallion.errors import MedallionError

STILL_WAITING_EVERY_S = 60
TERMINAL = {jobs.RunLifeCycleState.TERMINATED, jobs.RunLifeCycleState.SKIPPED, jobs.RunLifeCycleState.INTERNAL_ERROR}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskOutcome:
    task: str
    result: str
    error: str = ""
    trace: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "SUCCESS"


def run_integration_tests(
    client: WorkspaceClient,
    settings: DeploymentSettings,
    poll_seconds: float = 15.0,
    progress: Callable[[str], None] = log.info,
) -> list[TaskOutcome]:
    job = Workspace(client).find_job(settings.tests_job_name)
    if job is None:
        raise MedallionError(
            f"{settings.tests_job_name} is not deployed: set deployment.integration_tests: true in conf/{settings.env}.yml "
            f"and run `medallion deploy --env {settings.env}` first."
        )
    test_run = new_test_run_id()
    run_id = client.jobs.run_now(job_id=job.job_id, job_parameters={TEST_RUN_PARAMETER: test_run}).run_id
    progress(
        f"{settings.tests_job_name}: run {run_id} started (test run {test_run}: storage "
        f"{settings.storage_root}/_test_runs/{test_run} and schemas *_{test_run}, removed when it ends)"
    )
    run = _wait(client, run_id, settings.test_timeout_minutes * 60, poll_seconds, progress)
    if run.run_page_url:
        progress(f"run page: {run.run_page_url}")
    return [_outcome(client, task) for task in run.tasks or []] or [
        TaskOutcome("(run)", _result(run), run.state.state_message if run.state else "")
    ]


def new_test_run_id() -> str:
    """``t<UTC time><random>``: unique per run, sortable, and valid in a path and a schema name."""
    return f"t{datetime.now(timezone.utc):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


def report(outcomes: list[TaskOutcome], progress: Callable[[str], None] = log.info) -> int:
    for outcome in outcomes:
        if outcome.passed:
            progress(f"PASSED {outcome.task}")
            continue
        progress(f"FAILED {outcome.task} ({outcome.result}): {outcome.error or 'no error message'}")
        if outcome.trace:
            progress("\n".join("    " + line for line in outcome.trace.strip().splitlines()[-15:]))
    failed = [o for o in outcomes if not o.passed]
    progress(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _wait(client: WorkspaceClient, run_id: int, timeout_s: float, poll_seconds: float, progress) -> jobs.Run:
    started = time.monotonic()
    deadline = started + timeout_s
    last_state, last_said = None, started
    while True:
        run = client.jobs.get_run(run_id)
        state = run.state.life_cycle_state if run.state else None
        now = time.monotonic()
        if state != last_state:
            progress(f"  {state.value if state else 'unknown'}")
            last_state, last_said = state, now
        elif now - last_said >= STILL_WAITING_EVERY_S:  # a line now and then, so CI never looks hung
            progress(f"  still {state.value if state else 'unknown'} after {(now - started) / 60:.0f} min")
            last_said = now
        if state in TERMINAL:
            return run
        if time.monotonic() > deadline:
            client.jobs.cancel_run(run_id)
            raise MedallionError(f"Test run {run_id} did not finish within {timeout_s / 60:.0f} minutes; cancelled it.")
        time.sleep(poll_seconds)


def _outcome(client: WorkspaceClient, task: jobs.RunTask) -> TaskOutcome:
    result = _result(task)
    if result == "SUCCESS":
        return TaskOutcome(task.task_key, result)
    output = client.jobs.get_run_output(task.run_id)
    message = output.error or (task.state.state_message if task.state else "") or ""
    return TaskOutcome(task.task_key, result, message, output.error_trace or "")


def _result(run) -> str:
    state = run.state
    if state and state.result_state:
        return state.result_state.value
    return state.life_cycle_state.value if state and state.life_cycle_state else "UNKNOWN"
