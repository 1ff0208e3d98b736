"""A table that reads one partition of another (one topic of a multiplexed bronze table) reads only those
rows, and is skipped when a run's new rows are all in other partitions, never when its own partition changed."""

from __future__ import annotations

import datetime
import re

import pytest
from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, Layer, stream, table
from medallion.engine import runner
from medallion.engine.eventlog import RecordedRun
from medallion.engine.runner import RunContext
from medallion.errors import MedallionError


@table(Layer.BRONZE, Append(), partition_by=("topic",))
def messages() -> DataFrame:
    """Only a storage location here: the tests write it directly."""
    raise AssertionError("never built")


@table(Layer.SILVER, Append(), {"orders": stream("messages", partition={"topic": "orders"})})
def orders(orders: DataFrame) -> DataFrame:
    return orders.select("id", "topic")


def land(runtime, pipeline, ids: range, topic: str) -> None:
    path = runtime.location(pipeline.name, Layer.BRONZE, "messages").path
    rows = runtime.spark.range(ids.start, ids.stop).selectExpr("id", f"'{topic}' AS topic")
    rows.write.format("delta").mode("append").partitionBy("topic").save(path)


def run_orders(runtime, pipeline, previous):
    """One run of ``orders`` (a new context: versions are looked up again, as each run does)."""
    context = RunContext(runtime, pipeline, progress=lambda message: None)
    return runner.run_table(context, pipeline.get("orders"), previous)


def test_a_table_reading_one_partition_skips_changes_to_the_others_only(make_runtime):
    runtime = make_runtime()
    pipeline = Pipeline.of("topics_demo", messages, orders)
    land(runtime, pipeline, range(0, 2), "orders")
    land(runtime, pipeline, range(2, 4), "clicks")
    assert runner.ensure_tables(runtime, pipeline) == ["orders"]
    stored = runtime.location(pipeline.name, Layer.SILVER, "orders").path

    first = run_orders(runtime, pipeline, None)
    assert (first.status, first.rows_in, first.rows_inserted) == ("ok", 2, 2)

    land(runtime, pipeline, range(4, 9), "clicks")  # only another topic's messages
    second = run_orders(runtime, pipeline, RecordedRun(first.fingerprint))
    assert (second.status, second.rows_in) == ("skipped", 0)

    land(runtime, pipeline, range(9, 10), "orders")  # its own topic: never skipped
    third = run_orders(runtime, pipeline, RecordedRun(second.fingerprint))
    assert (third.status, third.rows_in, third.rows_inserted) == ("ok", 1, 1)
    rows = runtime.spark.read.format("delta").load(stored).collect()
    assert sorted((r["id"], r["topic"]) for r in rows) == [(0, "orders"), (1, "orders"), (9, "orders")]

    fourth = run_orders(runtime, pipeline, RecordedRun(third.fingerprint))
    assert fourth.status == "skipped"


def test_a_partition_read_must_name_a_partition_column_of_the_table_it_reads():
    @table(Layer.SILVER, Append(), {"orders": stream("messages", partition={"kind": "orders"})})
    def by_kind(orders: DataFrame) -> DataFrame:
        return orders

    with pytest.raises(
        MedallionError, match="topics_demo.by_kind reads the partition kind of messages, which is partitioned by topic"
    ):
        Pipeline.of("topics_demo", messages, by_kind).ordered()


def test_a_partition_value_is_declared_as_the_log_records_it_as_text():
    assert stream("messages", partition={"day": 7, "topic": "orders"}).partition == (("day", "7"), ("topic", "orders"))
    declared = stream("messages", partition={"late": False, "on": datetime.date(2024, 1, 31), "ok": True}).partition
    assert declared == (("late", "false"), ("ok", "true"), ("on", "2024-01-31"))


@pytest.mark.parametrize("value", [1.5, datetime.datetime(2024, 1, 31, 12), None])
def test_a_partition_value_without_one_text_in_the_log_is_refused(value):
    with pytest.raises(ValueError, match=re.escape(f"partition rate={value!r}: name a partition by a string, integer")):
        stream("messages", partition={"rate": value})


@table(Layer.BRONZE, Append(), partition_by=("late",))
def flagged() -> DataFrame:
    """Only a storage location here: the test writes it directly."""
    raise AssertionError("never built")


@table(Layer.SILVER, Append(), {"late": stream("flagged", partition={"late": True})})
def late(late: DataFrame) -> DataFrame:
    return late.select("id", "late")


def test_a_boolean_partition_is_read_and_skipped_by_the_text_the_log_records(make_runtime):
    runtime = make_runtime()
    pipeline = Pipeline.of("flags_demo", flagged, late)
    path = runtime.location(pipeline.name, Layer.BRONZE, "flagged").path

    def land(ids: range, is_late: bool) -> None:
        rows = runtime.spark.range(ids.start, ids.stop).selectExpr("id", f"{is_late} AS late")
        rows.write.format("delta").mode("append").partitionBy("late").save(path)

    def run(previous):
        return runner.run_table(RunContext(runtime, pipeline, progress=lambda message: None), late, previous)

    land(range(0, 2), True)
    land(range(2, 4), False)
    assert runner.ensure_tables(runtime, pipeline) == ["late"]
    first = run(None)
    assert (first.status, first.rows_in) == ("ok", 2)
    land(range(4, 6), False)  # the other partition only
    second = run(RecordedRun(first.fingerprint))
    assert (second.status, second.rows_in) == ("skipped", 0)
    land(range(6, 7), True)  # its own partition: never skipped
    third = run(RecordedRun(second.fingerprint))
    assert (third.status, third.rows_in, third.rows_inserted) == ("ok", 1, 1)
