"""Silver and gold build functions on tiny inline frames."""

from __future__ import annotations

from datetime import datetime

import pytest
from chispa import assert_df_equality

from medallion.pipelines.experiments import gold, gold_quality, silver
from medallion.pipelines.experiments.metric_sql import MetricDefinitionError
from medallion.pipelines.experiments.operational import METRICS
from medallion.platform.config import load_settings

PLATFORM = (
    "event_id STRING, user_id STRING, test_code STRING, variation STRING, event_time TIMESTAMP, "
    "event_type STRING, arrival_date DATE, source_file STRING, load_time TIMESTAMP"
)
EVENTS = "event_id STRING, user_id STRING, event_time TIMESTAMP, event_name STRING, event_path STRING, event_device STRING, revenue DOUBLE"
USERS = "user_id STRING, test_code STRING, variation STRING, first_exposure_time TIMESTAMP, contaminated BOOLEAN"
TESTS = (
    "test_code STRING, test_name STRING, owner_name STRING, created_at TIMESTAMP, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, test_status INT, status_name STRING, variation_count INT, control_variation STRING, "
    "updated_at TIMESTAMP"
)
DEFINITIONS = "test_code STRING, metric_code STRING, metric_name STRING, metric_kind STRING, metric_query STRING"
CONF = load_settings("local", root="/tmp/unused").pipeline("experiments")


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 3, day, hour)


def test_test_users_keep_the_first_exposure_and_mark_contamination(spark):
    platform = spark.createDataFrame(
        [
            ("p1", "u1", "T1", "B", at(3), "exposure", None, None, None),
            ("p2", "u1", "T1", "B", at(2), "exposure", None, None, None),  # arrived late, but first
            ("p2", "u1", "T1", "B", at(2), "exposure", None, None, None),  # a duplicate send
            ("p3", "u1", "T1", "A", at(1), "assignment", None, None, None),  # assignment is not exposure
            ("p4", "u2", "T1", "A", at(4), "exposure", None, None, None),
            ("p5", "u2", "T1", "B", at(5), "exposure", None, None, None),  # second variation: contaminated
        ],
        PLATFORM,
    )
    expected = spark.createDataFrame([("u1", "T1", "B", at(2), False), ("u2", "T1", "A", at(4), True)], USERS)
    assert_df_equality(silver.test_users(platform), expected, ignore_row_order=True, ignore_nullable=True)


def test_experiments_are_the_latest_copy_with_their_status_name(spark):
    copies = spark.createDataFrame(
        [
            ("T1", "Old name", "Ann", at(1), at(1), None, 1, 2, "A", at(1), at(1, 5), None),
            ("T1", "New name", "Ann", at(1), at(1), at(9), 2, 2, "A", at(8), at(9, 5), None),
        ],
        "test_code STRING, test_name STRING, owner_name STRING, created_at TIMESTAMP, started_at TIMESTAMP, "
        "finished_at TIMESTAMP, test_status INT, variation_count INT, control_variation STRING, updated_at TIMESTAMP, "
        "load_time TIMESTAMP, run_date DATE",
    )
    statuses = spark.createDataFrame(
        [(1, "running", at(1), at(1), None), (2, "done", at(1), at(1), None)],
        "status_code INT, status_name STRING, updated_at TIMESTAMP, load_time TIMESTAMP, run_date DATE",
    )
    rows = silver.experiments(copies, statuses).collect()
    assert [(r.test_name, r.status_name, r.finished_at) for r in rows] == [("New name", "done", at(9))]


def test_metric_events_start_at_first_exposure_and_end_with_the_test(spark):
    population = spark.createDataFrame(
        [("u1", "T1", "A", at(5), False, at(10)), ("u2", "T1", "B", at(5), False, at(10))],
        USERS + ", finished_at TIMESTAMP",
    )
    events = spark.createDataFrame(
        [
            ("e1", "u1", at(4), "click", "/", "web", None),  # before exposure
            ("e2", "u1", at(6), "click", "/", "web", None),
            ("e3", "u1", at(11), "click", "/", "web", None),  # after the test finished
        ],
        EVENTS,
    )
    rows = gold.metric_events(population, events).select("user_id", "event_id").collect()
    assert sorted((r.user_id, r.event_id) for r in rows) == [("u1", "e2"), ("u2", None)]


def _tests(spark, status="done"):
    return spark.createDataFrame([("T1", "t", "o", at(1), at(1), at(20), 2, status, 2, "A", at(1))], TESTS)


def _definitions(spark, *codes, query=None):
    metrics = {m[0]: m for m in METRICS}
    return spark.createDataFrame(
        [("T1", c, metrics[c][1], metrics[c][2], query or metrics[c][3]) for c in codes], DEFINITIONS
    )


def _conversion_data(spark, converted_a: int, converted_b: int, users: int = 200):
    rows, events = [], []
    for variation, converted in (("A", converted_a), ("B", converted_b)):
        for i in range(users):
            user = f"{variation}{i}"
            rows.append((user, "T1", variation, at(2), False))
            if i < converted:
                events.append((f"e-{user}", user, at(3), "purchase", "/purchase", "web", 10.0))
    rows.append(("X", "T1", "B", at(2), True))  # contaminated: left out of the metrics
    events.append(("e-X", "X", at(3), "purchase", "/purchase", "web", 10.0))
    return spark.createDataFrame(rows, USERS), spark.createDataFrame(events, EVENTS)


def test_business_metric_flags_a_significant_winner_only(spark):
    users, events = _conversion_data(spark, converted_a=20, converted_b=60)
    result = gold.business_metric(users, events, _tests(spark), _definitions(spark, "M003", "M001"), CONF)
    rows = {(r.metric_code, r.variation): r for r in result.collect()}
    winner = rows[("M003", "B")]
    assert (winner.users, winner.value, winner.lift_vs_control, winner.is_best) == (200, 0.3, pytest.approx(0.2), True)
    assert winner.p_value < 1e-6 and winner.ci_low > 0
    assert rows[("M003", "A")].is_best is False and rows[("M003", "A")].p_value is None
    # nobody clicks: every user counts 0, no difference, nothing flagged
    assert [(rows[("M001", v)].value, rows[("M001", v)].is_best) for v in "AB"] == [(0.0, False), (0.0, False)]
    assert {str(r.metric_date) for r in rows.values()} == {"2024-03-03"}


def test_business_metric_flags_nothing_without_significance_and_control_when_it_wins(spark):
    users, events = _conversion_data(spark, converted_a=30, converted_b=34)
    rows = gold.business_metric(users, events, _tests(spark), _definitions(spark, "M003"), CONF).collect()
    assert [r.is_best for r in rows] == [False, False]
    users, events = _conversion_data(spark, converted_a=70, converted_b=20)
    rows = {
        r.variation: r
        for r in gold.business_metric(users, events, _tests(spark), _definitions(spark, "M003"), CONF).collect()
    }
    assert rows["A"].is_best and not rows["B"].is_best and rows["B"].lift_vs_control < 0


def test_business_metric_skips_tests_that_are_not_reported(spark):
    users, events = _conversion_data(spark, 20, 60)
    assert gold.business_metric(users, events, _tests(spark, "failed"), _definitions(spark, "M003"), CONF).count() == 0


def test_a_stored_query_that_is_not_a_select_is_refused_before_anything_runs(spark):
    users, events = _conversion_data(spark, 1, 2, users=3)
    with pytest.raises(
        MetricDefinitionError, match=r"Metric M003 \(conversion rate\): metric_query is not a single SELECT"
    ):
        gold.business_metric(
            users, events, _tests(spark), _definitions(spark, "M003", query="DELETE FROM test_management"), CONF
        )


def test_a_query_without_grouping_stops_the_run_naming_the_metric(spark):
    users, events = _conversion_data(spark, 2, 2, users=3)
    ungrouped = (
        "SELECT test_code, variation, user_id, 1 AS value FROM metric_events "
        "UNION ALL SELECT test_code, variation, user_id, 1 AS value FROM metric_events"
    )
    result = gold.business_metric(users, events, _tests(spark), _definitions(spark, "M003", query=ungrouped), CONF)
    with pytest.raises(
        Exception, match=r"Metric M003 \(conversion rate\): metric_query returns several rows for one user"
    ):
        result.collect()


def test_quality_metric_rates_and_statuses(spark):
    users = spark.createDataFrame(
        [
            ("u1", "T1", "A", at(2), False),
            ("u2", "T1", "B", at(2), True),
            ("u3", "T1", "A", at(2), False),
            ("u4", "T1", "A", at(2), False),
        ],
        USERS,
    )
    platform = spark.createDataFrame(
        [(f"p{i}", f"u{i}", "T1", "A", at(2), "exposure", datetime(2024, 3, 2).date(), None, None) for i in range(1, 5)]
        + [("p1", "u1", "T1", "A", at(2), "exposure", datetime(2024, 3, 2).date(), None, None)],
        PLATFORM,
    )
    business = spark.createDataFrame(
        [
            ("b1", "u1", at(3), "click", "/", "web", None, datetime(2024, 3, 6).date(), None, None),  # 3 days late
            ("b0", "u1", at(1), "click", "/", "web", None, datetime(2024, 3, 1).date(), None, None),  # before exposure
        ],
        EVENTS + ", arrival_date DATE, source_file STRING, load_time TIMESTAMP",
    )
    events = business.select(*[c.split()[0] for c in EVENTS.split(", ")])
    rows = gold_quality.quality_metric(users, events, _tests(spark), platform, business, CONF)
    found = {(r.metric_code, r.variation): (r.value, r.status) for r in rows.collect()}
    assert found[("sample_size", "A")] == (3.0, "warn") and found[("sample_size", "B")] == (1.0, "warn")
    assert found[("contamination_rate", None)] == (0.25, "fail")
    assert found[("exposure_without_events_rate", None)] == (0.75, "fail")
    assert found[("duplicate_event_rate", None)] == (pytest.approx(1 / 6), "fail")  # 6 rows, 5 events
    assert found[("late_event_rate", None)] == (pytest.approx(1 / 5), "fail")
    assert found[("sample_ratio_mismatch", None)][1] == "ok"  # 3 vs 1 is no evidence at alpha 0.001
