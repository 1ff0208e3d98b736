"""The ``deployment`` section of ``conf/<env>.yml``, validated once into a frozen object."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from medallion.errors import ConfigError
from medallion.platform import layout
from medallion.platform.config import load_conf

PROJECT = "medallion"
SECURITY_MODES = ("SINGLE_USER", "USER_ISOLATION", "DATA_SECURITY_MODE_DEDICATED", "DATA_SECURITY_MODE_STANDARD")
SYNAPSE_AUTH = ("caller", "managed_identity")
PERMISSION_LEVELS = {"can_manage": "CAN_MANAGE", "can_manage_run": "CAN_MANAGE_RUN", "can_view": "CAN_VIEW"}


AVAILABILITY = ("ON_DEMAND_AZURE", "SPOT_AZURE", "SPOT_WITH_FALLBACK_AZURE")


@dataclass(frozen=True)
class ClusterSettings:
    spark_version: str
    node_type: str
    num_workers: int
    data_security_mode: str
    policy_id: str | None = None
    autoscale: dict | None = None  # {min_workers, max_workers}; max_workers 0: fixed num_workers
    availability: str = "ON_DEMAND_AZURE"
    first_on_demand: int = 1

    @property
    def autoscales(self) -> bool:
        return bool(self.autoscale and int(self.autoscale.get("max_workers") or 0) > 0)


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str
    timezone: str
    paused: bool


@dataclass(frozen=True)
class SynapseSettings:
    workspace: str | None
    database: str
    auth: str
    location: str | None
    string_length: int = 400


@dataclass(frozen=True)
class DeploymentSettings:
    env: str
    host: str | None
    workspace_folder: str
    pipelines: tuple[str, ...]
    stream_pipelines: tuple[str, ...]
    job_principal: str | None
    reader_group: str | None
    external_location: str | None
    cluster: ClusterSettings
    schedule: ScheduleSettings
    timeout_seconds: int
    max_concurrent_runs: int
    notify_on_failure: tuple[str, ...]
    permissions: tuple[tuple[str, str], ...]  # (group, permission level), in conf order
    integration_tests: bool
    test_timeout_minutes: int
    synapse: SynapseSettings
    catalog: str | None
    storage_root: str | None
    secret_scope: str | None = None  # the Key Vault-backed scope the jobs read (secrets.provider databricks)
    folder_readers: tuple[str, ...] = ()  # groups that may read the workspace folder
    per_user: bool = False
    user: str | None = None  # per-user targets: the engineer deploying (set by for_user)
    # who applies deploys: the folder's manager in every plan, whoever computes it; None: whoever deploys
    deployer: str | None = None

    @property
    def files_folder(self) -> str:
        """The folder as a file-system path on a cluster (``/Workspace/…``), for libraries and env vars."""
        return "/Workspace" + self.workspace_folder

    @property
    def name_prefix(self) -> str:
        """``[dev ann]`` on a per-user target, so each engineer's jobs are theirs and told apart."""
        return f"[{self.env} {self.user.split('@')[0]}] " if self.user else ""

    def job_name(self, pipeline: str) -> str:
        return f"{self.name_prefix}{PROJECT}-{self.env}-{pipeline}"

    @property
    def tests_job_name(self) -> str:
        return f"{self.name_prefix}{PROJECT}-{self.env}-integration-tests"

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every job this project creates: how ``--destroy`` recognises its own jobs."""
        tags = {"project": PROJECT, "medallion-env": self.env}
        return {**tags, "medallion-user": self.user} if self.user else tags

    @property
    def user_key(self) -> str | None:
        """A per-user target's name in storage paths, schemas and topics (``ann.lee@…`` → ``ann_lee``)."""
        return user_key(self.user) if self.user else None

    def for_user(self, user: str) -> DeploymentSettings:
        """A per-user target: the engineer's own folder and job names, every schedule paused, and (through
        the job clusters' environment) a storage root, schemas and topics of their own."""
        return replace(
            self,
            user=user,
            workspace_folder=f"/Users/{user}/{PROJECT}/{self.env}",
            schedule=replace(self.schedule, paused=True),
            storage_root=layout.user_root(self.storage_root, user_key(user)) if self.storage_root else None,
        )


def user_key(user: str) -> str:
    """The part of a sign-in name before ``@``, as lower-case letters, digits and ``_``, starting with a
    letter (a service principal signs in with a UUID) and at most 40 long."""
    key = re.sub(r"[^a-z0-9]+", "_", user.split("@")[0].lower()).strip("_")
    key = key if key[:1].isalpha() else f"u_{key}"
    return key[:40].rstrip("_")


def load_deployment(
    env: str, conf_dir: Path | str | None = None, known_pipelines: list[str] | None = None
) -> DeploymentSettings:
    conf = load_conf(env, conf_dir)
    section = conf["deployment"]
    where = f"conf/{env}.yml: deployment"
    folder = section["workspace_folder"]
    if not folder:
        raise ConfigError(
            f"{where}.workspace_folder is not set: name the workspace folder this environment deploys to."
        )
    folder = _workspace_folder(folder, where)
    host = section["host"]
    if host and not re.match(r"^https?://[^/]+/?$", host):
        raise ConfigError(
            f"{where}.host must be a workspace URL like https://adb-123.4.azuredatabricks.net, got {host!r}."
        )
    pipelines = tuple(section["pipelines"] or known_pipelines or [])
    _check_known(pipelines, known_pipelines, f"{where}.pipelines")
    # stream_pipelines says how a pipeline runs wherever it is deployed: conf/base.yml can name commerce
    # while an environment deploying a subset leaves it out. Only a name the project does not know is an error.
    _check_known(section["stream_pipelines"], known_pipelines, f"{where}.stream_pipelines")
    streams = tuple(name for name in pipelines if name in section["stream_pipelines"])
    cluster = ClusterSettings(**section["cluster"])
    if cluster.data_security_mode not in SECURITY_MODES:
        raise ConfigError(f"{where}.cluster.data_security_mode must be one of {', '.join(SECURITY_MODES)}.")
    if cluster.num_workers < 0:
        raise ConfigError(f"{where}.cluster.num_workers must be 0 or more.")
    if cluster.availability not in AVAILABILITY:
        raise ConfigError(f"{where}.cluster.availability must be one of {', '.join(AVAILABILITY)}.")
    if cluster.autoscales and not 0 <= int(cluster.autoscale["min_workers"]) <= int(cluster.autoscale["max_workers"]):
        raise ConfigError(f"{where}.cluster.autoscale: 0 ≤ min_workers ≤ max_workers.")
    if section["max_concurrent_runs"] < 1 or section["timeout_seconds"] < 0:
        raise ConfigError(f"{where}: max_concurrent_runs must be ≥ 1 and timeout_seconds ≥ 0.")
    synapse = section["synapse"]
    if synapse["auth"] not in SYNAPSE_AUTH:
        raise ConfigError(f"{where}.synapse.auth must be one of {', '.join(SYNAPSE_AUTH)}, got {synapse['auth']!r}.")
    return DeploymentSettings(
        env=env,
        host=host.rstrip("/") if host else None,
        workspace_folder=folder,
        pipelines=pipelines,
        stream_pipelines=streams,
        job_principal=section["job_principal"],
        reader_group=section["reader_group"],
        external_location=section["external_location"],
        cluster=cluster,
        schedule=ScheduleSettings(**section["schedule"]),
        timeout_seconds=int(section["timeout_seconds"]),
        max_concurrent_runs=int(section["max_concurrent_runs"]),
        notify_on_failure=tuple(section["notify_on_failure"]),
        permissions=_permissions(section["permissions"], where),
        integration_tests=bool(section["integration_tests"]),
        test_timeout_minutes=int(section["test_timeout_minutes"]),
        synapse=SynapseSettings(
            workspace=synapse["workspace"],
            database=synapse["database"] or f"{PROJECT}_{env}",
            auth=synapse["auth"],
            location=synapse["location"],
            string_length=int(synapse["string_length"]),
        ),
        catalog=conf["catalog"],
        storage_root=conf["storage"]["root"],
        secret_scope=conf["secrets"]["scope"] if conf["secrets"]["provider"] == "databricks" else None,
        folder_readers=tuple(section["folder_permissions"]["can_read"]),
        per_user=bool(section["per_user"]),
        deployer=section["deployer"],
    )


def _workspace_folder(folder: str, where: str) -> str:
    """API paths omit the ``/Workspace`` prefix that cluster file paths carry; accept either spelling."""
    if folder.startswith("/Workspace/"):
        folder = folder[len("/Workspace") :]
    if not folder.startswith("/") or folder.rstrip("/") in ("", "/Shared", "/Users"):
        raise ConfigError(
            f"{where}.workspace_folder must be a folder of its own like /Deployments/medallion/qa, got {folder!r}."
        )
    if folder == "/Shared" or folder.startswith("/Shared/"):
        raise ConfigError(
            f"{where}.workspace_folder {folder!r} is under /Shared, which every workspace user may edit, "
            "while the jobs run its files as the job principal: use a folder of its own such as "
            "/Deployments/medallion/<env>, whose permissions the deploy sets."
        )
    return folder.rstrip("/")


def _check_known(names, known, where: str) -> None:
    if known is None:
        return
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"{where}: unknown pipeline(s) {', '.join(unknown)}. Known: {', '.join(known)}.")


def _permissions(section: dict, where: str) -> tuple[tuple[str, str], ...]:
    granted = []
    for key, level in PERMISSION_LEVELS.items():
        for group in section[key]:
            if not isinstance(group, str) or not group:
                raise ConfigError(f"{where}.permissions.{key} must list group names, got {group!r}.")
            granted.append((group, level))
    return tuple(granted)


def https_location(abfss_url: str) -> str:
    """``abfss://container@account.dfs.core.windows.net/path`` → ``https://account.dfs.core.windows.net/container/path``."""
    parsed = urlparse(abfss_url)
    if parsed.scheme not in ("abfss", "abfs") or "@" not in parsed.netloc:
        raise ConfigError(f"{abfss_url!r} is not an abfss:// URL; set deployment.synapse.location to the https:// URL.")
    container, account_host = parsed.netloc.split("@", 1)
    return f"https://{account_host}/{container}{parsed.path.rstrip('/')}"
