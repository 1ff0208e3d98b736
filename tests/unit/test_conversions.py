"""Guarded conversions: epoch instants exact, NULL (never an overflow) outside what a TIMESTAMP holds, the raw
value kept for the quarantine record; numbers written as text typed only when they are values of the type as
written (never truncated, rounded, wrapped or failing)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from pyspark.sql import types as T

from medallion.declare.conversions import (
    number_as_written,
    timestamp_from_millis,
    timestamp_from_seconds,
)


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


@pytest.fixture(params=[False, True], ids=["ansi off", "ansi on"])
def session(spark, request):
    """The session with ANSI mode off and on: nothing may fail or come out otherwise under either."""
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", str(request.param).lower())
    yield spark
    spark.conf.set("spark.sql.ansi.enabled", before)


def typed_as(spark, texts, data_type):
    frame = spark.createDataFrame([(text,) for text in texts], "text STRING")
    rows = frame.select("text", number_as_written("text", data_type).alias("value")).collect()
    return [(r["value"], r["text"] is not None and r["value"] is None) for r in rows]  # (value, text not taken)


def test_a_decimal_is_taken_only_with_the_digits_and_places_its_type_holds(session):
    texts = [
        "19.99",
        " 007.50 ",
        "-0.5",
        ".5",
        "5.",
        "19.990",
        "19.999",
        "1234.5",
        "1e2",
        "NaN",
        "",
        "12,5",
        "\t5",
        "5\n",  # Java's $ matches before a final line break, and a cast under ANSI mode fails on it
        "5\u2028",
        None,
    ]
    assert typed_as(session, texts, T.DecimalType(5, 2)) == [
        (Decimal("19.99"), False),
        (Decimal("7.50"), False),
        (Decimal("-0.50"), False),
        (Decimal("0.50"), False),
        (Decimal("5.00"), False),
        (Decimal("19.99"), False),  # a trailing zero beyond the places is the same value
        (None, True),  # a cast would round it to 20.00
        (None, True),  # four whole digits: beyond DECIMAL(5,2)
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, False),
    ]


@pytest.mark.parametrize(
    ("data_type", "highest"),
    [(T.ByteType(), 2**7 - 1), (T.ShortType(), 2**15 - 1), (T.IntegerType(), 2**31 - 1), (T.LongType(), 2**63 - 1)],
)
def test_a_whole_number_is_taken_within_its_types_range_only(session, data_type, highest):
    texts = [str(highest), str(-highest - 1), str(highest + 1), str(-highest - 2), "+12", " 3 ", "2.0", "2.5", "x"]
    assert typed_as(session, texts, data_type) == [
        (highest, False),
        (-highest - 1, False),
        (None, True),  # a cast would wrap it or fail
        (None, True),
        (12, False),
        (3, False),
        (2, False),
        (None, True),  # a cast would truncate it to 2
        (None, True),
    ]


def test_a_double_is_taken_in_plain_decimal_notation_within_its_range_only(session):
    texts = ["-117.81", "33", ".25", "1e3", "NaN", "Infinity", "0x1p3", "north", "9" * 400, "-" + "9" * 400, "7\n"]
    assert typed_as(session, texts, T.DoubleType()) == [
        (-117.81, False),
        (33.0, False),
        (0.25, False),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),  # beyond a double: a cast would give Infinity
        (None, True),
        (None, True),
    ]


def test_a_type_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="date is not a numeric type"):
        number_as_written("text", T.DateType())
