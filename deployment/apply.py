"""Carry out a plan, in order: folders, uploads, jobs and their permissions, removals, then the state.

The state is written last, so an interrupted deploy leaves the previous state in place; the next deploy
finds the objects already there (jobs by name and tags, files by path) and completes the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from databricks.sdk.service import jobs

from deployment.plan import Change, Plan
from deployment.state import JobRecord
from deployment.workspace import Workspace

Progress = Callable[[str], None]

log = logging.getLogger(__name__)


def apply(
    ws: Workspace, plan: Plan, acl: list[jobs.JobAccessControlRequest], progress: Progress = log.info
) -> list[str]:
    """Perform every pending change; returns the folders kept because they hold objects not ours."""
    job_ids: dict[str, int] = {}
    kept = []
    for change in plan.pending:
        if change.kind == "state" and plan.new_state is not None:
            continue  # written last, once everything it records exists
        progress(f"  {change.action:<6} {change.kind:<11} {change.name}")
        if change.kind == "state":  # destroy: the state goes before the folders that hold it
            ws.delete(change.name)
        elif change.kind == "folder" and change.action == "create":
            ws.mkdirs(change.name)
        elif change.kind == "folder":  # delete: only if empty
            if not ws.delete(change.name):
                kept.append(change.name)
        elif change.kind in ("wheel", "notebook", "file"):
            if change.action == "delete":
                ws.delete(change.name)
            else:
                ws.upload(change.upload)
        elif change.kind == "folder-acl":
            ws.set_folder_acl(change.name, set(change.grants))
        elif change.kind == "job":
            job_ids[change.name] = _apply_job(ws, change)
        elif change.kind == "permissions":
            set_permissions(ws, change.job_id or job_ids[change.name], acl)
    _apply_state(ws, plan, job_ids)
    for folder in kept:
        progress(f"  kept folder {folder}: it holds objects this project did not create")
    return kept


def _apply_job(ws: Workspace, change: Change) -> int:
    if change.action == "create":
        return ws.create_job(change.job_settings)
    if change.action == "update":
        ws.reset_job(change.job_id, change.job_settings)
        if change.job_settings.continuous is not None:
            # a continuous job keeps running its old settings (and the old wheel) until its run ends:
            # cancelling the run makes the scheduler start a new one with what was just deployed
            ws.cancel_runs(change.job_id)
    else:
        ws.delete_job(change.job_id)
    return change.job_id


def set_permissions(ws: Workspace, job_id: int, acl: list[jobs.JobAccessControlRequest]) -> None:
    """Replace the job's direct grants with ``acl``, keeping its owner (a job must have exactly one)."""
    owners = []
    for entry in ws.job_acl(job_id).access_control_list or []:
        if any(
            p.permission_level == jobs.JobPermissionLevel.IS_OWNER and not p.inherited
            for p in entry.all_permissions or []
        ):
            owners.append(
                jobs.JobAccessControlRequest(
                    user_name=entry.user_name,
                    group_name=entry.group_name,
                    service_principal_name=entry.service_principal_name,
                    permission_level=jobs.JobPermissionLevel.IS_OWNER,
                )
            )
    ws.set_job_acl(job_id, owners + list(acl))


def _apply_state(ws: Workspace, plan: Plan, job_ids: dict[str, int]) -> None:
    state_changes = [c for c in plan.pending if c.kind == "state"]
    if not state_changes or plan.new_state is None:
        return
    for change in plan.pending:  # what we just wrote: its modification time, to see later hand edits
        if change.upload is not None:
            written = ws.status(change.name)
            if written is not None and written.modified_at is not None:
                plan.new_state.modified_at[change.name] = written.modified_at
    for name, job_id in job_ids.items():
        if name in plan.new_state.jobs:
            plan.new_state.jobs[name] = JobRecord(job_id, plan.new_state.jobs[name].settings_sha256)
    ws.write_state(plan.folder, plan.new_state)
