"""Gold: sales by day, the customer view, sessions and their funnel, IoT windows and alerts.

Each is a materialized view over silver snapshots, so a batch run and a stream run of the same events give
the same rows. Tables whose rows can disappear when a late input arrives (a deleted customer, an alert a
late reading cancels) are rewritten whole; the others are merged on their keys.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from medallion.declare.tables import Layer, Overwrite, Scd1, snapshot, table, unique

FUNNEL_STEPS = ("page_view", "add_to_cart", "checkout", "purchase")
MONEY = "decimal(18,2)"


def _completed(column: str):
    return F.when(F.col("status") == "completed", F.col(column))


@table(
    Layer.GOLD,
    Scd1(("sale_date", "product_category", "channel")),
    {"lines": snapshot("sales")},
    checks=(unique("sale_date", "product_category", "channel"),),
)
def daily_sales(lines: DataFrame) -> DataFrame:
    """Per day, category and channel: completed orders, units and revenue; orders with a returned line."""
    return lines.groupBy(F.to_date("order_ts").alias("sale_date"), "product_category", "channel").agg(
        F.count_distinct(_completed("order_id")).alias("orders"),
        F.coalesce(F.sum(_completed("quantity")), F.lit(0)).cast("bigint").alias("units"),
        F.coalesce(F.sum(_completed("line_amount")), F.lit(0)).cast(MONEY).alias("revenue"),
        F.count_distinct(F.when(F.col("status") == "returned", F.col("order_id"))).alias("returns"),
    )


@table(Layer.GOLD, Scd1(("session_id",)), {"events": snapshot("clicks")}, checks=(unique("session_id"),))
def sessions(events: DataFrame) -> DataFrame:
    """One row per session: first and last event, page views, bounced (one event), converted (a purchase)."""
    per_session = events.groupBy("session_id").agg(
        F.max("customer_id").alias("customer_id"),
        F.min("event_ts").alias("start"),
        F.max("event_ts").alias("end"),
        F.sum((F.col("event_type") == "page_view").cast("int")).cast("bigint").alias("page_views"),
        F.count(F.lit(1)).alias("_events"),
        F.max((F.col("event_type") == "purchase").cast("int")).alias("_purchases"),
    )
    return per_session.select(
        "session_id",
        "customer_id",
        "start",
        "end",
        (F.unix_timestamp("end") - F.unix_timestamp("start")).cast("bigint").alias("duration_s"),
        "page_views",
        (F.col("_events") == 1).alias("bounced"),
        (F.col("_purchases") == 1).alias("converted"),
    )


@table(Layer.GOLD, Scd1(("session_date",)), {"events": snapshot("clicks")})
def funnel_daily(events: DataFrame) -> DataFrame:
    """Sessions per day of their first event, and how many reached each funnel step (had such an event)."""
    reached = events.groupBy("session_id").agg(
        F.to_date(F.min("event_ts")).alias("session_date"),
        *[F.max((F.col("event_type") == step).cast("int")).alias(step) for step in FUNNEL_STEPS],
    )
    return reached.groupBy("session_date").agg(
        F.count(F.lit(1)).alias("sessions"),
        *[F.sum(step).cast("bigint").alias(f"{step}_sessions") for step in FUNNEL_STEPS],
    )


@table(
    Layer.GOLD,
    Overwrite(),
    {"customers": snapshot("customers"), "lines": snapshot("sales"), "visits": snapshot("sessions")},
    checks=(unique("customer_id"),),
)
def customer_360(customers: DataFrame, lines: DataFrame, visits: DataFrame, conf) -> DataFrame:
    """Each current customer with lifetime revenue and orders, first and last order date, recency (days
    before ``as_of_date``) and sessions started in the 30 days before it."""
    as_of = F.to_date(F.lit(conf["as_of_date"]))
    completed = (
        lines.where(F.col("status") == "completed")
        .groupBy("customer_id")
        .agg(
            F.sum("line_amount").cast(MONEY).alias("lifetime_revenue"),
            F.count_distinct("order_id").alias("orders"),
            F.min(F.to_date("order_ts")).alias("first_order_date"),
            F.max(F.to_date("order_ts")).alias("last_order_date"),
        )
    )
    recent = (
        visits.where(F.col("start") >= F.date_sub(as_of, 30).cast("timestamp"))
        .groupBy("customer_id")
        .agg(F.count(F.lit(1)).alias("sessions_30d"))
    )
    current = customers.where("is_current").select("customer_id", "city", "segment")
    return (
        current.join(completed, "customer_id", "left")
        .join(recent, "customer_id", "left")
        .select(
            "customer_id",
            "city",
            "segment",
            F.coalesce("lifetime_revenue", F.lit(0).cast(MONEY)).alias("lifetime_revenue"),
            F.coalesce("orders", F.lit(0).cast("bigint")).alias("orders"),
            "first_order_date",
            "last_order_date",
            F.datediff(as_of, "last_order_date").alias("recency_days"),
            F.coalesce("sessions_30d", F.lit(0).cast("bigint")).alias("sessions_30d"),
        )
    )


def five_minute_windows(readings: DataFrame) -> DataFrame:
    """Valid readings in tumbling 5-minute windows [start, start + 5 min) per device and sensor."""
    return (
        readings.where("valid")
        .groupBy("device_id", "sensor_type", F.window("event_ts", "5 minutes"))
        .agg(
            F.min("reading").alias("min_reading"),
            F.round(F.avg("reading"), 4).alias("avg_reading"),
            F.max("reading").alias("max_reading"),
            F.count(F.lit(1)).alias("valid_readings"),
        )
        .select(
            "device_id",
            "sensor_type",
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "min_reading",
            "avg_reading",
            "max_reading",
            "valid_readings",
        )
    )


@table(Layer.GOLD, Scd1(("device_id", "sensor_type", "window_start")), {"readings": snapshot("iot_readings")})
def iot_5min(readings: DataFrame) -> DataFrame:
    """Min, average and max of the valid readings per device, sensor and 5-minute window."""
    return five_minute_windows(readings)


@table(Layer.GOLD, Overwrite(), {"readings": snapshot("iot_readings")})
def iot_alerts(readings: DataFrame, conf) -> DataFrame:
    """``threshold``: a window whose average is outside the sensor's configured range; ``silent``: a device
    with no reading for more than ``silent_minutes`` (at its last reading before the gap; sensor ``*``)."""
    thresholds = conf["iot_thresholds"]
    windows = five_minute_windows(readings)
    low = F.create_map(*[v for sensor, (lo, _hi) in thresholds.items() for v in (F.lit(sensor), F.lit(float(lo)))])
    high = F.create_map(*[v for sensor, (_lo, hi) in thresholds.items() for v in (F.lit(sensor), F.lit(float(hi)))])
    average = F.col("avg_reading").cast("double")
    outside = windows.where((average < low[F.col("sensor_type")]) | (average > high[F.col("sensor_type")]))
    threshold_alerts = outside.select(
        "device_id",
        "sensor_type",
        F.lit("threshold").alias("alert"),
        F.col("window_start").alias("at"),
        F.col("avg_reading").cast("decimal(18,4)").alias("value"),
    )
    times = readings.select("device_id", "event_ts").distinct()
    following = Window.partitionBy("device_id").orderBy("event_ts")
    gaps = times.withColumn("_next", F.lead("event_ts").over(following)).withColumn(
        "_gap", F.unix_timestamp("_next") - F.unix_timestamp("event_ts")
    )
    silent_alerts = gaps.where(F.col("_gap") > int(conf["silent_minutes"]) * 60).select(
        "device_id",
        F.lit("*").alias("sensor_type"),
        F.lit("silent").alias("alert"),
        F.col("event_ts").alias("at"),
        F.col("_gap").cast("decimal(18,4)").alias("value"),
    )
    return threshold_alerts.unionByName(silent_alerts)
