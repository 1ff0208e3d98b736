"""Stored metric SQL: what is accepted, what is refused (before anything runs), and what it returns."""

from __future__ import annotations

import pytest

from medallion.pipelines.experiments import metric_sql
from medallion.pipelines.experiments.metric_sql import MetricDefinitionError
from medallion.pipelines.experiments.operational import METRICS

EVENTS_SCHEMA = (
    "test_code STRING, variation STRING, user_id STRING, first_exposure_time TIMESTAMP, event_id STRING, "
    "event_time TIMESTAMP, event_name STRING, event_path STRING, event_device STRING, revenue DOUBLE"
)


@pytest.mark.parametrize("code, name, kind, query", METRICS)
def test_the_seeded_definitions_are_valid(spark, code, name, kind, query):
    assert metric_sql.validate(spark, code, name, query) == query


@pytest.mark.parametrize(
    "query",
    [
        "WITH clicks AS (SELECT * FROM metric_events WHERE event_name = 'click')\n"
        "SELECT test_code, variation, user_id, COUNT(event_id) AS value FROM clicks GROUP BY test_code, variation, user_id",
        "SELECT test_code, variation, user_id, 1 AS value FROM metric_events WHERE user_id IN "
        "(SELECT user_id FROM metric_events WHERE event_name = 'purchase');",
        "select ';' as test_code, variation, user_id, 0 as value from METRIC_EVENTS -- a comment; not a statement",
    ],
)
def test_ctes_subqueries_over_the_view_and_a_final_semicolon_are_accepted(spark, query):
    metric_sql.validate(spark, "M9", "custom", query)


@pytest.mark.parametrize(
    "query, reason",
    [
        ("DELETE FROM test_management", "is not a single SELECT"),
        ("DROP TABLE experiments_silver.events", "is not a single SELECT"),
        ("INSERT INTO metric_events SELECT * FROM metric_events", "is not a single SELECT"),
        ("SELECT 1 AS value; DROP TABLE x", "holds several statements"),
        (
            "SELECT * FROM experiments_silver.test_users",
            "only the view metric_events, not experiments_silver.test_users",
        ),
        ("SELECT * FROM metric_events WHERE user_id IN (SELECT user_id FROM secrets)", "not secrets"),
        ("WITH x AS (SELECT * FROM other) SELECT * FROM x", "not other"),
        ("SELECT * FROM metric_events JOIN delta.`/tmp/lake` USING (user_id)", "not delta./tmp/lake"),
        ("SELECT * FROM range(10)", "may not call table function range"),
        ("SELECT reflect('java.lang.System', 'exit', 1) AS value FROM metric_events", "may not call reflect"),
        ("", "metric_query is empty"),
        (None, "metric_query is empty"),
        ("SELEC user_id FROM metric_events", "is not a single SELECT"),
    ],
)
def test_anything_else_is_refused_with_the_metric_named(spark, query, reason):
    with pytest.raises(MetricDefinitionError, match=r"^Metric M9 \(custom\): .*" + _escaped(reason)):
        metric_sql.validate(spark, "M9", "custom", query)


def test_a_query_runs_over_the_events_it_is_given(spark):
    events = spark.createDataFrame(
        [
            ("T1", "A", "u1", None, "e1", None, "click", "/home", "web", None),
            ("T1", "A", "u1", None, "e2", None, "click", "/cart", "web", None),
            ("T1", "B", "u2", None, None, None, None, None, None, None),
        ],
        EVENTS_SCHEMA,
    )
    query = METRICS[0][3]  # clicks per user
    rows = metric_sql.run(events, "M001", "clicks", query)
    assert sorted(tuple(r) for r in rows.collect()) == [("T1", "A", "u1", 2), ("T1", "B", "u2", 0)]
    again = metric_sql.run(events.where("user_id = 'u2'"), "M001", "clicks", query)
    assert [tuple(r) for r in again.collect()] == [("T1", "B", "u2", 0)]
    assert spark.catalog.tableExists("_metric_events_m001")  # one view per metric, replaced on each run


def test_a_query_without_the_output_columns_is_refused(spark):
    events = spark.createDataFrame([], EVENTS_SCHEMA)
    with pytest.raises(MetricDefinitionError, match="must return test_code, variation, user_id, value.*lacks value"):
        metric_sql.run(events, "M9", "custom", "SELECT test_code, variation, user_id FROM metric_events")
    with pytest.raises(MetricDefinitionError, match="metric_query fails"):
        metric_sql.run(events, "M9", "custom", "SELECT no_such_column AS value FROM metric_events")


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_validation_needs_no_spark_session_for_a_query_without_ctes():
    """Parsing happens in Python, so the check runs the same over Spark Connect (no JVM parser)."""
    query = "SELECT test_code, variation, user_id, COUNT(event_id) AS value FROM metric_events GROUP BY 1, 2, 3"
    assert metric_sql.validate(None, "M9", "custom", query) == query
    with pytest.raises(
        MetricDefinitionError, match=r"^Metric M9 \(custom\): metric_query is not a single SELECT \(it is a DELETE"
    ):
        metric_sql.validate(None, "M9", "custom", "DELETE FROM metric_events")


def test_a_query_that_reads_files_outside_the_view_is_refused_before_it_runs(spark, tmp_path, monkeypatch):
    """The parser-level check normally stops such a query; switched off, the plan-level guard alone must,
    naming the metric that reads elsewhere among metrics that do not."""
    spark.createDataFrame(
        [("T1", "A", "u1", 1)], "test_code STRING, variation STRING, user_id STRING, value INT"
    ).coalesce(1).write.parquet(str(tmp_path / "other"))
    spark.createDataFrame(
        [("T1", "A", "u1", None, "e1", None, "click", "/home", "web", None)], EVENTS_SCHEMA
    ).write.parquet(str(tmp_path / "events"))
    events = spark.read.parquet(str(tmp_path / "events"))
    monkeypatch.setattr(metric_sql, "validate", lambda spark, code, name, query: query)
    fair = "SELECT test_code, variation, user_id, COUNT(event_id) AS value FROM metric_events GROUP BY 1, 2, 3"
    metrics = [
        ("M1", "clicks", metric_sql.run(events, "M1", "clicks", fair)),
        ("M9", "custom", metric_sql.run(events, "M9", "custom", f"SELECT * FROM parquet.`{tmp_path / 'other'}`")),
    ]
    metric_sql.refuse_reads_outside(events, metrics[:1])  # the fair metric alone passes
    with pytest.raises(
        MetricDefinitionError,
        match=r"^Metric M9 \(custom\): metric_query may read only the view metric_events; it reads 1 other file",
    ):
        metric_sql.refuse_reads_outside(events, metrics)
