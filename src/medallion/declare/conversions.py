"""Guarded conversions: for user input that can overflow or fail to convert, a NULL instead of an exception,
plus the rule that quarantines the row.

An unguarded conversion of one bad value (a login in epoch microseconds where seconds are expected:
``timestamp_seconds`` overflows a long) raises inside the batch, so the table fails on every run and nothing
downstream runs again. A guarded one keeps the raw value in a working column (``_<name>_raw``, dropped
before the write, kept in the quarantine record) and gives NULL when the value is out of range; its rule
``<name>_in_range`` sends such a row to quarantine with the rule's name and the row's file.

    @table(..., expectations=(in_range("login"),))
    def gym_logs(logins):
        return logins.select(..., *timestamp_from_seconds("login"))
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from medallion.declare.tables import Expectation, expect_or_drop

# The instants a Spark TIMESTAMP holds: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in epoch seconds.
EARLIEST_SECOND = -62_135_596_800
LATEST_SECOND = 253_402_300_799


def raw_column(name: str) -> str:
    return f"_{name}_raw"


def timestamp_from_seconds(source: str | Column, name: str | None = None) -> tuple[Column, Column]:
    """The TIMESTAMP of epoch seconds ``source`` (integral or decimal) as ``name``, NULL when out of range
    (never an overflow), and the raw value as ``_<name>_raw``. ``name`` defaults to ``source``'s name."""
    if name is None:
        if not isinstance(source, str):
            raise TypeError("timestamp_from_seconds: give the result's name for a column expression")
        name = source.rsplit(".", 1)[-1]
    seconds = F.col(source) if isinstance(source, str) else source
    # CASE WHEN evaluates its value only for rows whose condition holds, so the conversion never sees them.
    converted = F.when(seconds.between(EARLIEST_SECOND, LATEST_SECOND), F.timestamp_seconds(seconds))
    return converted.alias(name), seconds.alias(raw_column(name))


def timestamp_from_millis(source: str | Column, name: str) -> tuple[Column, Column]:
    """The TIMESTAMP of integral epoch milliseconds ``source`` as ``name``, exact to the millisecond, NULL when
    out of range, and the raw value as ``_<name>_raw``: :func:`timestamp_from_seconds` for milliseconds."""
    millis = F.col(source) if isinstance(source, str) else source
    converted = F.when(millis.between(EARLIEST_SECOND * 1000, LATEST_SECOND * 1000 + 999), F.timestamp_millis(millis))
    return converted.alias(name), millis.alias(raw_column(name))


def in_range(name: str) -> Expectation:
    """The rule of a guarded conversion: a raw value present but not convertible is quarantined."""
    return expect_or_drop(f"{name}_in_range", f"`{raw_column(name)}` IS NULL OR `{name}` IS NOT NULL")
