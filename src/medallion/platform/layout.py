"""The one naming rule of the lakehouse: where each table, checkpoint, landing folder and system file lives,
and what each schema is called. Every other module asks here; none writes a path or a schema name itself.

Under the storage root (a local folder or an ``abfss://`` URL)::

    <root>/<pipeline>/<layer>/<table>          a table's Delta files
    <root>/<pipeline>/_quarantine              the pipeline's quarantined rows
    <root>/_checkpoints/<pipeline>/<table>     a streaming table's checkpoint
    <root>/_staging/<pipeline>/<table>/<what>  rows of one table's run, computed once and read back
    <root>/_system/<name>                      the event log, the batch log, run locks
    <root>/_system/last_runs/<pipeline>        each table's last run, as the event log says (a cache)
    <root>/_test_runs/<run id>                 the storage root of an isolated test run
    <root>/_users/<user>                       the storage root of an engineer's per-user dev target
    <root>/_warehouse, <root>/_derby           the local metastore (local runtime only)
    <root>/mlflow                              the local MLflow tracking store and model registry
    <root>/landing                             the landing root, unless storage.landing sets one

Under the landing root (a local folder, a ``/Volumes/`` path or an ``abfss://`` URL)::

    <landing>/<pipeline>/<folder>/<file>       a landed file, namespaced per pipeline

Schemas: ``<pipeline>_<layer><suffix>`` (the suffix is a per-user target's ``_<user>`` and an isolated test
run's ``_<run id>``; Kafka topics carry it too), inside the
environment's Unity Catalog catalog on Databricks: ``<catalog>.<pipeline>_<layer>.<table>``.
"""

from __future__ import annotations

import hashlib
from enum import Enum

CHECKPOINTS = "_checkpoints"
QUARANTINE = "_quarantine"
STAGING = "_staging"
SYSTEM = "_system"
TEST_RUNS = "_test_runs"
USERS = "_users"
LOCKS = "locks"
LAST_RUNS = "last_runs"
MLFLOW = "mlflow"
WAREHOUSE = "_warehouse"
METASTORE = "_derby"
LANDING = "landing"


def join(base: str, *parts: str) -> str:
    """``base/part/…``: a path or URL joined with ``/`` (never ``pathlib``: ``Path("abfss://…")`` is local)."""
    return "/".join([base.rstrip("/"), *parts])


def _name(layer: Enum | str) -> str:
    return str(layer.value) if isinstance(layer, Enum) else layer


def schema(pipeline: str, layer: Enum | str, suffix: str = "", catalog: str | None = None) -> str:
    name = f"{pipeline}_{_name(layer)}{suffix}"
    return f"{catalog}.{name}" if catalog else name


def pipeline_folder(root: str, pipeline: str) -> str:
    """Every table of a pipeline, and its quarantine."""
    return join(root, pipeline)


def table_folder(pipeline: str, layer: Enum | str, table: str) -> str:
    """A table's folder relative to the storage root (what Synapse's external data source is given)."""
    return f"{pipeline}/{_name(layer)}/{table}"


def table_path(root: str, pipeline: str, layer: Enum | str, table: str) -> str:
    return join(root, table_folder(pipeline, layer, table))


def checkpoints(root: str, pipeline: str) -> str:
    """The streaming checkpoints of a pipeline's tables."""
    return join(root, CHECKPOINTS, pipeline)


def checkpoint(root: str, pipeline: str, table: str) -> str:
    return join(checkpoints(root, pipeline), table)


def quarantine(root: str, pipeline: str) -> str:
    return join(root, pipeline, QUARANTINE)


def staging(root: str, pipeline: str, table: str, purpose: str) -> str:
    return join(root, STAGING, pipeline, table, purpose)


def system(root: str, name: str) -> str:
    return join(root, SYSTEM, name)


def lock(root: str, pipeline: str) -> str:
    """A pipeline's run lock (local runs)."""
    return join(root, SYSTEM, LOCKS, f"{pipeline}.lock")


def last_runs(root: str, pipeline: str) -> str:
    """What each table of a pipeline consumed in its last successful run (engine.last_runs)."""
    return join(root, SYSTEM, LAST_RUNS, pipeline)


def isolated_root(base: str, run_id: str) -> str:
    """The storage root (or landing root) of an isolated test run under ``base``."""
    return join(base, TEST_RUNS, run_id)


def user_root(base: str, user: str) -> str:
    """The storage root (or landing root) of an engineer's per-user target under ``base``."""
    return join(base, USERS, user)


def warehouse(root: str) -> str:
    return join(root, WAREHOUSE)


def metastore(root: str) -> str:
    return join(root, METASTORE)


def mlflow_store(root: str) -> str:
    return join(root, MLFLOW)


def default_landing(root: str) -> str:
    return join(root, LANDING)


def shared_landing(landing_root: str, root: str) -> str:
    """The landing zone of storage root ``root`` in a folder that holds the zones of many roots
    (``$MEDALLION_LANDING_ROOT``): named after the root, with a digest so two roots never share one."""
    digest = hashlib.sha1(root.encode()).hexdigest()[:8]
    return join(landing_root, f"{root.rstrip('/').rsplit('/', 1)[-1]}-{digest}")


def landing_folder(landing: str, pipeline: str, *folder: str) -> str:
    """A pipeline's landing zone, or one of its folders."""
    return join(landing, pipeline, *folder)
