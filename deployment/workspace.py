"""The workspace as the deployment sees it: a thin layer over ``WorkspaceClient`` that answers
"what is there now" (absent → ``None``) and performs the writes the plan asks for."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceDoesNotExist
from databricks.sdk.service import jobs, workspace

from deployment.artifacts import Upload
from deployment.state import STATE_FILE, DeploymentState
from medallion.errors import MedallionError


@dataclass(frozen=True)
class RemoteJob:
    job_id: int
    settings: dict  # as the Jobs API returns them
    tags: dict


class Workspace:
    def __init__(self, client: WorkspaceClient):
        self.client = client

    # ----------------------------------------------------------------------------------------- reading
    def status(self, path: str) -> workspace.ObjectInfo | None:
        try:
            return self.client.workspace.get_status(path)
        except (NotFound, ResourceDoesNotExist):
            return None

    def listing(self, folder: str) -> dict[str, workspace.ObjectInfo]:
        """Objects directly in ``folder`` by path (empty when the folder does not exist)."""
        try:
            return {item.path: item for item in self.client.workspace.list(folder)}
        except (NotFound, ResourceDoesNotExist):
            return {}

    def read_state(self, folder: str, env: str) -> DeploymentState | None:
        path = f"{folder}/{STATE_FILE}"
        try:
            exported = self.client.workspace.export(path, format=workspace.ExportFormat.AUTO)
        except (NotFound, ResourceDoesNotExist):
            return None
        text = base64.b64decode(exported.content or "").decode()
        try:
            return DeploymentState.from_json(text, env)
        except (ValueError, KeyError) as err:
            raise MedallionError(
                f"{path} is not this project's deployment state for {env} ({err}); "
                "move it away or fix workspace_folder in conf."
            ) from None

    def find_job(self, name: str) -> RemoteJob | None:
        matches = [job for job in self.client.jobs.list(name=name) if job.settings and job.settings.name == name]
        if len(matches) > 1:
            ids = ", ".join(str(j.job_id) for j in matches)
            raise MedallionError(
                f"Several jobs are named {name!r} (ids {ids}): delete the extra ones, then deploy again."
            )
        return self.get_job(matches[0].job_id) if matches else None

    def get_job(self, job_id: int) -> RemoteJob | None:
        try:
            job = self.client.jobs.get(job_id)
        except (NotFound, ResourceDoesNotExist):
            return None
        settings = job.settings.as_dict() if job.settings else {}
        return RemoteJob(job_id=job.job_id, settings=settings, tags=settings.get("tags", {}))

    def current_user(self) -> str:
        return self.client.current_user.me().user_name

    def folder_acl(self, path: str) -> set[tuple[str, str, str]]:
        """(kind, principal, level) granted directly on a folder (not inherited)."""
        info = self.status(path)
        if info is None:
            return set()
        permissions = self.client.workspace.get_permissions("directories", str(info.object_id))
        granted = set()
        for entry in permissions.access_control_list or []:
            for permission in entry.all_permissions or []:
                if not permission.inherited:
                    kind = (
                        "group" if entry.group_name else "service_principal" if entry.service_principal_name else "user"
                    )
                    principal = entry.group_name or entry.service_principal_name or entry.user_name
                    granted.add((kind, principal, permission.permission_level.value))
        return granted

    def set_folder_acl(self, path: str, grants: set[tuple[str, str, str]]) -> None:
        info = self.status(path)
        self.client.workspace.set_permissions(
            "directories",
            str(info.object_id),
            access_control_list=[
                workspace.WorkspaceObjectAccessControlRequest(
                    **{f"{kind}_name": principal}, permission_level=workspace.WorkspaceObjectPermissionLevel(level)
                )
                for kind, principal, level in sorted(grants)
            ],
        )

    def secret_scope(self, name: str):
        """The scope named ``name`` (None when absent)."""
        return next((s for s in self.client.secrets.list_scopes() if s.name == name), None)

    def secret_acl(self, scope: str, principal: str) -> str | None:
        """The principal's own grant on the scope (None: none). Raises ``PermissionDenied`` when this identity
        may not read the scope's ACLs (that needs MANAGE on it)."""
        try:
            return self.client.secrets.get_acl(scope, principal).permission.value
        except (NotFound, ResourceDoesNotExist):
            return None

    def job_acl(self, job_id: int) -> jobs.JobPermissions:
        return self.client.jobs.get_permissions(str(job_id))

    # ----------------------------------------------------------------------------------------- writing
    def mkdirs(self, path: str) -> None:
        self.client.workspace.mkdirs(path)

    def upload(self, upload: Upload) -> None:
        content = base64.b64encode(upload.content).decode()
        if upload.kind == "notebook":
            self.client.workspace.import_(
                upload.remote,
                content=content,
                format=workspace.ImportFormat.SOURCE,
                language=workspace.Language.PYTHON,
                overwrite=True,
            )
        else:
            self.client.workspace.import_(
                upload.remote, content=content, format=workspace.ImportFormat.AUTO, overwrite=True
            )

    def write_state(self, folder: str, state: DeploymentState) -> None:
        self.upload(Upload("file", f"{folder}/{STATE_FILE}", state.to_json().encode()))

    def delete(self, path: str) -> bool:
        """Delete one object or an empty folder; False when a folder still holds objects (kept)."""
        try:
            self.client.workspace.delete(path, recursive=False)
        except (NotFound, ResourceDoesNotExist):
            return True
        except Exception as err:  # DIRECTORY_NOT_EMPTY comes back as a generic 400
            if "DIRECTORY_NOT_EMPTY" in str(getattr(err, "error_code", "")) or "not empty" in str(err).lower():
                return False
            raise
        return True

    def create_job(self, settings: jobs.JobSettings) -> int:
        return self.client.jobs.create(**settings.as_shallow_dict()).job_id

    def reset_job(self, job_id: int, settings: jobs.JobSettings) -> None:
        self.client.jobs.reset(job_id=job_id, new_settings=settings)

    def cancel_runs(self, job_id: int) -> None:
        self.client.jobs.cancel_all_runs(job_id=job_id)

    def delete_job(self, job_id: int) -> None:
        try:
            self.client.jobs.delete(job_id)
        except (NotFound, ResourceDoesNotExist):
            pass

    def set_job_acl(self, job_id: int, acl: list[jobs.JobAccessControlRequest]) -> None:
        self.client.jobs.set_permissions(str(job_id), access_control_list=acl)
