"""Training runs tracked in MLflow: parameters, metrics, the feature list and the model; a new registered
version per run, which takes the champion alias only when it beats the current champion on the same
held-out data (lower RMSE for the regressor, higher silhouette for the segmentation). A retrain that does
not beat it leaves the alias where it is and says so (run tag ``promotion`` and the log).

A training is skipped when a run of the same model already used the same training data (the Delta
version of ``customer_features`` and a digest of its rows: see :func:`training_data_tag`) and the same
settings, unless forced: a re-run of the notebooks does not register a new version each time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.pipelines.cltv import training
from medallion.pipelines.cltv.silver import FEATURE_COLUMNS
from medallion.sources import models

REGRESSOR = "cltv_regressor"
SEGMENTATION = "customer_segmentation"


@dataclass(frozen=True)
class Outcome:
    """What one training did: the version it registered (None when skipped) and whether it is champion."""

    model: str
    version: str | None
    champion: str | None
    promoted: bool
    metrics: Mapping[str, float]
    message: str


def training_data_tag(features: DataFrame, version: int) -> str:
    """``customer_features@v<version>:<rows>-<digest>``: the table's version and a digest of its rows, order
    aside (the sum of the rows' hashes). The version alone would match a run on other data after a reset,
    whose rebuilt table counts its versions from 0 again while the MLflow store keeps its runs."""
    totals = features.agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.xxhash64(*features.columns).cast("decimal(38,0)")).alias("hashes")
    ).first()
    assert totals is not None  # an aggregate without grouping has one row
    return f"customer_features@v{version}:{totals['rows']}-{totals['hashes'] or 0}"


def settings_digest(conf: Mapping[str, Any], features) -> str:
    relevant = {k: v for k, v in conf.items() if not k.startswith(("mlflow_", "seed", "new_customers"))}
    return hashlib.sha256(json.dumps([relevant, list(features)], sort_keys=True, default=str).encode()).hexdigest()[:16]


def signature(features: DataFrame, feature_columns, output: tuple[str, str]):
    """The model's input columns (their Spark types) and output column: Unity Catalog registers only
    models that carry a signature. Read from the schema, no data."""
    from mlflow.models import infer_signature
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    inputs = infer_signature(features.select(*feature_columns)).inputs
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec(output[1], output[0])]))


def train_regressor(
    registry: models.Registry,
    features: DataFrame,
    conf: Mapping[str, Any],
    data_tag: str,
    feature_columns=FEATURE_COLUMNS,
    force: bool = False,
    log=print,
) -> Outcome:
    seed, percent = int(conf["training_seed"]), int(conf["holdout_percent"])
    train, test = training.split(features, seed, percent)
    params = {
        "seed": seed,
        "holdout_percent": percent,
        "max_iter": int(conf["regressor_max_iter"]),
        "max_depth": int(conf["regressor_max_depth"]),
        "algorithm": "GBTRegressor",
        "label": training.LABEL,
    }

    def fit():
        model = training.regressor(feature_columns, seed, params["max_iter"], params["max_depth"]).fit(train)
        metrics = training.regression_metrics(model.transform(test))
        baseline = training.mean_baseline(train, test)
        metrics.update({f"baseline_{k}": v for k, v in baseline.items()})
        metrics["rmse_reduction_vs_baseline"] = 1 - metrics["rmse"] / baseline["rmse"]
        return model, metrics

    def score(model: PipelineModel) -> float:
        return training.regression_metrics(model.transform(test))["rmse"]

    return _tracked(
        registry,
        REGRESSOR,
        conf,
        data_tag,
        feature_columns,
        params,
        fit,
        "rmse",
        score,
        lower_is_better=True,
        force=force,
        log=log,
        model_signature=signature(features, feature_columns, (training.PREDICTION, "double")),
    )


def train_segmentation(
    registry: models.Registry,
    features: DataFrame,
    conf: Mapping[str, Any],
    data_tag: str,
    feature_columns=training.SEGMENT_FEATURES,
    force: bool = False,
    log=print,
) -> Outcome:
    seed = int(conf["training_seed"])
    params = {
        "seed": seed,
        "k_min": int(conf["segments_k_min"]),
        "k_max": int(conf["segments_k_max"]),
        "max_iter": int(conf["segments_max_iter"]),
        "algorithm": "KMeans on standardised features",
    }

    def fit():
        chosen = training.choose_segmentation(
            features, feature_columns, params["k_min"], params["k_max"], seed, params["max_iter"]
        )
        metrics = {
            "silhouette": chosen.silhouette,
            "k": float(chosen.k),
            **{f"silhouette_k{k}": s for k, s in chosen.silhouettes.items()},
        }
        return chosen.model, metrics

    def score(model: PipelineModel) -> float:
        return training.silhouette(model, features)

    return _tracked(
        registry,
        SEGMENTATION,
        conf,
        data_tag,
        feature_columns,
        params,
        fit,
        "silhouette",
        score,
        lower_is_better=False,
        force=force,
        log=log,
        extra=lambda model: {"segment_labels.json": training.segment_labels(model)},
        model_signature=signature(features, feature_columns, (training.SEGMENT, "integer")),
    )


def _tracked(
    registry: models.Registry,
    name: str,
    conf: Mapping[str, Any],
    data_tag: str,
    feature_columns,
    params: dict,
    fit: Callable,
    metric: str,
    score: Callable[[PipelineModel], float],
    lower_is_better: bool,
    force: bool,
    log,
    extra: Callable[[PipelineModel], dict] | None = None,
    model_signature=None,
) -> Outcome:
    import mlflow
    import mlflow.spark
    import pyspark

    client = models.use(registry)
    experiment = mlflow.set_experiment(registry.experiment)
    alias = str(conf["champion_alias"])
    full_name = registry.full_name(name)
    tags = {"model": name, "training_data": data_tag, "settings": settings_digest(conf, feature_columns)}
    if not force:
        earlier = client.search_runs(
            [experiment.experiment_id],
            max_results=1,
            filter_string=" and ".join(f"tags.{key} = '{value}'" for key, value in tags.items()),
        )
        if earlier:
            champion = models.alias_version(registry, name, alias)
            message = (
                f"{full_name}: already trained on {data_tag} with these settings (run {earlier[0].info.run_id}); "
                f"champion stays version {champion}"
            )
            log(f"[cltv] {message}")
            return Outcome(name, None, champion, False, dict(earlier[0].data.metrics), message)
    model, metrics = fit()
    with mlflow.start_run(run_name=name, tags=tags) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_dict({"features": list(feature_columns)}, "features.json")
        for file_name, content in (extra(model) if extra else {}).items():
            mlflow.log_dict(content, file_name)
        info = mlflow.spark.log_model(
            model,
            "model",
            registered_model_name=full_name,
            signature=model_signature,
            pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
        )
        version = str(info.registered_model_version)
        champion = models.alias_version(registry, name, alias)
        if champion is None:
            promoted, reason = True, f"first version: takes the alias {alias}"
        else:
            current = score(models.load(registry, name, alias).model)
            better = metrics[metric] < current if lower_is_better else metrics[metric] > current
            promoted = better
            comparison = (
                f"{metric} {metrics[metric]:.4f} vs champion version {champion}'s {current:.4f} on the same data"
            )
            reason = (
                f"beats the champion: {comparison}"
                if better
                else f"does not beat the champion, alias {alias} left on version {champion}: {comparison}"
            )
        if promoted:
            client.set_registered_model_alias(full_name, alias, version)
        client.set_model_version_tag(full_name, version, "promotion", reason)
        mlflow.set_tag("promotion", reason)
        mlflow.set_tag("registered_version", version)
    message = f"{full_name} version {version} (run {run.info.run_id}): {metric} {metrics[metric]:.4f}; {reason}"
    log(f"[cltv] {message}")
    return Outcome(name, version, version if promoted else champion, promoted, metrics, message)
