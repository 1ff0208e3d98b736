"""Sessionisation edges, IoT windows at their boundaries, the physical-range rule and the alerts (chispa)."""

from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality

from medallion.pipelines.commerce import gold, silver

CLICKS = "event_id STRING, session_id STRING, customer_id BIGINT, event_type STRING, event_ts TIMESTAMP"
READINGS = "device_id STRING, sensor_type STRING, reading DECIMAL(9,2), event_ts TIMESTAMP, valid BOOLEAN"
CONF = {
    "silent_minutes": 15,
    "as_of_date": "2026-01-31",
    "iot_thresholds": {"temperature": [-10, 80], "humidity": [15, 85], "vibration": [0, 40], "pressure": [950, 1050]},
}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second)


def test_sessions_cross_midnight_bounce_and_purchase_without_checkout(spark):
    events = spark.createDataFrame(
        [
            ("e1", "night", 7, "page_view", at(5, 23, 55)),
            ("e2", "night", None, "add_to_cart", at(5, 23, 58)),
            ("e3", "night", 7, "purchase", at(6, 0, 4)),  # no checkout, next day
            ("e4", "bounce", None, "page_view", at(6, 10)),  # a single event
            ("e5", "two_views", 3, "page_view", at(6, 11)),
            ("e6", "two_views", 3, "page_view", at(6, 11, 1, 30)),
        ],
        CLICKS,
    )
    expected = spark.createDataFrame(
        [
            ("bounce", None, at(6, 10), at(6, 10), 0, 1, True, False),
            ("night", 7, at(5, 23, 55), at(6, 0, 4), 540, 1, False, True),
            ("two_views", 3, at(6, 11), at(6, 11, 1, 30), 90, 2, False, False),
        ],
        "session_id STRING, customer_id BIGINT, start TIMESTAMP, end TIMESTAMP, duration_s BIGINT, page_views BIGINT, "
        "bounced BOOLEAN, converted BOOLEAN",
    )
    assert_df_equality(gold.sessions(events).orderBy("session_id"), expected, ignore_nullable=True)

    funnel = gold.funnel_daily(events).orderBy("session_date")
    assert [tuple(r) for r in funnel.collect()] == [
        (date(2026, 1, 5), 1, 1, 1, 0, 1),  # the night session counts on the day it started
        (date(2026, 1, 6), 2, 2, 0, 0, 0),
    ]


def test_five_minute_windows_put_a_boundary_reading_in_the_next_window_and_skip_invalid_readings(spark):
    readings = spark.createDataFrame(
        [
            ("d", "temperature", Decimal("20.00"), at(5, 12, 0), True),
            ("d", "temperature", Decimal("21.00"), at(5, 12, 4, 59), True),
            ("d", "temperature", Decimal("150.00"), at(5, 12, 3), False),
            ("d", "temperature", Decimal("30.00"), at(5, 12, 5), True),  # exactly on the boundary
        ],
        READINGS,
    )
    expected = spark.createDataFrame(
        [
            ("d", "temperature", at(5, 12, 0), at(5, 12, 5), Decimal("20.00"), Decimal("20.5000"), Decimal("21.00"), 2),
            (
                "d",
                "temperature",
                at(5, 12, 5),
                at(5, 12, 10),
                Decimal("30.00"),
                Decimal("30.0000"),
                Decimal("30.00"),
                1,
            ),
        ],
        "device_id STRING, sensor_type STRING, window_start TIMESTAMP, window_end TIMESTAMP, min_reading DECIMAL(9,2), "
        "avg_reading DECIMAL(13,4), max_reading DECIMAL(9,2), valid_readings BIGINT",
    )
    assert_df_equality(gold.iot_5min(readings).orderBy("window_start"), expected, ignore_nullable=True)


def test_physical_range_is_inclusive_per_sensor_and_an_unknown_sensor_is_never_valid(spark):
    cases = [
        ("temperature", "-40.00", True),
        ("temperature", "125.00", True),
        ("temperature", "125.01", False),
        ("humidity", "0.00", True),
        ("humidity", "-0.01", False),
        ("humidity", "100.00", True),
        ("vibration", "0.00", True),
        ("vibration", "9999.00", True),
        ("vibration", "-1.00", False),
        ("pressure", "299.99", False),
        ("pressure", "300.00", True),
        ("pressure", "1100.00", True),
        ("light", "1.00", False),
        ("temperature", None, False),
    ]
    frame = spark.createDataFrame(
        [(s, Decimal(v) if v else None) for s, v, _ in cases], "sensor_type STRING, reading DECIMAL(9,2)"
    )
    valid = [r.valid for r in frame.select(silver.physically_valid().alias("valid")).collect()]
    assert valid == [expected for _, _, expected in cases]


def test_alerts_for_a_hot_window_and_a_silent_device(spark):
    readings = spark.createDataFrame(
        [
            ("hot", "temperature", Decimal("85.00"), at(5, 12, 10), True),
            ("hot", "temperature", Decimal("79.00"), at(5, 12, 11), True),  # average 82 > 80
            ("hot", "temperature", Decimal("20.00"), at(5, 12, 15), True),  # next window: fine
            ("quiet", "pressure", Decimal("1000.00"), at(5, 12, 0), True),
            ("quiet", "pressure", Decimal("1000.00"), at(5, 12, 15), True),  # exactly 15 min: not silent
            ("quiet", "pressure", Decimal("1000.00"), at(5, 12, 30, 1), True),  # 15 min 1 s: silent
        ],
        READINGS,
    )
    expected = spark.createDataFrame(
        [
            ("hot", "temperature", "threshold", at(5, 12, 10), Decimal("82.0000")),
            ("quiet", "*", "silent", at(5, 12, 15), Decimal("901.0000")),
        ],
        "device_id STRING, sensor_type STRING, alert STRING, at TIMESTAMP, value DECIMAL(18,4)",
    )
    assert_df_equality(gold.iot_alerts(readings, CONF).orderBy("device_id"), expected, ignore_nullable=True)
