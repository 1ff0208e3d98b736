"""Bronze: the operational tables as copied (one row per copied change, with the copy's date) and the
platform and business events as they arrived.

The four database tables are read incrementally over JDBC by their ``updated_at`` (see
``medallion.sources.jdbc``): each run appends only the rows changed since the last successful copy,
stamped with ``run_date``, so bronze keeps every version the copies saw and a re-run adds nothing. A row
committed late, with an ``updated_at`` up to 15 minutes older than the last copy's mark, is still copied
(the look-back window), once.
Event records that do not parse, or lack what every later step needs, go to quarantine with the rule
they broke.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import Append, FileSource, JdbcSource, Layer, expect_or_drop, table

EVENT_NAMES = ("screen_view", "click", "scroll", "add_to_cart", "purchase")
PARSED = expect_or_drop("parsed", "_corrupt_record IS NULL")
IDENTIFIED = expect_or_drop("identified", "event_id IS NOT NULL AND user_id IS NOT NULL AND event_time IS NOT NULL")

PLATFORM_EVENTS = FileSource(
    folder="platform_events",
    format="json",
    schema="event_id STRING, user_id STRING, test_code STRING, variation STRING, event_time TIMESTAMP, "
    "event_type STRING, arrival_date DATE",
)
BUSINESS_EVENTS = FileSource(
    folder="business_events",
    format="json",
    schema="event_id STRING, user_id STRING, event_time TIMESTAMP, event_name STRING, event_path STRING, "
    "event_device STRING, revenue DOUBLE, arrival_date DATE",
)

# Late commits: every copy reads again the 15 minutes behind its mark and keeps only (key, updated_at)
# versions bronze does not hold yet (see medallion.sources.jdbc). The operational tables are never deleted
# from (a test is cancelled or finished by its status), so no deletes table is declared.
LOOKBACK = "15 minutes"
STATUS_MANAGEMENT = JdbcSource(
    "status_management",
    "status_code INT, status_name STRING, updated_at TIMESTAMP",
    change_column="updated_at",
    keys=("status_code",),
    lookback=LOOKBACK,
)
TEST_MANAGEMENT = JdbcSource(
    "test_management",
    "test_code STRING, test_name STRING, owner_name STRING, created_at TIMESTAMP, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, test_status INT, variation_count INT, control_variation STRING, updated_at TIMESTAMP",
    change_column="updated_at",
    keys=("test_code",),
    lookback=LOOKBACK,
)
METRIC_MANAGEMENT = JdbcSource(
    "metric_management",
    "metric_code STRING, metric_name STRING, metric_kind STRING, metric_query STRING, updated_at TIMESTAMP",
    change_column="updated_at",
    keys=("metric_code",),
    lookback=LOOKBACK,
)
TEST_METRIC_RELATION = JdbcSource(
    "test_metric_relation",
    "test_code STRING, metric_code STRING, updated_at TIMESTAMP",
    change_column="updated_at",
    keys=("test_code", "metric_code"),
    lookback=LOOKBACK,
)


def with_run_date(changes: DataFrame) -> DataFrame:
    """The copied rows with the date of the copy that brought them."""
    return changes.withColumn("run_date", F.to_date("load_time"))


@table(Layer.BRONZE, Append(), {"changes": STATUS_MANAGEMENT})
def status_management_bz(changes: DataFrame) -> DataFrame:
    """Test statuses (running, done, failed, cancelled, waiting), one row per copied change."""
    return with_run_date(changes)


@table(Layer.BRONZE, Append(), {"changes": TEST_MANAGEMENT})
def test_management_bz(changes: DataFrame) -> DataFrame:
    """Tests: owner, dates, status, variations; one row per copied change (owner names tokenised in silver)."""
    return with_run_date(changes)


@table(Layer.BRONZE, Append(), {"changes": METRIC_MANAGEMENT})
def metric_management_bz(changes: DataFrame) -> DataFrame:
    """Metric definitions (kind and stored SQL), one row per copied change."""
    return with_run_date(changes)


@table(Layer.BRONZE, Append(), {"changes": TEST_METRIC_RELATION})
def test_metric_relation_bz(changes: DataFrame) -> DataFrame:
    """Which metrics each test reports, one row per copied change."""
    return with_run_date(changes)


@table(
    Layer.BRONZE,
    Append(),
    {"raw": PLATFORM_EVENTS},
    expectations=(
        PARSED,
        IDENTIFIED,
        expect_or_drop("in_a_test", "test_code IS NOT NULL AND variation IS NOT NULL"),
        expect_or_drop("known_event_type", "event_type IN ('assignment', 'exposure')"),
    ),
)
def platform_events_bz(raw: DataFrame) -> DataFrame:
    """Assignment and exposure events as they arrived, with the day they arrived."""
    return raw


@table(
    Layer.BRONZE,
    Append(),
    {"raw": BUSINESS_EVENTS},
    expectations=(
        PARSED,
        IDENTIFIED,
        expect_or_drop("known_event_name", f"event_name IN {EVENT_NAMES}"),
        expect_or_drop("revenue_not_negative", "revenue IS NULL OR revenue >= 0"),
    ),
)
def business_events_bz(raw: DataFrame) -> DataFrame:
    """Business events (screen views, clicks, scrolls, add-to-cart, purchases) as they arrived."""
    return raw
