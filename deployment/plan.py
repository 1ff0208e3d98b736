"""The plan: what a deploy (or destroy) would create, change or remove, computed before anything is
written. ``--plan`` prints it; apply performs exactly it. Nothing outside the environment's workspace
folder and this project's jobs ever appears in a plan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from databricks.sdk.service import jobs

from deployment.artifacts import Artifacts, Upload
from deployment.settings import DeploymentSettings
from deployment.state import STATE_FILE, DeploymentState, JobRecord, settings_hash
from deployment.workspace import RemoteJob, Workspace
from medallion.errors import MedallionError

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "keep": "="}
LIST_KEYS = ("task_key", "job_cluster_key", "name")


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | keep
    kind: str  # folder | wheel | notebook | file | job | permissions | state
    name: str  # workspace path or job name
    detail: str = ""
    upload: Upload | None = None
    job_settings: jobs.JobSettings | None = None
    job_id: int | None = None
    grants: frozenset | None = None  # folder permissions: (kind, principal, level)


@dataclass
class Plan:
    env: str
    host: str
    folder: str
    changes: list[Change] = field(default_factory=list)
    new_state: DeploymentState | None = None  # None: the state file goes (destroy)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "keep"]

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def render(self, title: str = "Deployment plan", nothing: str | None = None) -> str:
        """Terraform-like: one line per change, paths relative to the deployment folder."""
        lines = [f"{title} for {self.env}: {self.host}, folder {self.folder}"]
        width = max((len(self._shown(c.name)) for c in self.pending), default=0)
        for change in self.pending:
            detail = f"  {change.detail}" if change.detail else ""
            lines.append(
                f"  {SYMBOLS[change.action]} {change.kind:<12} {self._shown(change.name):<{width}}{detail}".rstrip()
            )
        kept = [c for c in self.changes if c.action == "keep"]
        for change in kept:
            if change.detail:  # something deliberately left alone: say why
                lines.append(f"  = {change.kind:<12} {self._shown(change.name)}  {change.detail}")
        if not self.pending:
            lines.append(
                nothing
                or f"No changes: {self.env} already matches this checkout and conf/{self.env}.yml "
                f"({len(self.changes)} objects checked)."
            )
        else:
            lines.append(
                f"{self.count('create')} to create, {self.count('update')} to change, "
                f"{self.count('delete')} to remove, {len(kept)} unchanged."
            )
        return "\n".join(lines)

    def _shown(self, name: str) -> str:
        return name[len(self.folder) + 1 :] if name.startswith(self.folder + "/") else name


# ------------------------------------------------------------------------------------------------ deploy
def plan_deploy(
    ws: Workspace,
    settings: DeploymentSettings,
    artifacts: Artifacts,
    wanted: dict[str, jobs.JobSettings],
    acl: list[jobs.JobAccessControlRequest],
) -> Plan:
    folder = settings.workspace_folder
    existing = ws.read_state(folder, settings.env)
    old = existing or DeploymentState(settings.env)
    new = DeploymentState(settings.env)
    plan = Plan(settings.env, settings.host or "(host from the environment)", folder, new_state=new)

    wanted_folders = _folders(folder, artifacts)
    for path in wanted_folders:
        if ws.status(path) is None:
            plan.changes.append(Change("create", "folder", path))
            new.folders.append(path)
        elif path in old.folders:
            new.folders.append(path)

    plan.changes.append(_folder_acl_change(ws, settings, folder))

    listings: dict[str, dict] = {}
    for upload in artifacts.uploads:
        parent = upload.remote.rsplit("/", 1)[0]
        if parent not in listings:
            listings[parent] = ws.listing(parent)
        new.uploads[upload.remote] = upload.sha256
        remote = listings[parent].get(upload.remote)
        if remote is None:
            plan.changes.append(Change("create", upload.kind, upload.remote, upload=upload))
        elif old.uploads.get(upload.remote) == upload.sha256 and _edited_by_hand(old, upload.remote, remote):
            plan.changes.append(
                Change(
                    "update",
                    upload.kind,
                    upload.remote,
                    "edited in the workspace since the last deploy: put back",
                    upload=upload,
                )
            )
        elif old.uploads.get(upload.remote) == upload.sha256:
            plan.changes.append(Change("keep", upload.kind, upload.remote))
            if remote.modified_at is not None:
                new.modified_at[upload.remote] = remote.modified_at
        else:
            why = "content changed" if upload.remote in old.uploads else "not recorded as deployed: replaced"
            plan.changes.append(Change("update", upload.kind, upload.remote, why, upload=upload))

    for name, job_settings in wanted.items():
        plan.changes.extend(_job_changes(ws, settings, name, job_settings, old, new, acl))

    for name, record in sorted(old.jobs.items()):
        if name not in wanted:
            remote = ws.get_job(record.job_id)
            if remote is not None and _ours(remote, settings):
                plan.changes.append(Change("delete", "job", name, "no longer in conf", job_id=record.job_id))
    for path in sorted(set(old.uploads) - set(new.uploads)):
        if ws.status(path) is not None:
            plan.changes.append(Change("delete", _kind_of(path), path, "no longer part of the deployment"))
    for path in sorted(set(old.folders) - set(wanted_folders), key=lambda p: -p.count("/")):
        plan.changes.append(Change("delete", "folder", path, "if empty"))

    state_path = f"{folder}/{STATE_FILE}"
    before = existing.to_json() if existing else None
    if plan.pending or before != new.to_json():
        plan.changes.append(Change("create" if before is None else "update", "state", state_path))
    return plan


def folder_grants(settings: DeploymentSettings, deployer: str) -> frozenset:
    """Who may do what in the deployment folder: the deploying identity manages it, the job principal and
    the reader groups of conf (engineers, in qa and prod) read it; nobody else edits what the jobs run."""
    grants = {(_kind_of_principal(deployer), deployer, "CAN_MANAGE")}
    if settings.job_principal and settings.job_principal != deployer:
        grants.add(("service_principal", settings.job_principal, "CAN_READ"))
    grants.update(("group", group, "CAN_READ") for group in settings.folder_readers)
    return frozenset(grants)


def _kind_of_principal(name: str) -> str:
    """A service principal signs in with its application id (a UUID); a person with an e-mail address."""
    return "service_principal" if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", name) else "user"


def _folder_acl_change(ws: Workspace, settings: DeploymentSettings, folder: str) -> Change:
    # the configured deployer, not the signed-in identity: a plan made by a read-only identity for approval
    # must be the plan the deployer applies
    wanted = folder_grants(settings, settings.deployer or ws.current_user())
    current = ws.folder_acl(folder)
    if current == wanted:
        return Change("keep", "folder-acl", folder, grants=wanted)
    added = [f"+{k} {p} {lvl}" for k, p, lvl in sorted(wanted - current)]
    removed = [f"-{k} {p} {lvl}" for k, p, lvl in sorted(current - wanted)]
    return Change(
        "create" if not current else "update", "folder-acl", folder, ", ".join(added + removed), grants=wanted
    )


def _edited_by_hand(old: DeploymentState, path: str, remote) -> bool:
    """The content hash in the state says what we wrote, not what is there now: the object's modification
    time, recorded right after the deploy wrote it, tells whether someone changed it since."""
    recorded = old.modified_at.get(path)
    return recorded is not None and remote.modified_at is not None and remote.modified_at != recorded


def _job_changes(ws, settings, name, job_settings, old, new, acl) -> list[Change]:
    desired = job_settings.as_dict()
    digest = settings_hash(desired)
    remote = ws.find_job(name)
    if remote is None:
        new.jobs[name] = JobRecord(0, digest)  # the id is known once created
        changes = [Change("create", "job", name, _job_summary(job_settings), job_settings=job_settings)]
        if acl:
            changes.append(Change("create", "permissions", name, _acl_text(acl)))
        return changes
    if not _ours(remote, settings):
        raise MedallionError(
            f"A job named {name!r} (id {remote.job_id}) exists but this project did not create it "
            f"(it lacks the tags {settings.tags}). Rename or delete it, then deploy again."
        )
    new.jobs[name] = JobRecord(remote.job_id, digest)
    differences = diff(desired, remote.settings)
    record = old.jobs.get(name)
    if not differences and record is not None and record.settings_sha256 != digest:
        differences = ["settings removed since the last deploy"]
    restart = "; its stream is restarted" if differences and job_settings.continuous is not None else ""
    changes = [
        Change(
            "update" if differences else "keep",
            "job",
            name,
            ", ".join(differences[:6]) + (f" (+{len(differences) - 6} more)" if len(differences) > 6 else "") + restart,
            job_settings=job_settings,
            job_id=remote.job_id,
        )
    ]
    changes.append(_acl_change(ws, name, remote.job_id, acl))
    return changes


def _acl_change(ws: Workspace, name: str, job_id: int, acl) -> Change:
    current = direct_grants(ws.job_acl(job_id))
    wanted = {(_principal(e), e.permission_level.value) for e in acl}
    if current == wanted:
        return Change("keep", "permissions", name, job_id=job_id)
    added = [f"+{p[0]} {p[1]} {lvl}" for p, lvl in sorted(wanted - current)]
    removed = [f"-{p[0]} {p[1]} {lvl}" for p, lvl in sorted(current - wanted)]
    return Change("update", "permissions", name, ", ".join(added + removed), job_id=job_id)


def direct_grants(permissions: jobs.JobPermissions) -> set:
    """(principal, level) granted on the job itself: not inherited, not the owner (kept as it is)."""
    granted = set()
    for entry in permissions.access_control_list or []:
        for permission in entry.all_permissions or []:
            level = permission.permission_level.value if permission.permission_level else None
            if not permission.inherited and level != "IS_OWNER":
                granted.add((_principal(entry), level))
    return granted


def _principal(entry) -> tuple[str, str]:
    for kind in ("group_name", "service_principal_name", "user_name"):
        if getattr(entry, kind, None):
            return kind.replace("_name", ""), getattr(entry, kind)
    return "unknown", ""


def _acl_text(acl) -> str:
    return ", ".join(f"group {e.group_name} {e.permission_level.value}" for e in acl)


def _job_summary(settings: jobs.JobSettings) -> str:
    tasks = " → ".join(t.task_key for t in settings.tasks or [])
    when = (
        "continuous"
        if settings.continuous
        else f"{settings.schedule.quartz_cron_expression} {settings.schedule.pause_status.value.lower()}"
        if settings.schedule
        else "on demand"
    )
    return f"{tasks}; {when}"


def _ours(remote: RemoteJob, settings: DeploymentSettings) -> bool:
    return all(remote.tags.get(k) == v for k, v in settings.tags.items())


def _folders(folder: str, artifacts: Artifacts) -> list[str]:
    """The deployment folder, its own parents below the workspace root, and every folder under it."""
    base_depth = 3 if folder.startswith("/Users/") else 2
    parts = folder.split("/")
    chain = ["/".join(parts[:i]) for i in range(base_depth + 1, len(parts) + 1)]
    inner = set()
    for path in artifacts.folders:
        relative = path[len(folder) + 1 :].split("/")
        inner.update(f"{folder}/{'/'.join(relative[:i])}" for i in range(1, len(relative) + 1))
    return chain + sorted(inner)


def _kind_of(path: str) -> str:
    if path.endswith(".whl"):
        return "wheel"
    return "notebook" if "/notebooks/" in path else "file"


# ------------------------------------------------------------------------------------------------ destroy
def plan_destroy(ws: Workspace, settings: DeploymentSettings, job_names: list[str]) -> Plan:
    """Everything this project created for the environment, and only that."""
    folder = settings.workspace_folder
    old = ws.read_state(folder, settings.env) or DeploymentState(settings.env)
    plan = Plan(settings.env, settings.host or "(host from the environment)", folder, new_state=None)
    seen = set()
    for name in sorted(set(old.jobs) | set(job_names)):
        record = old.jobs.get(name)
        remote = ws.get_job(record.job_id) if record and record.job_id else None
        remote = remote or ws.find_job(name)
        if remote is None or remote.job_id in seen:
            continue
        seen.add(remote.job_id)
        if _ours(remote, settings):
            plan.changes.append(Change("delete", "job", name, f"id {remote.job_id}", job_id=remote.job_id))
        else:
            plan.changes.append(Change("keep", "job", name, "kept: not created by this project (no medallion tags)"))
    for path in sorted(old.uploads):
        if ws.status(path) is not None:
            plan.changes.append(Change("delete", _kind_of(path), path))
    state_path = f"{folder}/{STATE_FILE}"
    if ws.status(state_path) is not None:
        plan.changes.append(Change("delete", "state", state_path))
    for path in sorted(old.folders, key=lambda p: -p.count("/")):
        if ws.status(path) is not None:
            plan.changes.append(Change("delete", "folder", path, "if empty"))
    return plan


# --------------------------------------------------------------------------------------------- comparing
def diff(desired, actual, path: str = "") -> list[str]:
    """Paths where ``actual`` differs from ``desired``, looking only at what ``desired`` sets: the Jobs
    API adds defaults of its own (formats, empty notification blocks) that are not a change."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [path or "(settings)"]
        found = []
        for key, value in desired.items():
            found += diff(value, actual.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(actual) != len(desired):
            return [path]
        key = _list_key(desired)
        if key:
            by_key = {item.get(key): item for item in actual if isinstance(item, dict)}
            found = []
            for item in desired:
                found += diff(item, by_key.get(item[key]), f"{path}[{item[key]}]")
            return found
        found = []
        for index, (want, have) in enumerate(zip(desired, actual)):
            found += diff(want, have, f"{path}[{index}]")
        return found
    return [] if desired == actual else [path]


def _list_key(items: list) -> str | None:
    for key in LIST_KEYS:
        if items and all(isinstance(i, dict) and key in i for i in items):
            return key
    return None
