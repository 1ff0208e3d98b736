"""Silver: typed, deduplicated, change-applied tables; personal data tokenised.

A Kafka message value is parsed with :func:`medallion.sources.files.parse_json`: a value that is not JSON
(or not UTF-8, or holds a field of the wrong type) keeps its raw text in ``_corrupt_record`` and is
quarantined by ``value_parsed`` with its raw bytes (``_raw_value``, base64) and ``topic/partition@offset``
(``_source``), never turned into NULLs. A table that declares personal data (``clicks``: the ip) quarantines
no raw text: its records keep the tokenised columns and the offset, and bronze keeps the message.

Duplicates are removed by keyed merges (insert-only on ``event_id``; on ``(device_id, sensor_type,
event_ts)``), which need no state and no watermark: a duplicate or a late message is recognised however
late it comes, so a batch run and a stream run of the same messages give the same rows. (The spec's
10- and 5-minute watermarks bound a streaming dedupe's state; a keyed merge has none to bound.)
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import (
    CdcLatest,
    InsertOnly,
    Layer,
    Scd2,
    expect,
    expect_or_drop,
    snapshot,
    stream,
    table,
)
from medallion.sources.files import parse_json

CLICK_SCHEMA = (
    "event_id STRING, session_id STRING, customer_id BIGINT, event_type STRING, page_url STRING, "
    "referrer STRING, product_id STRING, device STRING, browser STRING, ip STRING, event_ts TIMESTAMP"
)
READING_SCHEMA = (
    "device_id STRING, sensor_type STRING, reading DECIMAL(9,2), unit STRING, battery_pct INT, "
    "lat DOUBLE, lon DOUBLE, event_ts TIMESTAMP"
)
EVENT_TYPES = ("page_view", "add_to_cart", "remove_from_cart", "checkout", "purchase")
# Physical range of each sensor (inclusive; None: unbounded).
PHYSICAL_RANGE = {"temperature": (-40, 125), "humidity": (0, 100), "vibration": (0, None), "pressure": (300, 1100)}
VALUE_PARSED = expect_or_drop("value_parsed", "_corrupt_record IS NULL")


def message_values(messages: DataFrame, schema: str) -> DataFrame:
    """The declared fields of each message's JSON value, beside its lineage and, when it does not parse,
    its raw text (``_corrupt_record``) and bytes (``_raw_value``)."""
    values = parse_json(messages, F.col("value").cast("string"), schema)
    lineage = F.concat_ws("", "topic", F.lit("/"), "partition", F.lit("@"), "offset")
    return values.frame.select(
        values.value.alias("v"),
        F.base64("value").alias("_raw_value"),
        lineage.alias("_source"),
        values.corrupt.alias("_corrupt_record"),
        values.rescued.alias("_rescued_data"),
    )


@table(
    Layer.SILVER,
    CdcLatest(("order_id", "order_line"), ("order_ts",)),
    {"lines": stream("sales_bz"), "customers": snapshot("customers")},
    expectations=(
        expect_or_drop("order_key_present", "order_id IS NOT NULL AND order_line IS NOT NULL AND order_ts IS NOT NULL"),
        expect_or_drop("quantity_positive_when_completed", "NOT (status = 'completed' AND coalesce(quantity, 0) <= 0)"),
        expect_or_drop("price_not_negative", "unit_price IS NOT NULL AND unit_price >= 0"),
        expect_or_drop("status_known", "status IN ('completed', 'returned', 'cancelled')"),
        expect_or_drop("channel_known", "channel IN ('web', 'store', 'app')"),
        expect("customer_known", "customer_known"),
    ),
)
def sales(lines: DataFrame, customers: DataFrame) -> DataFrame:
    """One row per order line (the latest by order_ts wins), with its amount; unknown customers kept, flagged."""
    known = customers.select("customer_id").distinct().withColumn("_known", F.lit(True))
    discount = F.coalesce(F.col("discount_pct"), F.lit(0).cast("decimal(5,2)"))
    amount = (F.col("quantity") * F.col("unit_price") * (F.lit(1) - discount / 100)).cast("decimal(18,2)")
    return lines.join(known, "customer_id", "left").select(
        "order_id",
        "order_line",
        "order_ts",
        "customer_id",
        "product_id",
        "product_category",
        "quantity",
        "unit_price",
        discount.alias("discount_pct"),
        "currency",
        "channel",
        F.when(F.col("store_id") != "", F.col("store_id")).alias("store_id"),
        "status",
        amount.alias("line_amount"),
        F.coalesce("_known", F.lit(False)).alias("customer_known"),
    )


@table(
    Layer.SILVER,
    Scd2(("customer_id",), "updated_at", delete_when="op = 'D'"),
    {"changes": stream("customers_bz")},
    expectations=(
        expect_or_drop("customer_key_present", "customer_id IS NOT NULL AND updated_at IS NOT NULL"),
        expect_or_drop("op_known", "op IN ('I', 'U', 'D')"),
    ),
    personal_data={
        "email": "tokenize",
        "phone": "tokenize",
        "first_name": "tokenize",
        "last_name": "tokenize",
        "address": "tokenize",
    },
)
def customers(changes: DataFrame) -> DataFrame:
    """Customer history, SCD type 2 on customer_id by updated_at; e-mail normalised before tokenising."""
    return changes.select(
        "customer_id",
        "first_name",
        "last_name",
        F.lower(F.trim("email")).alias("email"),
        "phone",
        "address",
        "city",
        "state",
        "country",
        "postal_code",
        "birth_date",
        "signup_ts",
        "segment",
        "op",
        "updated_at",
    )


@table(
    Layer.SILVER,
    InsertOnly(("event_id",)),
    {"messages": stream("clickstream_bz")},
    expectations=(
        VALUE_PARSED,
        expect_or_drop("event_key_present", "event_id IS NOT NULL AND session_id IS NOT NULL AND event_ts IS NOT NULL"),
        expect_or_drop("event_type_known", "event_type IN ({})".format(", ".join(f"'{t}'" for t in EVENT_TYPES))),
    ),
    personal_data={"ip": "tokenize"},
)
def clicks(messages: DataFrame) -> DataFrame:
    """Clickstream events, one per event_id; unknown event types quarantined."""
    return message_values(messages, CLICK_SCHEMA).select(
        "v.*", "_raw_value", "_source", "_corrupt_record", "_rescued_data"
    )


def physically_valid(sensor: str = "sensor_type", reading: str = "reading"):
    """True when the reading lies in its sensor's physical range (an unknown sensor is never valid)."""
    rule: Column | None = None
    for name, (low, high) in PHYSICAL_RANGE.items():
        inside = F.lit(True)
        if low is not None:
            inside = inside & (F.col(reading) >= low)
        if high is not None:
            inside = inside & (F.col(reading) <= high)
        rule = F.when(F.col(sensor) == name, inside) if rule is None else rule.when(F.col(sensor) == name, inside)
    if rule is None:  # no sensor declared: nothing is valid
        return F.lit(False)
    return F.coalesce(rule.otherwise(F.lit(False)), F.lit(False))


@table(
    Layer.SILVER,
    InsertOnly(("device_id", "sensor_type", "event_ts")),
    {"messages": stream("iot_bz")},
    expectations=(
        VALUE_PARSED,
        expect_or_drop(
            "reading_key_present", "device_id IS NOT NULL AND sensor_type IS NOT NULL AND event_ts IS NOT NULL"
        ),
        expect("reading_in_physical_range", "valid"),
    ),
)
def iot_readings(messages: DataFrame) -> DataFrame:
    """Sensor readings, one per (device, sensor, time); ``valid`` = inside the sensor's physical range."""
    values = message_values(messages, READING_SCHEMA).select(
        "v.*", "_raw_value", "_source", "_corrupt_record", "_rescued_data"
    )
    return values.withColumn("valid", physically_valid())
