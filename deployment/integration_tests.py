"""``medallion deploy --env qa --run-tests``: run the deployed integration-tests job and wait for it.

Each task runs notebook 08-batch-test for one pipeline. A failed task's error (the failing assertion)
and the tail of its trace are printed, and the command exits non-zero, so a CI stage fails with the
reason in its log.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from deployment.settings import DeploymentSettings
from deployment.workspace import Workspace
from medallion.errors import MedallionError

TERMINAL = {jobs.RunLifeCycleState.TERMINATED, jobs.RunLifeCycleState.SKIPPED, jobs.RunLifeCycleState.INTERNAL_ERROR}


@dataclass(frozen=True)
class TaskOutcome:
    task: str
    result: str
    error: str = ""
    trace: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "SUCCESS"


def run_integration_tests(client: WorkspaceClient, settings: DeploymentSettings, poll_seconds: float = 15.0,
                          progress: Callable[[str], None] = print) -> list[TaskOutcome]:
    job = Workspace(client).find_job(settings.tests_job_name)
    if job is None:
        raise MedallionError(
            f"{settings.tests_job_name} is not deployed: set deployment.integration_tests: true in conf/{settings.env}.yml "
            f"and run `medallion deploy --env {settings.env}` first.")
    run_id = client.jobs.run_now(job_id=job.job_id).run_id
    progress(f"{settings.tests_job_name}: run {run_id} started")
    run = _wait(client, run_id, settings.test_timeout_minutes * 60, poll_seconds, progress)
    if run.run_page_url:
        progress(f"run page: {run.run_page_url}")
    return [_outcome(client, task) for task in run.tasks or []] or [
        TaskOutcome("(run)", _result(run), run.state.state_message if run.state else "")]


def report(outcomes: list[TaskOutcome], progress: Callable[[str], None] = print) -> int:
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
    deadline = time.monotonic() + timeout_s
    last_state = None
    while True:
        run = client.jobs.get_run(run_id)
        state = run.state.life_cycle_state if run.state else None
        if state != last_state:
            progress(f"  {state.value if state else 'unknown'}")
            last_state = state
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
