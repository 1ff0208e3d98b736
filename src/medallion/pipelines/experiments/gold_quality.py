"""Gold ``quality_metric``: is each test's data fit to be read? (See ``gold`` for the definitions.)

Rows per test: ``sample_size`` per variation, then per test ``sample_ratio_mismatch`` (the chi-square
p-value), ``contamination_rate``, ``exposure_without_events_rate``, ``duplicate_event_rate`` and
``late_event_rate``. Status: a rate at or above its first threshold is ``warn``, at or above its second
``fail``; the sample-ratio test fails below ``srm_alpha``; a variation with fewer users than
``min_users_per_variation`` is a ``warn``. A value that cannot be computed is a ``warn``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion.declare.tables import Layer, Scd1, snapshot, table
from medallion.pipelines.experiments import stats
from medallion.pipelines.experiments.gold import KEYS, data_dates

RATES = ("contamination_rate", "exposure_without_events_rate", "duplicate_event_rate", "late_event_rate")


@table(
    Layer.GOLD,
    Scd1(KEYS),
    {
        "users": snapshot("test_users"),
        "events": snapshot("events"),
        "tests": snapshot("experiments"),
        "platform": snapshot("platform_events_bz"),
        "business": snapshot("business_events_bz"),
    },
)
def quality_metric(
    users: DataFrame, events: DataFrame, tests: DataFrame, platform: DataFrame, business: DataFrame, conf
) -> DataFrame:
    """Sample sizes, sample-ratio mismatch, contamination, exposure without events, duplicate and late events."""
    known_users = users.join(tests.select("test_code"), "test_code", "left_semi")
    test_events = events_of_tests(known_users, platform, business)
    rows = (
        sample_sizes(known_users, conf)
        .unionByName(sample_ratio_mismatch(known_users, tests, conf))
        .unionByName(_rate("contamination_rate", contamination(known_users), conf))
        .unionByName(_rate("exposure_without_events_rate", exposure_without_events(known_users, events), conf))
        .unionByName(_rate("duplicate_event_rate", duplicate_share(test_events), conf))
        .unionByName(_rate("late_event_rate", late_share(test_events, int(conf["late_event_days"])), conf))
    )
    return rows.join(data_dates(users, events, tests), "test_code").select(
        "test_code", "metric_code", "variation", "value", "status", "metric_date"
    )


def sample_sizes(users: DataFrame, conf: Mapping) -> DataFrame:
    minimum = int(conf["min_users_per_variation"])
    return (
        users.groupBy("test_code", "variation")
        .agg(F.count(F.lit(1)).cast("double").alias("value"))
        .select(
            "test_code",
            F.lit("sample_size").alias("metric_code"),
            "variation",
            "value",
            F.when(F.col("value") >= minimum, "ok").otherwise("warn").alias("status"),
        )
    )


# Wrapped as a UDF where the plan is built, not at import (see gold._compare).
def _srm_p_value(users, variation_count):
    observed = sorted(users, reverse=True) + [0] * max(variation_count - len(users), 0)
    if len(observed) < 2:
        return None
    return stats.sample_ratio_p_value(observed, [1.0] * len(observed))


def sample_ratio_mismatch(users: DataFrame, tests: DataFrame, conf: Mapping) -> DataFrame:
    """Users per variation against an equal split over the test's declared variations (a declared
    variation nobody was exposed to counts as 0 users)."""
    per_variation = users.groupBy("test_code", "variation").agg(F.count(F.lit(1)).alias("users"))
    per_test = (
        per_variation.groupBy("test_code")
        .agg(F.collect_list("users").alias("users"))
        .join(tests.select("test_code", "variation_count"), "test_code")
    )
    p_value = F.udf(_srm_p_value, T.DoubleType())("users", F.coalesce("variation_count", F.lit(0)))
    return per_test.select(
        "test_code",
        F.lit("sample_ratio_mismatch").alias("metric_code"),
        F.lit(None).cast("string").alias("variation"),
        p_value.alias("value"),
    ).withColumn(
        "status",
        F.when(F.col("value").isNull(), "warn").when(F.col("value") < float(conf["srm_alpha"]), "fail").otherwise("ok"),
    )


def contamination(users: DataFrame) -> DataFrame:
    return users.groupBy("test_code").agg(F.avg(F.col("contaminated").cast("double")).alias("value"))


def exposure_without_events(users: DataFrame, events: DataFrame) -> DataFrame:
    u, e = users.alias("u"), events.alias("e")
    with_events = u.join(
        e,
        (F.col("e.user_id") == F.col("u.user_id")) & (F.col("e.event_time") >= F.col("u.first_exposure_time")),
        "left_semi",
    )
    counted = with_events.groupBy("test_code").agg(F.count(F.lit(1)).alias("active"))
    return (
        users.groupBy("test_code")
        .agg(F.count(F.lit(1)).alias("exposed"))
        .join(counted, "test_code", "left")
        .select("test_code", (1 - F.coalesce("active", F.lit(0)) / F.col("exposed")).alias("value"))
    )


def events_of_tests(users: DataFrame, platform: DataFrame, business: DataFrame) -> DataFrame:
    """Every bronze row belonging to a test: its platform events, and its users' business events since
    their first exposure; with the day each arrived."""
    arrival = F.coalesce(F.col("arrival_date"), F.to_date("load_time")).alias("arrival_date")
    platform_rows = platform.join(users.select("test_code").distinct(), "test_code", "left_semi").select(
        "test_code", "event_id", "event_time", arrival
    )
    b = business.alias("b")
    business_rows = b.join(
        users.alias("u"),
        (F.col("b.user_id") == F.col("u.user_id")) & (F.col("b.event_time") >= F.col("u.first_exposure_time")),
    ).select("u.test_code", "b.event_id", "b.event_time", arrival)
    return platform_rows.unionByName(business_rows)


def duplicate_share(test_events: DataFrame) -> DataFrame:
    """Rows beyond the first of each event_id, over all rows."""
    return test_events.groupBy("test_code").agg((1 - F.countDistinct("event_id") / F.count(F.lit(1))).alias("value"))


def late_share(test_events: DataFrame, late_after_days: int) -> DataFrame:
    """Events (counted once) that first arrived ``late_after_days`` or more days after their own date."""
    per_event = test_events.groupBy("test_code", "event_id").agg(
        (F.datediff(F.min("arrival_date"), F.to_date(F.min("event_time"))) >= late_after_days).alias("late")
    )
    return per_event.groupBy("test_code").agg(F.avg(F.col("late").cast("double")).alias("value"))


def _rate(name: str, values: DataFrame, conf: Mapping) -> DataFrame:
    warn, fail = (float(v) for v in conf["thresholds"][name])
    return values.select(
        "test_code",
        F.lit(name).alias("metric_code"),
        F.lit(None).cast("string").alias("variation"),
        F.col("value").cast("double").alias("value"),
        _status(F.col("value"), warn, fail).alias("status"),
    )


def _status(value: Column, warn: float, fail: float) -> Column:
    return F.when(value.isNull(), "warn").when(value >= fail, "fail").when(value >= warn, "warn").otherwise("ok")
