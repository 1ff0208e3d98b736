"""A ``model(name, alias)`` input: the registry version under the alias, loaded, passed to the build; a
table waits for its first model before it is created; its fingerprint follows the alias."""

from __future__ import annotations

import mlflow
import mlflow.spark
import pytest
from pyspark.ml import Pipeline as MLPipeline
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, Overwrite, model, snapshot, table
from medallion.engine import changes, runner
from medallion.engine.runner import RunContext, StreamingRun
from medallion.sources import models


def scoring_pipeline() -> Pipeline:
    @table(Layer.SILVER, Append())
    def points() -> DataFrame:
        """Only a storage location here: the test writes it directly."""
        raise AssertionError("never built")

    @table(Layer.GOLD, Overwrite(), {"points": snapshot("points"), "line": model("line")})
    def scored(points: DataFrame, line) -> DataFrame:
        return line.model.transform(points).select("x", "prediction", F.lit(int(line.version)).alias("model_version"))

    @table(Layer.GOLD, Overwrite(), {"scored": snapshot("scored")})
    def scored_count(scored: DataFrame) -> DataFrame:
        return scored.groupBy("model_version").count()

    return Pipeline.of("model_demo", points, scored, scored_count)


def register(runtime, spark, slope: float) -> str:
    frame = spark.createDataFrame([(float(x), slope * x) for x in range(4)], "x DOUBLE, y DOUBLE")
    fitted = MLPipeline(
        stages=[VectorAssembler(inputCols=["x"], outputCol="features"), LinearRegression(labelCol="y")]
    ).fit(frame)
    registry = models.registry(runtime.settings, "model_demo")
    models.use(registry)
    mlflow.set_experiment(registry.experiment)
    with mlflow.start_run():
        info = mlflow.spark.log_model(fitted, "model", registered_model_name="line", pip_requirements=["pyspark"])
    return str(info.registered_model_version)


def test_a_table_reading_a_model_waits_for_it_then_scores_with_the_aliased_version(make_runtime, spark):
    runtime = make_runtime()
    pipeline = scoring_pipeline()
    spark.createDataFrame([(1.0,), (2.0,)], "x DOUBLE").write.format("delta").save(
        runtime.location("model_demo", Layer.SILVER, "points").path
    )
    registry = models.registry(runtime.settings, "model_demo")
    assert registry.tracking_uri.startswith("file:") and registry.tracking_uri.endswith("/mlflow")

    assert runner.ensure_tables(runtime, pipeline) == []  # no champion yet: scored and what reads it wait

    first = register(runtime, spark, 2.0)
    second = register(runtime, spark, 3.0)
    models.use(registry).set_registered_model_alias("line", "champion", first)
    assert runner.ensure_tables(runtime, pipeline) == ["scored", "scored_count"]

    context = RunContext(runtime, pipeline, progress=lambda message: None)
    rows = runner.build(context, pipeline.get("scored")).orderBy("x").collect()
    assert [(r.x, round(r.prediction, 6), r.model_version) for r in rows] == [(1.0, 2.0, 1), (2.0, 4.0, 1)]
    before = changes.fingerprint(context, pipeline.get("scored"))
    assert before["line"] == "1"

    models.use(registry).set_registered_model_alias("line", "champion", second)
    assert changes.fingerprint(context, pipeline.get("scored"))["line"] == "2"  # the moved alias re-runs it
    rows = runner.build(context, pipeline.get("scored")).orderBy("x").collect()
    assert [(round(r.prediction, 6), r.model_version) for r in rows] == [(3.0, 2), (6.0, 2)]

    # In stream mode the views refresh when the alias moves, as they do when an input table changes.
    views = [pipeline.get("scored"), pipeline.get("scored_count")]
    streams = StreamingRun(RunContext(runtime, pipeline, mode="stream", progress=lambda message: None), [], views)
    counted = runtime.location("model_demo", Layer.GOLD, "scored_count").path
    streams.refresh_views()
    assert [tuple(r) for r in spark.read.format("delta").load(counted).collect()] == [(2, 2)]
    models.use(registry).set_registered_model_alias("line", "champion", first)
    streams.refresh_views()
    assert [tuple(r) for r in spark.read.format("delta").load(counted).collect()] == [(1, 2)]


def test_no_version_under_the_alias_is_a_clear_error(make_runtime):
    runtime = make_runtime()
    registry = models.registry(runtime.settings, "model_demo")
    with pytest.raises(
        models.NoModelVersion, match="No version of model 'line' has the alias 'champion'.*medallion train"
    ):
        models.load(registry, "line", "champion")
