"""A streaming table's first start over a Delta input: a short history of appends is read commit by commit
from version 0, anything else from the input's snapshot; either way the stream takes exactly the input's rows."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame

from medallion import delta_log
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, stream, table
from medallion.engine import runner
from medallion.engine.runner import RunContext


def copying_pipeline() -> Pipeline:
    @table(Layer.SILVER, Append())
    def numbers() -> DataFrame:
        """Only a storage location here: the tests write it directly."""
        raise AssertionError("never built")

    @table(Layer.GOLD, Append(), {"numbers": stream("numbers")})
    def copies(numbers: DataFrame) -> DataFrame:
        """A streaming table: every number its input gains."""
        return numbers

    return Pipeline.of("first_start_demo", numbers, copies)


@pytest.fixture
def answers(monkeypatch) -> list[bool]:
    """Each answer the engine got when it asked whether an input's history only appended."""
    given: list[bool] = []
    asked = delta_log.only_appended

    def only_appended(spark, path, latest):
        given.append(asked(spark, path, latest))
        return given[-1]

    monkeypatch.setattr(delta_log, "only_appended", only_appended)
    return given


def run_copies(runtime, pipeline) -> list[int]:
    """The copies' run: the rows they hold after it."""
    context = RunContext(runtime, pipeline, progress=lambda message: None)
    result = runner.run_table(context, pipeline.get("copies"))
    assert result.status == "ok"
    path = runtime.location(pipeline.name, Layer.GOLD, "copies").path
    return sorted(row["id"] for row in runtime.spark.read.format("delta").load(path).collect())


def test_a_first_start_over_appends_reads_their_commits_and_takes_every_row(make_runtime, answers):
    runtime = make_runtime()
    pipeline = copying_pipeline()
    numbers = runtime.location(pipeline.name, Layer.SILVER, "numbers").path
    for start, end in ((0, 3), (3, 6), (6, 8)):  # versions 0 to 2
        runtime.spark.range(start, end).write.format("delta").mode("append").save(numbers)
    runner.ensure_tables(runtime, pipeline)  # the copies' table, as set-up creates it

    assert run_copies(runtime, pipeline) == list(range(8))
    assert answers == [True]  # read from version 0
    runtime.spark.range(8, 10).write.format("delta").mode("append").save(numbers)
    assert run_copies(runtime, pipeline) == list(range(10))
    assert answers == [True]  # a restart resumes from its checkpoint: nothing asked


def test_a_first_start_over_a_rewritten_input_reads_its_snapshot_and_takes_its_rows(make_runtime, answers):
    runtime = make_runtime()
    pipeline = copying_pipeline()
    numbers = runtime.location(pipeline.name, Layer.SILVER, "numbers").path
    runtime.spark.range(0, 6).write.format("delta").mode("append").save(numbers)
    runtime.spark.sql(f"DELETE FROM delta.`{numbers}` WHERE id = 4")  # a file removed: its commits are not the rows
    runner.ensure_tables(runtime, pipeline)

    assert run_copies(runtime, pipeline) == [0, 1, 2, 3, 5]  # a stream of the commits would fail on the delete
    assert answers == [False]
