"""Late-arriving references: quarantined rows released once their reference arrives, once, and only them."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import functions as F

from medallion import io
from medallion.cli import build_parser
from medallion.declare import tables as declare
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import InsertOnly, Layer, Scd1, expect_or_drop, retry_when_referenced
from medallion.engine import requeue
from medallion.engine.context import RunContext
from medallion.errors import ConfigError

REVIEWS_SCHEMA = "review_id INT, customer_id INT, text STRING"


def demo_pipeline() -> Pipeline:
    @declare.table(Layer.SILVER, Scd1(("customer_id",)))
    def customers():
        """Customers (written directly by the test)."""

    @declare.table(
        Layer.SILVER,
        InsertOnly(("review_id",)),
        expectations=(
            expect_or_drop("text_present", "text IS NOT NULL"),
            expect_or_drop("known_customer", "_known IS NOT NULL"),
        ),
        retries=(retry_when_referenced("known_customer", "customers", "customer_id"),),
    )
    def reviews():
        """Reviews of known customers (written directly by the test)."""

    return Pipeline.of("requeue_demo", customers, reviews)


def write(context, name, rows, schema):
    location = context.location(context.pipeline.get(name))
    frame = context.spark.createDataFrame(rows, schema)
    io.write(frame, location, context.pipeline.get(name).write, f"test.{name}", 0)


def quarantine(context, rows):
    """Quarantine rows as a batch writes them: (review_id, customer_id, text, rules)."""
    records = [
        (
            "reviews",
            rules,
            json.dumps({"review_id": r, "customer_id": c, "text": t, "_known": None}),
            "day1.csv",
            "run-1",
            0,
        )
        for r, c, t, rules in rows
    ]
    frame = context.spark.createDataFrame(
        records, "table STRING, rules ARRAY<STRING>, record STRING, source STRING, run_id STRING, batch_id BIGINT"
    ).withColumn("quarantined_at", F.current_timestamp())
    frame.write.format("delta").mode("append").save(context.runtime.quarantine_path("requeue_demo"))


def waiting(context) -> list[tuple]:
    rows = context.spark.read.format("delta").load(context.runtime.quarantine_path("requeue_demo")).collect()
    return sorted((json.loads(r["record"])["review_id"], list(r["rules"])) for r in rows)


def loaded(context) -> list[tuple]:
    path = context.location(context.pipeline.get("reviews")).path
    return sorted(tuple(r) for r in context.spark.read.format("delta").load(path).collect())


@pytest.fixture
def context(make_runtime):
    return RunContext(make_runtime(), demo_pipeline(), progress=lambda message: None)


def test_rows_wait_until_their_reference_arrives_and_are_released_once(context):
    write(context, "customers", [(1, "ann")], "customer_id INT, name STRING")
    write(context, "reviews", [(10, 1, "fine")], REVIEWS_SCHEMA)
    quarantine(
        context,
        [
            (20, 2, "late customer", ["known_customer"]),
            (30, 3, "never a customer", ["known_customer"]),
            (40, 2, None, ["text_present", "known_customer"]),
        ],
    )  # no retry can mend a missing text
    table = context.pipeline.get("reviews")

    nothing_yet = requeue.release(context, table)
    assert (nothing_yet.rows_read, nothing_yet.rows_in, nothing_yet.rows_inserted) == (2, 0, 0)

    write(context, "customers", [(2, "bob")], "customer_id INT, name STRING")
    released = requeue.release(context, table)
    assert (
        released.mode,
        released.rows_read,
        released.rows_in,
        released.rows_inserted,
        released.rows_quarantined,
        released.broken_rules,
    ) == ("requeue", 2, 1, 1, 0, {"known_customer": 1})
    assert loaded(context) == [(10, 1, "fine"), (20, 2, "late customer")]
    assert waiting(context) == [(30, ["known_customer"]), (40, ["text_present", "known_customer"])]

    version = io.table_version(context.spark, context.location(table).path)
    again = requeue.release(context, table)
    assert (again.rows_read, again.rows_in) == (1, 0)
    assert io.table_version(context.spark, context.location(table).path) == version


def test_stream_mode_releases_rows_whose_reference_arrived_at_its_trigger_interval(context, monkeypatch):
    from medallion.engine.streams import StreamingRun

    write(context, "customers", [(1, "ann")], "customer_id INT, name STRING")
    write(context, "reviews", [(10, 1, "fine")], REVIEWS_SCHEMA)
    quarantine(context, [(20, 2, "late customer", ["known_customer"])])
    streams = StreamingRun(context, queries=[], views=[context.pipeline.get("reviews")])
    assert streams.retrying() == [context.pipeline.get("reviews")]
    event_log = context.runtime.system_path("event_log")

    streams.release_waiting()  # the customer has not arrived: the row waits
    assert waiting(context) == [(20, ["known_customer"])]
    assert not io.table_exists(context.spark, event_log)

    looked = []
    monkeypatch.setattr(requeue, "release", lambda *args, **kwargs: looked.append(args))
    streams.release_waiting()  # nothing changed since: not even looked at
    assert looked == []
    monkeypatch.undo()

    write(context, "customers", [(2, "bob")], "customer_id INT, name STRING")
    streams.release_waiting()
    assert loaded(context) == [(10, 1, "fine"), (20, 2, "late customer")]
    assert waiting(context) == []
    logged = context.spark.read.format("delta").load(event_log).collect()
    assert [(r["table"], r["mode"], r["rows_in"], r["rows_inserted"]) for r in logged] == [("reviews", "requeue", 1, 1)]


def test_a_release_interrupted_before_its_quarantine_delete_completes_on_the_next_one(context):
    write(context, "customers", [(2, "bob")], "customer_id INT, name STRING")
    write(context, "reviews", [(20, 2, "late customer")], REVIEWS_SCHEMA)  # written, then the process died
    quarantine(context, [(20, 2, "late customer", ["known_customer"])])  # … before the delete

    released = requeue.release(context, context.pipeline.get("reviews"))
    assert (released.rows_in, released.rows_inserted, released.rows_unchanged) == (1, 0, 1)
    assert loaded(context) == [(20, 2, "late customer")]
    assert waiting(context) == []


def test_only_the_chosen_rule_and_known_rules_are_requeued(context):
    assert requeue.tables_with_retries(context, "known_customer") == [context.pipeline.get("reviews")]
    with pytest.raises(ConfigError, match="No table of requeue_demo has a retry policy for rule 'text_present'"):
        requeue.tables_with_retries(context, "text_present")
    assert requeue.release(context, context.pipeline.get("reviews")) is None  # no quarantine yet


def test_a_retry_policy_needs_a_drop_rule_and_a_keyed_write():
    with pytest.raises(ValueError, match="not one of its expect_or_drop rules"):
        declare.table(Layer.SILVER, InsertOnly(("id",)), retries=(retry_when_referenced("known", "t", "id"),))(
            lambda: None
        )
    with pytest.raises(ValueError, match="keyed write mode"):
        declare.table(
            Layer.SILVER,
            declare.Append(),
            expectations=(expect_or_drop("known", "true"),),
            retries=(retry_when_referenced("known", "t", "id"),),
        )(lambda: None)


def test_the_requeue_command_takes_a_pipeline_and_a_rule():
    args = build_parser().parse_args(["requeue", "movies", "--rule", "known_customer"])
    assert (args.command, args.pipeline, args.rule, args.handler.__name__) == (
        "requeue",
        "movies",
        "known_customer",
        "requeue_pipeline",
    )
