"""Layered configuration: ``conf/base.yml`` overlaid by ``conf/<env>.yml``, loaded once into a frozen object.

``base.yml`` is the schema: an environment file may only set keys that base declares, and a value must
keep the type base gives it (when base gives one). A wrong key or type stops with a message naming the
file, the key path and what is allowed, before anything runs.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from medallion.errors import ConfigError, UnknownEnvironmentError
from medallion.platform import layout

PROJECT_DIR = Path(__file__).resolve().parents[3]
DEFAULT_CONF_DIR = PROJECT_DIR / "conf"
PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"
DEFAULT_LOCAL_ROOT = PROJECT_DIR / ".lakehouse"
ROOT_ENV_VAR = "MEDALLION_ROOT"
# Local runtime: the folder that holds the landing zones, one per storage root (``<it>/<root's name>-<hash>``),
# when storage.landing is not set. The databricks test profile points it at a ``/Volumes/...`` folder.
LANDING_ENV_VAR = "MEDALLION_LANDING_ROOT"
CONF_DIR_ENV_VAR = "MEDALLION_CONF_DIR"
# An engineer's per-user target (dev, deployment.per_user): set on its job clusters by `medallion deploy`, it
# gives the jobs a storage root, landing zone, schemas and topics of the engineer's own (see per_user_settings).
USER_TARGET_ENV_VAR = "MEDALLION_USER_TARGET"
USER_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # safe in a path, a schema name and a topic name


@dataclass(frozen=True)
class SecretsSettings:
    provider: str
    scope: str
    file: str


@dataclass(frozen=True)
class DatabaseSettings:
    """A relational source reached over JDBC. The password is never here: ``password_secret`` names it in
    the secret store. ``url`` may use ``${VAR:-default}`` (e.g. the local server's port)."""

    name: str
    url: str | None
    user: str
    password_secret: str
    driver: str


@dataclass(frozen=True)
class KafkaSettings:
    """The stream sources' Kafka endpoint. ``security``: ``plaintext`` (the project's local broker) or
    ``eventhubs`` (SASL_SSL, mechanism PLAIN, user ``$ConnectionString``, the password the secret
    ``connection_string_secret``: Event Hubs' Kafka endpoint on port 9093). ``bootstrap_servers`` may use
    ``${VAR:-default}`` (e.g. the local broker's port)."""

    bootstrap_servers: str
    security: str = "plaintext"
    connection_string_secret: str = "eventhubs-connection-string"


@dataclass(frozen=True)
class Settings:
    env: str
    runtime: str
    root: str
    landing: str
    catalog: str | None
    shuffle_partitions: int
    app_name: str
    trigger_interval: str
    max_files_per_trigger: int
    secrets: SecretsSettings
    pipelines: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    databases: Mapping[str, DatabaseSettings] = field(default_factory=dict)
    schema_suffix: str = ""  # an isolated run (deployed integration tests) adds _<run id> to every schema
    landing_upload: str | None = None  # the abfss:// location behind a /Volumes/ landing, for `medallion upload`
    kafka: KafkaSettings | None = None

    @property
    def is_databricks(self) -> bool:
        return self.runtime == "databricks"

    def pipeline(self, name: str) -> Mapping[str, Any]:
        """The settings section of one pipeline (empty when the pipeline declares none)."""
        return self.pipelines.get(name, MappingProxyType({}))

    def database(self, name: str) -> DatabaseSettings:
        """The connection settings of one relational source (``databases.<name>``), with a URL."""
        if name not in self.databases:
            known = ", ".join(sorted(self.databases)) or "(none)"
            raise ConfigError(f"No database '{name}' under 'databases' in conf/base.yml. Known: {known}.")
        database = self.databases[name]
        if not database.url:
            raise ConfigError(
                f"databases.{name}.url is not set for environment '{self.env}': set it in conf/{self.env}.yml."
            )
        return database

    def path(self, *parts: str) -> str:
        """A location under the storage root (local folder or abfss:// URL); names come from ``layout``."""
        return layout.join(self.root, *parts)

    def landing_path(self, pipeline: str, *folder: str) -> str:
        """A pipeline's landing zone, or one of its folders."""
        return layout.landing_folder(self.landing, pipeline, *folder)


def load_settings(
    env: str = "local",
    root: str | None = None,
    conf_dir: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read base + environment files, apply ``overrides`` (a nested dict), validate, freeze."""
    return _freeze(env, load_conf(env, conf_dir, overrides), root)


def load_conf(
    env: str = "local",
    conf_dir: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict:
    """The validated, merged configuration as plain nested data, for the tools that read sections
    :class:`Settings` does not model (``deployment``). ``$MEDALLION_CONF_DIR`` points at the conf folder
    where the package is installed without its repository (a Databricks job: the deployed ``conf/``)."""
    conf_dir = Path(conf_dir or os.environ.get(CONF_DIR_ENV_VAR) or DEFAULT_CONF_DIR)
    base_file = conf_dir / "base.yml"
    env_file = conf_dir / f"{env}.yml"
    if not env_file.exists():
        known = sorted(p.stem for p in conf_dir.glob("*.yml") if p.stem != "base")
        raise UnknownEnvironmentError(
            f"Unknown environment '{env}': no {env_file}. Known environments: {', '.join(known)}."
        )
    base = _read_yaml(base_file)
    base["pipelines"] = {**pipeline_defaults(), **(base.get("pipelines") or {})}
    merged = _overlay(base, _read_yaml(env_file), source=env_file.name)
    if overrides:
        merged = _overlay(merged, dict(overrides), source="overrides")
    return merged


def pipeline_defaults() -> dict[str, dict]:
    """Each pipeline's own settings, ``pipelines/<name>/conf.yml``, read as data (no pipeline is imported):
    the defaults and the schema of ``pipelines.<name>`` in the environment files."""
    folders = [PIPELINES_DIR]
    package = sys.modules.get("medallion.pipelines")  # a pipeline folder may sit outside the project (its __path__)
    if package is not None:
        folders += [Path(entry) for entry in package.__path__ if Path(entry) != PIPELINES_DIR]
    return {path.parent.name: _read_yaml(path) for folder in folders for path in sorted(folder.glob("*/conf.yml"))}


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path.name} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} must hold a mapping of settings, not {type(data).__name__}.")
    return data


def _overlay(base: dict, top: dict, source: str, prefix: str = "") -> dict:
    merged = dict(base)
    for key, value in top.items():
        where = f"{prefix}{key}"
        if key not in base:
            allowed = ", ".join(sorted(base)) or "(none)"
            raise ConfigError(f"{source}: unknown setting '{where}'. Allowed here: {allowed}.")
        default = base[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{where}' must be a mapping, got {value!r}.")
            merged[key] = _overlay(default, value, source, prefix=f"{where}.")
        elif default is not None and value is not None and not _same_kind(default, value):
            raise ConfigError(
                f"{source}: '{where}' must be {type(default).__name__} like its default {default!r}, got {value!r}."
            )
        else:
            merged[key] = value
    return merged


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)) and isinstance(value, (int, float)):
        return isinstance(value, int) or isinstance(default, float)
    return isinstance(value, type(default))


def _default_landing(runtime: str, root: str) -> str:
    """``<root>/landing``, or with ``$MEDALLION_LANDING_ROOT`` (local runtime) a folder of its own there, named
    after the storage root so two lakehouses never share landed files."""
    shared = os.environ.get(LANDING_ENV_VAR) if runtime == "local" else None
    return layout.shared_landing(shared, root) if shared else layout.default_landing(root)


def _freeze(env: str, conf: dict, root_override: str | None) -> Settings:
    runtime = conf["runtime"]
    if runtime not in ("local", "databricks"):
        raise ConfigError(f"'runtime' must be local or databricks, got {runtime!r}.")
    root = root_override or (os.environ.get(ROOT_ENV_VAR) if runtime == "local" else None) or conf["storage"]["root"]
    if not root:
        if runtime != "local":
            raise ConfigError(f"conf/{env}.yml must set storage.root for the {runtime} runtime.")
        root = str(DEFAULT_LOCAL_ROOT)
    if runtime == "local":
        root = str(Path(root).expanduser().resolve())
    landing = conf["storage"]["landing"] or _default_landing(runtime, root)
    secrets = conf["secrets"]
    if secrets["provider"] not in ("env", "file", "databricks", "keyvault"):
        raise ConfigError(f"'secrets.provider' must be env, file, databricks or keyvault, got {secrets['provider']!r}.")
    settings = Settings(
        env=env,
        runtime=runtime,
        root=root,
        landing=landing,
        landing_upload=conf["storage"].get("landing_upload"),
        catalog=conf["catalog"],
        shuffle_partitions=int(conf["spark"]["shuffle_partitions"]),
        app_name=conf["spark"]["app_name"],
        trigger_interval=conf["streaming"]["trigger_interval"],
        max_files_per_trigger=int(conf["streaming"]["max_files_per_trigger"]),
        secrets=SecretsSettings(**secrets),
        pipelines=MappingProxyType({k: MappingProxyType(dict(v or {})) for k, v in conf["pipelines"].items()}),
        databases=MappingProxyType(
            {
                name: DatabaseSettings(
                    name=name,
                    url=_expand_env(db["url"]),
                    user=db["user"],
                    password_secret=db["password_secret"],
                    driver=db["driver"],
                )
                for name, db in (conf.get("databases") or {}).items()
            }
        ),
        kafka=_kafka_settings(conf.get("kafka")),
    )
    user = os.environ.get(USER_TARGET_ENV_VAR)
    return per_user_settings(settings, user) if user else settings


def per_user_settings(settings: Settings, user: str) -> Settings:
    """``settings`` as an engineer's per-user target sees them: the storage root and landing zone
    ``…/_users/<user>`` and the schema (and topic) suffix ``_<user>``. Engineers share the dev workspace,
    catalog and storage account; without this their jobs would write the same tables and checkpoints."""
    if not USER_KEY.match(user):
        raise ConfigError(
            f"${USER_TARGET_ENV_VAR} {user!r}: use 1-40 lower-case letters, digits or _, starting with a letter."
        )
    return replace(
        settings,
        root=layout.user_root(settings.root, user),
        landing=layout.user_root(settings.landing, user),
        schema_suffix=f"{settings.schema_suffix}_{user}",
    )


def _kafka_settings(kafka: Mapping[str, Any] | None) -> KafkaSettings | None:
    if not kafka:
        return None
    if kafka["security"] not in ("plaintext", "eventhubs"):
        raise ConfigError(f"'kafka.security' must be plaintext or eventhubs, got {kafka['security']!r}.")
    return KafkaSettings(
        bootstrap_servers=_expand_env(kafka["bootstrap_servers"]) or "",
        security=kafka["security"],
        connection_string_secret=kafka["connection_string_secret"],
    )


_ENV_REFERENCE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand_env(value: str | None) -> str | None:
    """``${VAR}`` / ``${VAR:-default}`` in a value, from the environment (unset and no default → empty)."""
    if value is None:
        return None
    return _ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)
