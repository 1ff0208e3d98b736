"""A table that reads one partition of another (one topic of a multiplexed bronze table) reads only those
rows, and is skipped when a run's new rows are all in other partitions, never when its own partition changed."""

from __future__ import annotations

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
