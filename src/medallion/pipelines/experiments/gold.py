"""Gold: the business metrics of each test with their significance, and the quality of each test's data.

``business_metric``: per test × metric × variation, for tests whose status is reported (running, done).
The population is the test's users that are not contaminated; a user's events count from their first
exposure until the test finished. Each metric's stored SQL gives one value per user (a user it returns
no row for counts as 0); Spark sums up per variation, and each treatment is compared with the control:
proportions by a two-proportion z-test, means by Welch's t-test (``stats``). ``lift_vs_control`` is the
difference treatment − control in the metric's unit, ``ci_low``/``ci_high`` its confidence interval at
the level of the test. A variation is ``is_best`` only when it has the highest value and the evidence
says so at the configured alpha (Bonferroni-divided by the number of treatments): a treatment must be
significantly above the control; the control must be significantly above every treatment. Every metric
is read as "higher is better".

``quality_metric``: per test (any status with exposed users): users per variation, the sample-ratio
mismatch p-value (chi-square against an equal split over the test's variations), the contamination
rate, the share of users without events after exposure, the duplicate- and late-event rates of the
events belonging to the test (its platform events and its users' business events since exposure, as
they arrived in bronze); each with ok / warn / fail against the configured thresholds.

``metric_date`` is the date of the latest data a row includes (the test's latest exposure or event,
no later than its end), so a re-run on the same data gives the same rows, and new days add rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion.declare.tables import Layer, Scd1, snapshot, table
from medallion.pipelines.experiments import metric_sql, stats

KEYS = ("test_code", "metric_code", "variation", "metric_date")
COMPARISON = T.StructType(
    [T.StructField(name, T.DoubleType()) for name in ("difference", "ci_low", "ci_high", "p_value")]
)
EXACT = "decimal(28,6)"
PER_USER_COLUMNS = ("test_code", "metric_code", "metric_kind", "variation", "user_id", "value")


# ------------------------------------------------------------------------------------ business metrics
@table(
    Layer.GOLD,
    Scd1(KEYS),
    {
        "users": snapshot("test_users"),
        "events": snapshot("events"),
        "tests": snapshot("experiments"),
        "definitions": snapshot("test_metrics"),
    },
)
def business_metric(users: DataFrame, events: DataFrame, tests: DataFrame, definitions: DataFrame, conf) -> DataFrame:
    """Each reported test's business metrics per variation, compared with its control."""
    reported = tests.where(F.col("status_name").isin(list(conf["reported_statuses"])))
    population = users.where(~F.col("contaminated")).join(
        reported.select("test_code", "finished_at", "control_variation"), "test_code"
    )
    per_user = per_user_values(
        metric_events(population, events),
        population,
        definitions.join(reported.select("test_code"), "test_code", "left_semi"),
    )
    compared = compare_with_control(summarise(per_user), reported, conf)
    return compared.join(data_dates(users, events, tests), "test_code").select(
        "test_code",
        "metric_code",
        "variation",
        "users",
        "value",
        F.col("difference").alias("lift_vs_control"),
        "ci_low",
        "ci_high",
        "p_value",
        "is_best",
        "metric_date",
    )


def metric_events(population: DataFrame, events: DataFrame) -> DataFrame:
    """The view the stored metric queries read: each user's events from first exposure until the test's
    end, and a row without event for a user who has none."""
    u, e = population.alias("u"), events.alias("e")
    in_window = (
        (F.col("e.user_id") == F.col("u.user_id"))
        & (F.col("e.event_time") >= F.col("u.first_exposure_time"))
        & (F.col("u.finished_at").isNull() | (F.col("e.event_time") < F.col("u.finished_at")))
    )
    return u.join(e, in_window, "left").select(
        "u.test_code",
        "u.variation",
        "u.user_id",
        "u.first_exposure_time",
        "e.event_id",
        "e.event_time",
        "e.event_name",
        "e.event_path",
        "e.event_device",
        "e.revenue",
    )


def per_user_values(events_in_tests: DataFrame, population: DataFrame, definitions: DataFrame) -> DataFrame:
    """One value per (metric, user in a test reporting it), from each metric's validated stored query.

    The definitions are a handful of rows read here to build the plan (one query per metric); the
    events themselves are never collected. A query that returns several rows for one user, or a
    proportion outside 0/1, stops the run with the metric's name when the values are computed. The
    metrics' values are put together first and joined with the users once, not once per metric."""
    # Collected as they are and made distinct here: a handful of rows, one job instead of a shuffle's stages.
    collected = definitions.select("metric_code", "metric_name", "metric_kind", "metric_query").collect()
    metrics = sorted(dict.fromkeys(collected), key=lambda metric: metric["metric_code"])
    queried = []
    for metric in metrics:
        reporting = definitions.where(F.col("metric_code") == metric["metric_code"]).select("test_code")
        rows = metric_sql.run(
            events_in_tests.join(reporting, "test_code", "left_semi"),
            metric["metric_code"],
            metric["metric_name"],
            metric["metric_query"],
        )
        queried.append((metric, rows))
    metric_sql.refuse_reads_outside(
        events_in_tests.join(definitions, "test_code", "left_semi"),
        [(metric["metric_code"], metric["metric_name"], rows) for metric, rows in queried],
    )
    values = [
        _one_value_per_user(rows, metric["metric_code"], metric["metric_name"], metric["metric_kind"]).select(
            "test_code", F.lit(metric["metric_code"]).alias("metric_code"), "user_id", "value"
        )
        for metric, rows in queried
    ]
    reported = definitions.select("test_code", "metric_code", "metric_kind").distinct()
    users = population.select("test_code", "variation", "user_id").join(reported, "test_code")
    if not values:  # no metric: no (metric, user) pair, and no value to join
        return users.withColumn("value", F.lit(0.0)).select(*PER_USER_COLUMNS)
    all_values = values[0]
    for more in values[1:]:
        all_values = all_values.unionByName(more)
    joined = users.join(all_values, ["test_code", "metric_code", "user_id"], "left")
    return joined.withColumn("value", F.coalesce("value", F.lit(0.0))).select(*PER_USER_COLUMNS)


def _one_value_per_user(rows: DataFrame, code: str, name: str, kind: str) -> DataFrame:
    label = f"Metric {code} ({name})"
    grouped = rows.groupBy("test_code", "user_id").agg(
        F.count(F.lit(1)).alias("_rows"), F.first(F.col("value").cast("double")).alias("_value")
    )
    value = F.when(
        F.col("_rows") > 1,
        F.raise_error(
            F.lit(
                f"{label}: metric_query returns several rows for one user in a test; group by test_code, variation, user_id."
            )
        ),
    )
    if kind == "proportion":
        value = value.when(
            ~F.col("_value").isin(0.0, 1.0),
            F.raise_error(F.lit(f"{label}: a proportion's metric_query must return 0 or 1 per user.")),
        )
    return grouped.select("test_code", "user_id", value.otherwise(F.col("_value")).cast("double").alias("value"))


def summarise(per_user: DataFrame) -> DataFrame:
    """Users, mean (or share), sample variance and sum per test × metric × variation.

    Sums are exact decimals (per-user values kept to 6 decimals), so the result does not depend on the
    order Spark adds rows in: a re-run on the same data gives the same bits, and the merge changes nothing.
    """
    value = F.col("value").cast(EXACT)
    sums = per_user.groupBy("test_code", "metric_code", "metric_kind", "variation").agg(
        F.count(F.lit(1)).alias("users"), F.sum(value).alias("total"), F.sum(value * value).alias("squares")
    )
    total, squares, users = F.col("total").cast("double"), F.col("squares").cast("double"), F.col("users")
    spread = (squares - total * total / users) / (users - 1)
    return sums.select(
        "test_code",
        "metric_code",
        "metric_kind",
        "variation",
        "users",
        (total / users).alias("value"),
        F.when(users > 1, F.greatest(spread, F.lit(0.0))).otherwise(0.0).alias("variance"),
        total.alias("total"),
    )


# A plain function, wrapped as a UDF where a plan is built (not by a decorator at import): a module imported
# before a Spark Connect session exists would otherwise hold a classic UDF, which needs a classic session.
def _compare(kind, alpha, control_users, control_total, control_mean, control_variance, users, total, mean, variance):
    if kind == "proportion":
        result = stats.two_proportion_z_test(round(control_total), control_users, round(total), users, alpha)
    else:
        result = stats.welch_t_test(control_mean, control_variance, control_users, mean, variance, users, alpha)
    return (result.difference, result.ci_low, result.ci_high, result.p_value)


def compare_with_control(summary: DataFrame, tests: DataFrame, conf: Mapping) -> DataFrame:
    """Each treatment against its test's control; ``is_best`` where the evidence names a winner."""
    named = summary.join(tests.select("test_code", "control_variation"), "test_code")
    is_control = F.col("variation") == F.col("control_variation")
    control = named.where(is_control).select(
        "test_code", "metric_code", *[F.col(c).alias(f"control_{c}") for c in ("users", "total", "value", "variance")]
    )
    metric = Window.partitionBy("test_code", "metric_code")
    treatments = F.sum(F.when(is_control, 0).otherwise(1)).over(metric)
    joined = (
        named.join(control, ["test_code", "metric_code"], "left")
        .withColumn("_is_control", is_control)
        .withColumn("alpha", per_comparison_alpha(treatments, conf))
    )
    comparison = F.when(
        ~F.col("_is_control") & F.col("control_users").isNotNull(),
        F.udf(_compare, COMPARISON)(
            "metric_kind",
            "alpha",
            "control_users",
            "control_total",
            "control_value",
            "control_variance",
            "users",
            "total",
            "value",
            "variance",
        ),
    )
    compared = (
        joined.withColumn("_c", comparison)
        .select("*", "_c.difference", "_c.ci_low", "_c.ci_high", "_c.p_value")
        .drop("_c")
    )
    return compared.withColumn("is_best", best_variation(metric)).drop("_is_control")


def per_comparison_alpha(treatments: Column, conf: Mapping) -> Column:
    alpha, method = float(conf["alpha"]), conf["multiple_comparisons"]
    stats.per_comparison_alpha(alpha, 1, method)  # validates the settings
    if method == "bonferroni":
        return F.lit(alpha) / F.greatest(treatments, F.lit(1))
    return F.lit(alpha)


def best_variation(metric: WindowSpec) -> Column:
    significant = F.col("p_value").isNotNull() & (F.col("p_value") < F.col("alpha"))
    beats_control = ~F.col("_is_control") & significant & (F.col("difference") > 0)
    below_control = ~F.col("_is_control") & significant & (F.col("difference") < 0)
    treatments = F.sum(F.when(~F.col("_is_control"), 1).otherwise(0)).over(metric)
    control_wins = (
        F.col("_is_control")
        & (treatments > 0)
        & (F.sum(F.when(below_control, 1).otherwise(0)).over(metric) == treatments)
    )
    highest = (F.col("value") == F.max("value").over(metric)) & (
        F.sum(F.when(F.col("value") == F.max("value").over(metric), 1).otherwise(0)).over(metric) == 1
    )
    return highest & (beats_control | control_wins)


def data_dates(users: DataFrame, events: DataFrame, tests: DataFrame) -> DataFrame:
    """Per test, the date of the latest exposure or event of its users since exposure, capped by its end."""
    u, e = users.alias("u"), events.alias("e")
    activity = u.join(
        e,
        (F.col("e.user_id") == F.col("u.user_id")) & (F.col("e.event_time") >= F.col("u.first_exposure_time")),
        "left",
    )
    latest = activity.groupBy("u.test_code").agg(
        F.greatest(F.max("u.first_exposure_time"), F.max("e.event_time")).alias("latest")
    )
    ends = tests.select("test_code", "finished_at")
    return latest.join(ends, "test_code", "left").select(
        "test_code", F.to_date(F.least("latest", F.coalesce("finished_at", "latest"))).alias("metric_date")
    )
