"""Set-up's empty tables: each created with its build's schema while the next ones' are worked out, and
registered by name; a declaration that fails leaves every table created before it registered, none unnamed."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StructField, StructType

from medallion import io
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, Scd1, snapshot, table
from medallion.engine import runner, setup


def chain(broken: bool) -> Pipeline:
    @table(Layer.SILVER, Append())
    def numbers() -> DataFrame:
        """Only a storage location here: the tests write it directly."""
        raise AssertionError("never built")

    @table(Layer.SILVER, Scd1(("id",)), {"numbers": snapshot("numbers")})
    def doubled(numbers: DataFrame) -> DataFrame:
        """Each number and its double."""
        return numbers.withColumn("twice", F.col("id") * 2)

    @table(Layer.GOLD, Scd1(("id",)), {"doubled": snapshot("doubled")})
    def labelled(doubled: DataFrame) -> DataFrame:
        """Each number with a label."""
        if broken:
            raise ValueError("labelled: a declaration error")
        return doubled.withColumn("label", F.lit("n"))

    return Pipeline.of("setup_demo", numbers, doubled, labelled)


def test_every_missing_table_is_created_empty_with_its_schema_and_registered(make_runtime):
    runtime = make_runtime()
    pipeline = chain(broken=False)
    runtime.spark.range(3).write.format("delta").save(runtime.location(pipeline.name, Layer.SILVER, "numbers").path)

    assert runner.ensure_tables(runtime, pipeline) == ["doubled", "labelled"]
    labelled = runtime.spark.table(runtime.location(pipeline.name, Layer.GOLD, "labelled").name)
    assert (labelled.columns, labelled.count()) == (["id", "twice", "label"], 0)
    assert runner.ensure_tables(runtime, pipeline) == []  # idempotent: nothing left to create


def test_a_failing_declaration_leaves_the_tables_created_before_it_registered(make_runtime):
    runtime = make_runtime()
    pipeline = chain(broken=True)
    runtime.spark.range(3).write.format("delta").save(runtime.location(pipeline.name, Layer.SILVER, "numbers").path)

    with pytest.raises(ValueError, match="a declaration error"):
        runner.ensure_tables(runtime, pipeline)
    doubled = runtime.location(pipeline.name, Layer.SILVER, "doubled")
    assert runtime.spark.table(doubled.name).columns == ["id", "twice"]  # created and reachable by name
    assert not io.table_exists(runtime.spark, runtime.location(pipeline.name, Layer.GOLD, "labelled").path)

    assert runner.ensure_tables(runtime, chain(broken=False)) == ["labelled"]  # once fixed, the rest


def test_what_a_build_collects_from_its_empty_inputs_is_answered_without_a_spark_job(make_runtime):
    """Working out a schema calls the build on empty inputs; a build that collects from them (a bound for
    a later read) must not pay a job with its join's shuffles for each table at set-up."""

    @table(Layer.SILVER, Scd1(("id",)), {"numbers": snapshot("numbers")})
    def bounded(numbers: DataFrame) -> DataFrame:
        """Each number with the smallest number whose double is among the numbers."""
        doubles = numbers.select((F.col("id") * 2).alias("id"))
        smallest = numbers.join(doubles, "id").orderBy("id").first()
        return numbers.withColumn("low", F.lit(smallest and smallest["id"]).cast("long"))

    runtime = make_runtime()
    pipeline = Pipeline.of("setup_collect", bounded)
    jobs = runtime.spark.sparkContext.statusTracker()
    last_job = max(jobs.getJobIdsForGroup(None), default=-1)

    schema = setup.output_schema(runtime, pipeline, bounded, {"numbers": StructType([StructField("id", LongType())])})

    assert [(f.name, f.dataType.simpleString()) for f in schema.fields] == [("id", "bigint"), ("low", "bigint")]
    assert [job for job in jobs.getJobIdsForGroup(None) if job > last_job] == []
