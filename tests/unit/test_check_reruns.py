"""A table whose check failed after its batch committed is checked again by every later run until the check
passes, whatever that run writes: a rerun never takes the failed run's rows as checked. Once the table is
fixed and checked, an unchanged table is skipped again."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, stream, table, unique
from medallion.engine import runner
from medallion.engine.eventlog import RecordedRun
from medallion.engine.runner import RunContext
from medallion.errors import ExpectationFailed


@table(Layer.BRONZE, Append())
def signups() -> DataFrame:
    """Only a storage location here: the test writes it directly."""
    raise AssertionError("never built")


@table(Layer.SILVER, Append(), {"signups": stream("signups")}, checks=(unique("email"),))
def members(signups: DataFrame) -> DataFrame:
    return signups.select("id", "email")


def test_a_failed_check_is_checked_again_until_it_passes(make_runtime):
    runtime = make_runtime()
    pipeline = Pipeline.of("checks_demo", signups, members)
    bronze = runtime.location(pipeline.name, Layer.BRONZE, "signups").path
    silver = runtime.location(pipeline.name, Layer.SILVER, "members").path

    def land(*rows: tuple[int, str]) -> None:
        runtime.spark.createDataFrame(rows, "id long, email string").write.format("delta").mode("append").save(bronze)

    def run(previous: RecordedRun | None):
        return runner.run_table(RunContext(runtime, pipeline, progress=lambda message: None), members, previous)

    land((1, "a@x"), (2, "b@x"))
    assert runner.ensure_tables(runtime, pipeline) == ["members"]
    first = run(None)
    assert (first.status, first.rows_inserted, first.checks) == ("ok", 2, {"unique(email)": 0})
    passed = RecordedRun(first.fingerprint)

    land((3, "a@x"))  # a second member with the first one's address
    with pytest.raises(ExpectationFailed, match=r"checks_demo.members: table check failed: unique\(email\) \(2 rows\)"):
        run(passed)
    assert runtime.spark.read.format("delta").load(silver).count() == 3  # the batch is committed

    # Nothing new: the rerun reads no row, and still checks the rows of the run that failed.
    with pytest.raises(ExpectationFailed, match=r"unique\(email\) \(2 rows\)"):
        run(passed)

    # An unrelated new row: its run checks the failed run's keys too, not its own alone.
    land((4, "d@x"))
    with pytest.raises(ExpectationFailed, match=r"unique\(email\) \(2 rows\)"):
        run(passed)

    runtime.spark.sql(f"DELETE FROM delta.`{silver}` WHERE id = 3")  # fixed in the table by hand
    fixed = run(passed)
    assert (fixed.status, fixed.rows_in, fixed.checks) == ("ok", 0, {"unique(email)": 0})
    again = run(RecordedRun(fixed.fingerprint))
    assert (again.status, again.checks) == ("skipped", {})
