"""The model registry: MLflow, a tracking store under the storage root locally, the workspace's tracking
server and Unity Catalog model registry on Databricks.

Locally the store is ``file:<root>/mlflow`` (no server; ``mlflow ui --backend-store-uri <root>/mlflow``
browses it) and models are registered by their short name. On Databricks runs are tracked by the
workspace (``databricks``), models live in Unity Catalog (``databricks-uc``) as
``<catalog>.<pipeline>_gold.<name>``, beside the gold tables they score, and experiments as
``/Shared/medallion/<env>/<pipeline>``. A pipeline's ``conf.yml`` may set ``mlflow_tracking_uri``,
``mlflow_registry_uri`` and ``mlflow_experiment`` to choose otherwise per environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medallion.errors import SourceError
from medallion.platform import layout
from medallion.platform.config import Settings


class NoModelVersion(SourceError):
    """No version of the model carries the alias (nothing trained yet, or the alias was removed)."""


@dataclass(frozen=True)
class Registry:
    tracking_uri: str
    registry_uri: str
    experiment: str
    name_prefix: str = ""  # "<catalog>.<pipeline>_gold." in Unity Catalog

    def full_name(self, name: str) -> str:
        return f"{self.name_prefix}{name}"


@dataclass(frozen=True)
class ModelVersion:
    """What a table reading ``model(name, alias)`` receives: the loaded Spark ML model and its version."""

    name: str
    version: str
    model: Any
    run_id: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)


def registry(settings: Settings, pipeline: str) -> Registry:
    conf = settings.pipeline(pipeline)
    if settings.is_databricks:
        prefix = f"{settings.catalog}.{pipeline}_gold." if settings.catalog else ""
        default = Registry("databricks", "databricks-uc", f"/Shared/medallion/{settings.env}/{pipeline}", prefix)
    else:
        store = layout.mlflow_store(settings.root)
        uri = store if "://" in store else Path(store).resolve().as_uri()
        default = Registry(uri, uri, pipeline)
    return Registry(
        conf.get("mlflow_tracking_uri") or default.tracking_uri,
        conf.get("mlflow_registry_uri") or default.registry_uri,
        conf.get("mlflow_experiment") or default.experiment,
        default.name_prefix,
    )


def use(target: Registry):
    """Point MLflow's fluent API (``mlflow.start_run``, ``models:/`` URIs) at ``target``; returns a client."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.registry_uri)
    return MlflowClient(target.tracking_uri, target.registry_uri)


def alias_version(target: Registry, name: str, alias: str) -> str | None:
    """The version ``alias`` points at (None: no such model or alias)."""
    from mlflow.exceptions import MlflowException

    client = use(target)
    try:
        return str(client.get_model_version_by_alias(target.full_name(name), alias).version)
    except MlflowException:
        return None


def load(target: Registry, name: str, alias: str) -> ModelVersion:
    """The version under ``alias``, loaded as a Spark ML model; a clear error when there is none."""
    import mlflow.spark

    client = use(target)
    version = alias_version(target, name, alias)
    if version is None:
        raise NoModelVersion(
            f"No version of model '{target.full_name(name)}' has the alias '{alias}' in {target.registry_uri}: "
            "train it first (`medallion train <pipeline>`, or run the gold layer, which trains before scoring)."
        )
    details = client.get_model_version(target.full_name(name), version)
    metrics = client.get_run(details.run_id).data.metrics if details.run_id else {}
    model = mlflow.spark.load_model(f"models:/{target.full_name(name)}/{version}")
    return ModelVersion(target.full_name(name), version, model, details.run_id or "", dict(metrics))
