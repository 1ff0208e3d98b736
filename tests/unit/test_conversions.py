"""Guarded epoch conversions: exact instants, NULL (never an overflow) outside what a TIMESTAMP holds, and
the raw value kept for the quarantine record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from medallion.declare.conversions import timestamp_from_millis, timestamp_from_seconds


def test_epoch_seconds_keep_their_fraction_and_an_overflow_is_null_with_its_raw_value(spark):
    seconds = spark.createDataFrame(
        [(Decimal("1678521900.125"),), (Decimal("1678521900000000"),), (None,)], "s DECIMAL(20,3)"
    )
    rows = seconds.select(*timestamp_from_seconds("s", "at")).collect()
    assert [(r["at"], r["_at_raw"]) for r in rows] == [
        (datetime(2023, 3, 11, 8, 5, 0, 125000), Decimal("1678521900.125")),
        (None, Decimal("1678521900000000.000")),
        (None, None),
    ]


def test_epoch_milliseconds_are_exact_and_an_overflow_is_null_with_its_raw_value(spark):
    latest = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
    millis = spark.createDataFrame(
        [(1678521900123,), (latest,), (latest + 1,), (-9_000_000_000_000_000,), (None,)], "ms BIGINT"
    )
    rows = millis.select(*timestamp_from_millis("ms", "at")).collect()
    assert [(r["at"], r["_at_raw"]) for r in rows] == [
        (datetime(2023, 3, 11, 8, 5, 0, 123000), 1678521900123),
        (datetime(9999, 12, 31, 23, 59, 59, 999000), latest),
        (None, latest + 1),
        (None, -9_000_000_000_000_000),
        (None, None),
    ]
