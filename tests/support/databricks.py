"""A local Databricks workspace: the REST endpoints ``medallion deploy`` calls, state in memory.

Every request body is checked against the SDK's own definitions: its keys must be parameters of the
SDK method that sends it, and typed payloads (job settings, access control lists) must survive a round
trip through the SDK's dataclasses unchanged, so a field the SDK does not know (a typo, a wrong nesting)
fails the test. Responses are built from the SDK's dataclasses too. Like the real service, ``jobs/get``
answers with defaults the request did not set (empty notification blocks, ``run_if``, tasks sorted by
key), so the deploy's change detection is tested against more than an echo.
"""

from __future__ import annotations

import base64
import inspect
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from databricks.sdk.service import jobs, workspace
from databricks.sdk.service.jobs import JobsAPI
from databricks.sdk.service.workspace import WorkspaceAPI

from tests.support.http import LocalServer, Request, Response

TOKEN = "local-test-token"
DEPLOYER = "deployer@example.com"
NOTEBOOK_HEADER = b"# Databricks notebook source"


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error_code": code, "message": message})


@dataclass
class RunPlan:
    """How a run of a job ends, per task key: (result_state, error, error_trace)."""

    outcomes: dict[str, tuple[str, str, str]] = field(default_factory=dict)


class FakeWorkspace:
    def __init__(self):
        self.objects: dict[str, dict] = {
            "/": {"object_type": "DIRECTORY", "object_id": 1},
            "/Shared": {"object_type": "DIRECTORY", "object_id": 2},
        }
        self.jobs: dict[int, dict] = {}
        self.acls: dict[int, list[dict]] = {}
        self.runs: dict[int, dict] = {}
        self.run_plan = RunPlan()
        # Optional: executes a task for real (e.g. its notebook, locally) and returns its
        # (result_state, error, error_trace); without it, runs end as ``run_plan`` says.
        self.executor: Callable[[dict, dict], tuple[str, str, str]] | None = None
        self.violations: list[str] = []
        self.current_user = DEPLOYER
        self.folder_acls: dict[int, list[dict]] = {}  # directory object id → direct grants
        self.scopes: dict[str, str] = {}  # secret scope → backend type
        self.secret_acls: dict[tuple[str, str], str] = {}  # (scope, principal) → READ | WRITE | MANAGE
        # workspace admins manage every secret scope; anyone else reads a scope's ACLs only with MANAGE on it
        self.admins: set[str] = {DEPLOYER}
        self.cancelled_all: list[int] = []  # job ids whose runs were cancelled (a continuous job restarts)
        self._clock = 0
        self.writes: list[tuple[str, str]] = []
        self._ids = itertools.count(1001)
        self.server = LocalServer()
        for method, pattern, handler in [
            ("GET", "/.well-known/databricks-config", self.host_metadata),
            ("GET", "/api/2.0/preview/scim/v2/Me", self.me),
            ("GET", "/api/2.0/workspace/get-status", self.get_status),
            ("GET", "/api/2.0/workspace/list", self.list),
            ("GET", "/api/2.0/workspace/export", self.export),
            ("POST", "/api/2.0/workspace/mkdirs", self.mkdirs),
            ("POST", "/api/2.0/workspace/import", self.import_),
            ("POST", "/api/2.0/workspace/delete", self.delete),
            ("GET", "/api/2.2/jobs/list", self.list_jobs),
            ("GET", "/api/2.2/jobs/get", self.get_job),
            ("POST", "/api/2.2/jobs/create", self.create_job),
            ("POST", "/api/2.2/jobs/reset", self.reset_job),
            ("POST", "/api/2.2/jobs/delete", self.delete_job),
            ("POST", "/api/2.2/jobs/run-now", self.run_now),
            ("GET", "/api/2.2/jobs/runs/get", self.get_run),
            ("GET", "/api/2.2/jobs/runs/get-output", self.get_run_output),
            ("POST", "/api/2.2/jobs/runs/cancel", self.cancel_run),
            ("POST", "/api/2.2/jobs/runs/cancel-all", self.cancel_all_runs),
            ("GET", r"/api/2.0/permissions/directories/(?P<object_id>\d+)", self.get_folder_permissions),
            ("PUT", r"/api/2.0/permissions/directories/(?P<object_id>\d+)", self.set_folder_permissions),
            ("GET", "/api/2.0/secrets/scopes/list", self.list_scopes),
            ("GET", "/api/2.0/secrets/acls/get", self.get_secret_acl),
            ("GET", r"/api/2.0/permissions/jobs/(?P<job_id>\d+)", self.get_permissions),
            ("PUT", r"/api/2.0/permissions/jobs/(?P<job_id>\d+)", self.set_permissions),
        ]:
            self.server.route(method, pattern, self._authorised(handler))

    # ------------------------------------------------------------------------------------ plumbing
    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url

    def _authorised(self, handler):
        def wrapped(request: Request, **groups) -> Response:
            if request.path.startswith("/api/") and request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return _error(401, "UNAUTHENTICATED", "Invalid access token.")
            if request.method != "GET":
                self.writes.append((request.method, request.path))
            return handler(request, **groups)

        return wrapped

    def _check(self, request: Request, sdk_method, typed: dict | None = None) -> dict:
        """Keys must be the SDK method's parameters; typed values must round-trip its dataclasses."""
        body = request.json() if request.method != "GET" else dict(request.query)
        allowed = set(inspect.signature(sdk_method).parameters) - {"self"}
        unknown = set(body) - allowed
        if unknown:
            self.violations.append(f"{request.path}: unknown fields {sorted(unknown)}")
        for key, cls in (typed or {}).items():
            if key in body:
                values = body[key] if isinstance(body[key], list) else [body[key]]
                for value in values:
                    if cls.from_dict(value).as_dict() != value:
                        self.violations.append(
                            f"{request.path}: {key} does not round-trip through {cls.__name__}: {value}"
                        )
        return body

    def host_metadata(self, request: Request) -> Response:
        return Response(
            200, {"oidc_endpoint": f"{self.url}/oidc", "workspace_id": "2000000000000002", "cloud": "azure"}
        )

    def me(self, request: Request) -> Response:
        return Response(200, {"userName": self.current_user, "displayName": self.current_user, "id": "1"})

    # ------------------------------------------------------------------------------------ workspace
    def _info(self, path: str) -> dict:
        entry = self.objects[path]
        info = workspace.ObjectInfo(
            path=path,
            object_type=workspace.ObjectType(entry["object_type"]),
            object_id=entry.get("object_id"),
            language=workspace.Language(entry["language"]) if entry.get("language") else None,
            size=len(entry.get("content", b"")) if entry["object_type"] != "DIRECTORY" else None,
            modified_at=entry.get("modified_at"),
        )
        return info.as_dict()

    def get_status(self, request: Request) -> Response:
        path = request.query.get("path", "")
        if path not in self.objects:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        return Response(200, self._info(path))

    def list(self, request: Request) -> Response:
        path = request.query.get("path", "").rstrip("/")
        if self.objects.get(path, {}).get("object_type") != "DIRECTORY":
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        children = [p for p in self.objects if p != path and p.rsplit("/", 1)[0] == path]
        return Response(
            200,
            workspace.ListResponse(
                objects=[workspace.ObjectInfo.from_dict(self._info(p)) for p in sorted(children)]
            ).as_dict(),
        )

    def export(self, request: Request) -> Response:
        self._check(request, WorkspaceAPI.export)
        path = request.query.get("path", "")
        entry = self.objects.get(path)
        if entry is None or entry["object_type"] == "DIRECTORY":
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        return Response(200, workspace.ExportResponse(content=base64.b64encode(entry["content"]).decode()).as_dict())

    def mkdirs(self, request: Request) -> Response:
        path = self._check(request, WorkspaceAPI.mkdirs)["path"].rstrip("/")
        parts = path.split("/")
        for i in range(2, len(parts) + 1):
            prefix = "/".join(parts[:i])
            existing = self.objects.get(prefix)
            if existing and existing["object_type"] != "DIRECTORY":
                return _error(400, "RESOURCE_ALREADY_EXISTS", f"{prefix} exists and is not a directory")
            self.objects.setdefault(prefix, {"object_type": "DIRECTORY", "object_id": next(self._ids)})
        return Response(200, {})

    def import_(self, request: Request) -> Response:
        body = self._check(request, WorkspaceAPI.import_)
        path, content = body["path"], base64.b64decode(body.get("content", ""))
        fmt = workspace.ImportFormat(body.get("format", "SOURCE"))
        parent = path.rsplit("/", 1)[0]
        if self.objects.get(parent, {}).get("object_type") != "DIRECTORY":
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist.")
        if path in self.objects and not body.get("overwrite"):
            return _error(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
        if fmt == workspace.ImportFormat.SOURCE:
            if not body.get("language"):
                return _error(
                    400, "INVALID_PARAMETER_VALUE", "The language field is required to import a file as SOURCE."
                )
            if not content.startswith(NOTEBOOK_HEADER):
                self.violations.append(f"{path}: imported as a notebook without the source header")
            self.objects[path] = {
                "object_type": "NOTEBOOK",
                "language": workspace.Language(body["language"]).value,
                "content": content,
                "object_id": self._object_id(path),
                "modified_at": self._now(),
            }
        elif fmt == workspace.ImportFormat.AUTO:
            self.objects[path] = {
                "object_type": "FILE",
                "content": content,
                "object_id": self._object_id(path),
                "modified_at": self._now(),
            }
        else:
            self.violations.append(f"{path}: unexpected import format {fmt}")
        return Response(200, {})

    def _now(self) -> int:
        """Milliseconds, strictly increasing: every write shows as a new modification time."""
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def _object_id(self, path: str) -> int:
        """Overwriting keeps an object's id, as the workspace does."""
        return self.objects[path]["object_id"] if path in self.objects else next(self._ids)

    def delete(self, request: Request) -> Response:
        body = self._check(request, WorkspaceAPI.delete)
        path = body["path"].rstrip("/")
        if path not in self.objects:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        children = [p for p in self.objects if p.startswith(path + "/")]
        if children and not body.get("recursive"):
            return _error(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty")
        for p in children + [path]:
            del self.objects[p]
        return Response(200, {})

    # ----------------------------------------------------------------------------------------- jobs
    def _stored(self, settings: dict) -> dict:
        """What the service keeps and returns: the settings plus defaults the caller did not send."""
        stored = {
            "email_notifications": {},
            "webhook_notifications": {},
            "timeout_seconds": 0,
            "max_concurrent_runs": 1,
            "format": "MULTI_TASK",
            **settings,
        }
        tasks = [
            {"run_if": "ALL_SUCCESS", "timeout_seconds": 0, "email_notifications": {}, **t}
            for t in settings.get("tasks", [])
        ]
        stored["tasks"] = sorted(tasks, key=lambda t: t["task_key"])
        if "run_as" not in stored:
            stored["run_as"] = {"user_name": DEPLOYER}
        return stored

    def create_job(self, request: Request) -> Response:
        body = self._check(request, JobsAPI.create)
        settings = {k: v for k, v in body.items() if k != "access_control_list"}
        if jobs.JobSettings.from_dict(settings).as_dict() != settings:
            self.violations.append(f"jobs/create: settings do not round-trip through JobSettings: {settings}")
        job_id = next(self._ids)
        self.jobs[job_id] = {"job_id": job_id, "settings": self._stored(settings), "creator_user_name": DEPLOYER}
        self.acls[job_id] = [{"user_name": DEPLOYER, "permission_level": "IS_OWNER"}]
        return Response(200, jobs.CreateResponse(job_id=job_id).as_dict())

    def reset_job(self, request: Request) -> Response:
        body = self._check(request, JobsAPI.reset, typed={"new_settings": jobs.JobSettings})
        job = self.jobs.get(body["job_id"])
        if job is None:
            return _error(400, "INVALID_PARAMETER_VALUE", f"Job {body['job_id']} does not exist.")
        job["settings"] = self._stored(body["new_settings"])
        return Response(200, {})

    def delete_job(self, request: Request) -> Response:
        body = self._check(request, JobsAPI.delete)
        if self.jobs.pop(body["job_id"], None) is None:
            return _error(400, "INVALID_PARAMETER_VALUE", f"Job {body['job_id']} does not exist.")
        self.acls.pop(body["job_id"], None)
        return Response(200, {})

    def list_jobs(self, request: Request) -> Response:
        name = request.query.get("name")
        found = []
        for job in sorted(self.jobs.values(), key=lambda j: -j["job_id"]):
            if name and job["settings"]["name"].lower() != name.lower():
                continue
            summary = {k: v for k, v in job["settings"].items() if k not in ("tasks", "job_clusters")}
            found.append(
                jobs.BaseJob(
                    job_id=job["job_id"],
                    settings=jobs.JobSettings.from_dict(summary),
                    creator_user_name=job["creator_user_name"],
                ).as_dict()
            )
        return Response(200, {"jobs": found, "has_more": False} if found else {"has_more": False})

    def get_job(self, request: Request) -> Response:
        job = self.jobs.get(int(request.query.get("job_id", 0)))
        if job is None:
            return _error(400, "INVALID_PARAMETER_VALUE", f"Job {request.query.get('job_id')} does not exist.")
        return Response(
            200,
            jobs.Job(
                job_id=job["job_id"],
                creator_user_name=job["creator_user_name"],
                settings=jobs.JobSettings.from_dict(job["settings"]),
            ).as_dict(),
        )

    # ------------------------------------------------------------------------------------- permissions
    def _permissions(self, job_id: int) -> dict:
        entries = [
            jobs.JobAccessControlResponse(
                group_name="admins",
                all_permissions=[
                    jobs.JobPermission(
                        permission_level=jobs.JobPermissionLevel.CAN_MANAGE,
                        inherited=True,
                        inherited_from_object=["/jobs/"],
                    )
                ],
            )
        ]
        for grant in self.acls[job_id]:
            entries.append(
                jobs.JobAccessControlResponse(
                    user_name=grant.get("user_name"),
                    group_name=grant.get("group_name"),
                    service_principal_name=grant.get("service_principal_name"),
                    all_permissions=[
                        jobs.JobPermission(
                            permission_level=jobs.JobPermissionLevel(grant["permission_level"]), inherited=False
                        )
                    ],
                )
            )
        return jobs.JobPermissions(
            object_id=f"/jobs/{job_id}", object_type="job", access_control_list=entries
        ).as_dict()

    def get_permissions(self, request: Request, job_id: str) -> Response:
        if int(job_id) not in self.jobs:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Job {job_id} does not exist.")
        return Response(200, self._permissions(int(job_id)))

    def set_permissions(self, request: Request, job_id: str) -> Response:
        body = self._check(
            request, JobsAPI.set_permissions, typed={"access_control_list": jobs.JobAccessControlRequest}
        )
        if int(job_id) not in self.jobs:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Job {job_id} does not exist.")
        acl = body.get("access_control_list", [])
        owners = [e for e in acl if e.get("permission_level") == "IS_OWNER"]
        if len(owners) != 1:
            return _error(400, "INVALID_PARAMETER_VALUE", "The job must have exactly one owner.")
        self.acls[int(job_id)] = acl
        return Response(200, self._permissions(int(job_id)))

    # ------------------------------------------------------------------------------ folder permissions
    def _folder_id(self, object_id: str) -> int | None:
        return next(
            (
                e["object_id"]
                for e in self.objects.values()
                if e.get("object_id") == int(object_id) and e["object_type"] == "DIRECTORY"
            ),
            None,
        )

    def _folder_permissions(self, object_id: int) -> dict:
        entries = [
            workspace.WorkspaceObjectAccessControlResponse(
                group_name="admins",
                all_permissions=[
                    workspace.WorkspaceObjectPermission(
                        permission_level=workspace.WorkspaceObjectPermissionLevel.CAN_MANAGE,
                        inherited=True,
                        inherited_from_object=["/directories/"],
                    )
                ],
            )
        ]
        for grant in self.folder_acls.get(object_id, []):
            entries.append(
                workspace.WorkspaceObjectAccessControlResponse(
                    user_name=grant.get("user_name"),
                    group_name=grant.get("group_name"),
                    service_principal_name=grant.get("service_principal_name"),
                    all_permissions=[
                        workspace.WorkspaceObjectPermission(
                            permission_level=workspace.WorkspaceObjectPermissionLevel(grant["permission_level"]),
                            inherited=False,
                        )
                    ],
                )
            )
        return workspace.WorkspaceObjectPermissions(
            object_id=f"/directories/{object_id}", object_type="directory", access_control_list=entries
        ).as_dict()

    def get_folder_permissions(self, request: Request, object_id: str) -> Response:
        if self._folder_id(object_id) is None:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Directory {object_id} does not exist.")
        return Response(200, self._folder_permissions(int(object_id)))

    def set_folder_permissions(self, request: Request, object_id: str) -> Response:
        body = self._check(
            request,
            WorkspaceAPI.set_permissions,
            typed={"access_control_list": workspace.WorkspaceObjectAccessControlRequest},
        )
        if self._folder_id(object_id) is None:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Directory {object_id} does not exist.")
        self.folder_acls[int(object_id)] = body.get("access_control_list", [])
        return Response(200, self._folder_permissions(int(object_id)))

    def folder_grants(self, path: str) -> set[tuple[str, str]]:
        """(principal, level) granted directly on the folder at ``path``: for assertions."""
        grants = self.folder_acls.get(self.objects[path]["object_id"], [])
        return {
            (g.get("group_name") or g.get("user_name") or g.get("service_principal_name"), g["permission_level"])
            for g in grants
        }

    # ----------------------------------------------------------------------------------------- secrets
    def list_scopes(self, request: Request) -> Response:
        scopes = [
            workspace.SecretScope(name=name, backend_type=workspace.ScopeBackendType(backend))
            for name, backend in sorted(self.scopes.items())
        ]
        return Response(200, workspace.ListScopesResponse(scopes=scopes).as_dict())

    def get_secret_acl(self, request: Request) -> Response:
        key = (request.query.get("scope"), request.query.get("principal"))
        caller = self.current_user
        if caller not in self.admins and self.secret_acls.get((key[0], caller)) != "MANAGE":
            return _error(403, "PERMISSION_DENIED", f"User {caller} does not have MANAGE permission on scope {key[0]}.")
        if key not in self.secret_acls:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"No ACL for {key[1]} on scope {key[0]}.")
        return Response(
            200,
            workspace.AclItem(principal=key[1], permission=workspace.AclPermission(self.secret_acls[key])).as_dict(),
        )

    # ---------------------------------------------------------------------------------------- runs
    def cancel_all_runs(self, request: Request) -> Response:
        body = self._check(request, JobsAPI.cancel_all_runs)
        self.cancelled_all.append(body["job_id"])
        return Response(200, {})

    def run_now(self, request: Request) -> Response:
        body = self._check(request, JobsAPI.run_now)
        job = self.jobs.get(body["job_id"])
        if job is None:
            return _error(400, "INVALID_PARAMETER_VALUE", f"Job {body['job_id']} does not exist.")
        run_id = next(self._ids)
        tasks = [{"task_key": t["task_key"], "run_id": next(self._ids)} for t in job["settings"]["tasks"]]
        self.runs[run_id] = {
            "job_id": job["job_id"],
            "polls": 0,
            "tasks": tasks,
            "outcomes": {},
            "job_parameters": dict(body.get("job_parameters") or {}),
        }
        if self.executor is not None:  # in the background, as a cluster would: run-now answers at once
            parameters = {p["name"]: p.get("default", "") for p in job["settings"].get("parameters", [])}
            parameters.update(body.get("job_parameters") or {})
            worker = threading.Thread(
                target=self._execute, args=(self.runs[run_id], job["settings"]["tasks"], parameters)
            )
            self.runs[run_id]["worker"] = worker
            worker.start()
        return Response(200, jobs.RunNowResponse(run_id=run_id, number_in_job=1).as_dict())

    def _run_state(self, run: dict) -> tuple[str, list]:
        stage = ("PENDING", "RUNNING", "TERMINATED")[min(run["polls"], 2)]
        if stage == "TERMINATED" and "worker" in run and run["worker"].is_alive():
            stage = "RUNNING"
        tasks = []
        for task in run["tasks"]:
            result, message, _ = self._outcome(run, task["task_key"])
            state = jobs.RunState(
                life_cycle_state=jobs.RunLifeCycleState(stage),
                result_state=jobs.RunResultState(result) if stage == "TERMINATED" else None,
                state_message=message if stage == "TERMINATED" else "",
            )
            tasks.append(jobs.RunTask(task_key=task["task_key"], run_id=task["run_id"], state=state))
        return stage, tasks

    def _execute(self, run: dict, tasks: list[dict], parameters: dict) -> None:
        for task in tasks:
            run["outcomes"][task["task_key"]] = self.executor(task, parameters)

    def _outcome(self, run: dict, task_key: str) -> tuple[str, str, str]:
        if task_key in run["outcomes"]:
            return run["outcomes"][task_key]
        return self.run_plan.outcomes.get(task_key, ("SUCCESS", "", ""))

    def get_run(self, request: Request) -> Response:
        run_id = int(request.query.get("run_id", 0))
        run = self.runs.get(run_id)
        if run is None:
            return _error(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")
        stage, tasks = self._run_state(run)
        run["polls"] += 1
        failed = [t for t in tasks if t.state.result_state and t.state.result_state != jobs.RunResultState.SUCCESS]
        overall = (
            None if stage != "TERMINATED" else (jobs.RunResultState.FAILED if failed else jobs.RunResultState.SUCCESS)
        )
        return Response(
            200,
            jobs.Run(
                job_id=run["job_id"],
                run_id=run_id,
                tasks=tasks,
                state=jobs.RunState(life_cycle_state=jobs.RunLifeCycleState(stage), result_state=overall),
                run_page_url=f"{self.url}/#job/{run['job_id']}/run/{run_id}",
            ).as_dict(),
        )

    def get_run_output(self, request: Request) -> Response:
        task_run_id = int(request.query.get("run_id", 0))
        for run in self.runs.values():
            for task in run["tasks"]:
                if task["run_id"] == task_run_id:
                    result, message, trace = self._outcome(run, task["task_key"])
                    output = jobs.RunOutput(
                        error=message or None,
                        error_trace=trace or None,
                        notebook_output=jobs.NotebookOutput(result="ok") if result == "SUCCESS" else None,
                    )
                    return Response(200, output.as_dict())
        return _error(400, "INVALID_PARAMETER_VALUE", f"Run {task_run_id} does not exist.")

    def cancel_run(self, request: Request) -> Response:
        self._check(request, JobsAPI.cancel_run)
        return Response(200, {})
