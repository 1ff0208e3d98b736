"""One batch of landed files: measured by the pass that writes it, with every count, quarantine row and
replay guarantee of a batch measured first."""

import dataclasses
import os

import pytest
from pyspark.sql import functions as F

from medallion.declare.tables import Append, Expectation, FileSource, InsertOnly, Layer
from medallion.engine import batch, quality
from medallion.platform.runtime import TableLocation
from medallion.sources.files import read_files_once

SOURCE = FileSource("people", "json", "id BIGINT, name STRING", stream=False)
NAMED = Expectation("named", "name IS NOT NULL", "drop")
MEASURE = quality.measure
LINES = b'{"id": 1, "name": "Ann"}\n{"id": "two", "name": "Bob"}\n{"id": 3}\n{"id": 4, "name": "Dee", "age": 9}\n'


def landed_batch(runtime):
    folder = runtime.settings.landing_path("demo", SOURCE.folder)
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/a.json", "wb") as out:
        out.write(LINES)
    return read_files_once(runtime.spark, runtime.settings, SOURCE, "demo")


def job_of(runtime, write, expectations=(NAMED,)):
    root = runtime.settings.root
    return batch.BatchJob(
        pipeline="demo",
        table="people_bz",
        layer=Layer.BRONZE,
        mode="once",
        run_id="run-1",
        write=write,
        expectations=expectations,
        source=SOURCE,
        personal_data={},
        partition_by=(),
        location=TableLocation("demo", Layer.BRONZE, "people_bz", f"{root}/people_bz", "people_bz", f"{root}/_cp"),
        quarantine_path=f"{root}/quarantine",
        log_path=f"{root}/batch_log",
    )


def unmeasured(*_args, **_kwargs):
    raise AssertionError("the batch was measured apart from its write")


@pytest.mark.parametrize("write", [Append(), InsertOnly(("id",))], ids=["append", "keyed first write"])
def test_a_batch_of_landed_files_is_measured_by_the_pass_that_writes_it(make_runtime, monkeypatch, write):
    runtime = make_runtime()
    job = job_of(runtime, write)
    with monkeypatch.context() as patched:
        patched.setattr(quality, "measure", unmeasured)
        counts = batch.process(job, landed_batch(runtime), 7)

    # 4 rows in: "two" does not parse, {"id": 3} has no name; 2 accepted, the rescued "age" is drift.
    assert (counts.rows_in, counts.rows_quarantined, counts.rows_inserted, counts.rows_updated) == (4, 2, 2, 0)
    assert counts.broken_rules == {"named": 1, "parsed": 1, "valid_utf8": 0, "no_new_columns": 1}
    assert counts.schema_drift == {"age": 1}
    assert counts.source_reads == 2  # its files read again, once, for the quarantine rows and the drift
    spark = runtime.spark
    stored = spark.read.format("delta").load(job.location.path)
    assert sorted((r.id, r.name, r._rescued_data) for r in stored.collect()) == [
        (1, "Ann", None),
        (4, "Dee", '{"age":"9"}'),
    ]
    rejected = spark.read.format("delta").load(job.quarantine_path)
    assert sorted((r.rules, r.batch_id) for r in rejected.collect()) == [(["named"], 7), (["parsed"], 7)]

    # The same batch again (a replay): nothing is written twice and its counts are the same rows'.
    again = batch.process(job, landed_batch(runtime), 7)
    assert (again.rows_in, again.rows_quarantined, again.rows_inserted, again.rows_duplicate) == (4, 2, 0, 0)
    assert stored.count() == 2 and rejected.count() == 2


def test_a_batch_with_a_failing_rule_is_measured_before_anything_is_written(make_runtime):
    runtime = make_runtime()
    job = job_of(runtime, Append(), expectations=(Expectation("named", "name IS NOT NULL", "fail"),))
    with pytest.raises(Exception, match="expect_or_fail broken by named \\(1 rows\\)"):
        batch.process(job, landed_batch(runtime), 1)
    assert not os.path.exists(job.location.path) and not os.path.exists(job.quarantine_path)


def test_a_keyed_table_that_holds_rows_merges_with_its_batch_measured_first(make_runtime, monkeypatch):
    runtime = make_runtime()
    job = job_of(runtime, InsertOnly(("id",)))
    batch.process(job, landed_batch(runtime), 1)
    measured = []
    monkeypatch.setattr(quality, "measure", lambda *a, **k: measured.append(1) or MEASURE(*a, **k))
    more = landed_batch(runtime).withColumn("id", F.col("id") + 10)
    counts = batch.process(job, more, 2)
    assert measured == [1]  # a merge needs the batch's key ranges before it starts
    assert (counts.rows_in, counts.rows_quarantined, counts.rows_inserted) == (4, 2, 2)
    stored = runtime.spark.read.format("delta").load(job.location.path)
    assert sorted(r.id for r in stored.collect()) == [1, 4, 11, 14]


def silver_job(runtime, stateless):
    landing_job = job_of(runtime, InsertOnly(("id",)))
    root = runtime.settings.root
    return dataclasses.replace(
        landing_job,
        table="people",
        layer=Layer.SILVER,
        source=None,
        stateless=stateless,
        location=TableLocation("demo", Layer.SILVER, "people", f"{root}/people", "people", f"{root}/_cp2"),
    )


def parsed_batch(spark):
    """A batch of a table fed by another table: parsed rows with the parser's working columns."""
    return spark.createDataFrame(
        [(1, "Ann", None, None), (2, None, None, None), (3, "Cy", None, '{"age":"9"}'), (None, None, "{oops", None)],
        "id BIGINT, name STRING, _corrupt_record STRING, _rescued_data STRING",
    )


def test_a_stateless_query_of_other_tables_is_measured_by_the_pass_that_writes_it(make_runtime, monkeypatch):
    runtime = make_runtime()
    job = silver_job(runtime, stateless=True)
    parsed = Expectation("value_parsed", "_corrupt_record IS NULL", "drop")
    job = dataclasses.replace(job, expectations=(parsed, NAMED))
    with monkeypatch.context() as patched:
        patched.setattr(quality, "measure", unmeasured)
        counts = batch.process(job, parsed_batch(runtime.spark), 3)

    assert (counts.rows_in, counts.rows_quarantined, counts.rows_inserted) == (4, 2, 2)
    assert counts.broken_rules == {"value_parsed": 1, "named": 2}
    assert counts.schema_drift == {"age": 1} and counts.source_reads == 2
    stored = runtime.spark.read.format("delta").load(job.location.path)
    assert stored.columns == ["id", "name"]  # the rescued fields stay in bronze; silver records them as drift
    assert sorted(r.id for r in stored.collect()) == [1, 3]


def test_a_query_that_holds_state_is_measured_before_it_is_written(make_runtime, monkeypatch):
    runtime = make_runtime()
    job = silver_job(runtime, stateless=False)
    measured = []
    monkeypatch.setattr(quality, "measure", lambda *a, **k: measured.append(1) or MEASURE(*a, **k))
    counts = batch.process(job, parsed_batch(runtime.spark).where("_corrupt_record IS NULL"), 1)
    assert measured == [1]  # reading a stateful batch twice would advance its state twice
    assert (counts.rows_in, counts.rows_quarantined, counts.rows_inserted) == (3, 1, 2)
