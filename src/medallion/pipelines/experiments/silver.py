"""Silver: current test metadata, the metrics each test reports, who is in which test, and the business
events once each.

The metadata tables are recomputed from bronze's copies (latest ``updated_at`` per key wins) and merged,
so they always equal the database as of the last copy. ``test_users`` is recomputed from every platform
event, so a late exposure moves a user's first exposure back and a late second variation marks the
user contaminated; merging an unchanged result changes nothing.
"""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from medallion.declare.tables import InsertOnly, Layer, Scd1, expect, expect_or_drop, snapshot, stream, table
from medallion.io import latest_per_key

METRIC_KINDS = ("proportion", "mean")


def current(copies: DataFrame, keys: tuple[str, ...]) -> DataFrame:
    """The latest copied version of each row (ties on ``updated_at`` go to the later copy)."""
    return latest_per_key(copies, keys, ("updated_at", "load_time")).drop("load_time", "run_date")


@table(
    Layer.SILVER,
    Scd1(("test_code",)),
    {"tests": snapshot("test_management_bz"), "statuses": snapshot("status_management_bz")},
    expectations=(
        expect("at_least_two_variations", "variation_count >= 2"),
        expect("known_status", "status_name IS NOT NULL"),
    ),
    personal_data={"owner_name": "tokenize"},
)
def experiments(tests: DataFrame, statuses: DataFrame) -> DataFrame:
    """Current metadata of every test, with its status name; the owner's name is tokenised."""
    status_names = current(statuses, ("status_code",)).select(F.col("status_code").alias("test_status"), "status_name")
    return (
        current(tests, ("test_code",))
        .join(status_names, "test_status", "left")
        .select(
            "test_code",
            "test_name",
            "owner_name",
            "created_at",
            "started_at",
            "finished_at",
            "test_status",
            "status_name",
            "variation_count",
            "control_variation",
            "updated_at",
        )
    )


@table(
    Layer.SILVER,
    Scd1(("test_code", "metric_code")),
    {"relations": snapshot("test_metric_relation_bz"), "metrics": snapshot("metric_management_bz")},
    expectations=(
        expect_or_drop("metric_defined", "metric_name IS NOT NULL AND metric_query IS NOT NULL"),
        expect_or_drop("known_metric_kind", f"metric_kind IN {METRIC_KINDS}"),
    ),
)
def test_metrics(relations: DataFrame, metrics: DataFrame) -> DataFrame:
    """The metrics each test reports, with their current definition (kind and stored SQL)."""
    definitions = current(metrics, ("metric_code",)).drop("updated_at")
    return (
        current(relations, ("test_code", "metric_code"))
        .drop("updated_at")
        .join(definitions, "metric_code", "left")
        .select("test_code", "metric_code", "metric_name", "metric_kind", "metric_query")
    )


@table(
    Layer.SILVER,
    Scd1(("user_id", "test_code")),
    {"platform": snapshot("platform_events_bz")},
)
def test_users(platform: DataFrame) -> DataFrame:
    """One row per (user, test) exposed: the variation of the first exposure and when it happened.
    ``contaminated`` marks a user exposed to more than one variation of the test: a defect measured in
    quality_metric and kept out of business_metric, never silently reassigned."""
    exposures = platform.where("event_type = 'exposure'").dropDuplicates(["event_id"])
    first = Window.partitionBy("user_id", "test_code").orderBy("event_time", "variation", "event_id")
    return (
        exposures.withColumn("_order", F.row_number().over(first))
        .groupBy("user_id", "test_code")
        .agg(
            F.min_by("variation", "_order").alias("variation"),
            F.min("event_time").alias("first_exposure_time"),
            (F.countDistinct("variation") > 1).alias("contaminated"),
        )
    )


@table(Layer.SILVER, InsertOnly(("event_id",)), {"arrived": stream("business_events_bz")})
def events(arrived: DataFrame) -> DataFrame:
    """Business events, once each: a repeated event_id (a duplicate send) is kept the first time only."""
    return arrived.select("event_id", "user_id", "event_time", "event_name", "event_path", "event_device", "revenue")
