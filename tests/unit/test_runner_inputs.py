"""How the runner opens a table's inputs: a view's batch is one fixed version of each input table."""

from __future__ import annotations

from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, Scd1, snapshot, table
from medallion.engine import runner
from medallion.engine.runner import RunContext


def numbers_pipeline() -> Pipeline:
    @table(Layer.SILVER, Append())
    def numbers() -> DataFrame:
        """Only a storage location here: the tests write it directly."""
        raise AssertionError("never built")

    @table(Layer.GOLD, Scd1(("id",)), {"numbers": snapshot("numbers")})
    def numbers_view(numbers: DataFrame) -> DataFrame:
        """A materialized view: every number, recomputed on each run."""
        return numbers

    return Pipeline.of("pinning_demo", numbers, numbers_view)


def append_numbers(runtime, pipeline, start: int, end: int) -> None:
    path = runtime.location(pipeline.name, Layer.SILVER, "numbers").path
    runtime.spark.range(start, end).write.format("delta").mode("append").save(path)


def test_a_view_reads_its_inputs_as_of_one_version_even_while_they_grow(make_runtime):
    runtime = make_runtime()
    pipeline = numbers_pipeline()
    append_numbers(runtime, pipeline, 0, 3)
    context = RunContext(runtime, pipeline, progress=lambda message: None)

    batch = runner.build(context, pipeline.get("numbers_view"))
    append_numbers(runtime, pipeline, 3, 5)  # another stream commits to the input meanwhile

    # counted and merged later, the batch is still the 3 rows it was built from
    assert sorted(row["id"] for row in batch.collect()) == [0, 1, 2]
    assert runner.build(context, pipeline.get("numbers_view")).count() == 5


def test_each_view_run_reads_its_inputs_as_they_are_when_it_starts(make_runtime):
    runtime = make_runtime()
    pipeline = numbers_pipeline()
    append_numbers(runtime, pipeline, 0, 4)
    runner.ensure_tables(runtime, pipeline)
    context = RunContext(runtime, pipeline, progress=lambda message: None)
    view = pipeline.get("numbers_view")
    path = runtime.location(pipeline.name, Layer.GOLD, "numbers_view").path

    def stored():
        return sorted(row["id"] for row in runtime.spark.read.format("delta").load(path).collect())

    first = runner.run_table(context, view)
    assert (first.status, first.rows_in, first.rows_inserted) == ("ok", 4, 4)
    assert stored() == [0, 1, 2, 3]

    append_numbers(runtime, pipeline, 4, 6)  # the next run pins the newer version, not the first one
    second = runner.run_table(context, view)
    assert (second.status, second.rows_in, second.rows_inserted, second.rows_unchanged) == ("ok", 6, 2, 4)
    assert stored() == [0, 1, 2, 3, 4, 5]
