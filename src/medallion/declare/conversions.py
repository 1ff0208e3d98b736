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

Numbers that arrive as text (a CSV field, a string column) are typed by :func:`number_as_written`: a plain
cast would truncate '2.5' to the integer 2, round '53.855' to 53.86, wrap or fail on an integer beyond its
type, and take 'NaN' as a double.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

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


# Decimal digits of each integral type's largest value, and its range.
_INTEGRAL: dict[type, tuple[int, int, int]] = {
    T.ByteType: (3, -(2**7), 2**7 - 1),
    T.ShortType: (5, -(2**15), 2**15 - 1),
    T.IntegerType: (10, -(2**31), 2**31 - 1),
    T.LongType: (19, -(2**63), 2**63 - 1),
}
# A number in plain decimal notation (no exponent, NaN or Infinity), spaces around it allowed (those F.trim removes).
_PLAIN_NUMBER = r"^ *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+) *\z"  # \z: Java's $ would let a final line break through


def number_as_written(text: Column | str, data_type: T.DataType) -> Column:
    """The number that ``text`` writes, as ``data_type``, when it is a value of that type as written; NULL
    otherwise (a NULL or unfit text alike: a rule on the result quarantines the row). Spaces (not tabs) around
    the number are allowed; an exponent, NaN or Infinity is not a number as written.

    - a DECIMAL(p, s): at most p - s whole digits and s places (trailing zeros beyond them are the same value);
    - an integral type: a whole number within its range;
    - FLOAT or DOUBLE: a number in plain decimal notation within the type's range (held as its nearest value).

    Nothing is cast that could fail, so the same holds under ANSI mode."""
    raw = F.col(text) if isinstance(text, str) else text
    if isinstance(data_type, T.DecimalType):
        return F.when(raw.rlike(_decimal_pattern(data_type)), F.trim(raw).cast(data_type))
    if type(data_type) in _INTEGRAL:
        digits, lowest, highest = _INTEGRAL[type(data_type)]
        whole = F.when(
            raw.rlike(_decimal_pattern(T.DecimalType(digits, 0))), F.trim(raw).cast(T.DecimalType(digits, 0))
        )
        return F.when(whole.between(lowest, highest), whole.cast(data_type))
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        value = F.when(raw.rlike(_PLAIN_NUMBER), F.trim(raw).cast(data_type))
        return F.when(F.abs(value) < F.lit(float("inf")), value)  # beyond the type's range a cast gives Infinity
    raise TypeError(f"number_as_written: {data_type.simpleString()} is not a numeric type")


def _decimal_pattern(data_type: T.DecimalType) -> str:
    whole, places = data_type.precision - data_type.scale, data_type.scale
    return rf"^ *[+-]?(?=\.?[0-9])0*[0-9]{{0,{whole}}}(\.[0-9]{{0,{places}}}0*)? *\z"
