"""The range of values each key column takes in a batch, so that a keyed merge reads only the target files
that can hold those keys.

A MERGE finds the target rows matching its source by joining the source with the target, and reads every
file of the target to do so: a batch of new heart-rate readings would read years of stored ones. Bounding
each key column of the target by the lowest and highest value the batch holds (``t.time BETWEEN …``) lets
Delta skip the files whose column statistics lie outside, and changes no match: a target row can only
match a source row with equal keys, which lies inside those bounds. A NULL key matches a NULL key (the
merge compares keys NULL-safely), so a batch holding one keeps the target's NULL keys in as well.

The bounds are computed in the pass that already counts the batch (engine.quality.measure). Only columns
whose values write exact SQL literals are bounded: integers, dates and timestamps (as UTC instants, so
the session's time zone cannot shift them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, Row
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ByteType,
    DataType,
    DateType,
    IntegerType,
    LongType,
    ShortType,
    StructType,
    TimestampType,
)

# The suffix of an integer literal of each type: the bound has the column's own type, so Delta compares
# the column itself (not a cast of it) with its statistics.
_INTEGER_SUFFIX: dict[type[DataType], str] = {ByteType: "Y", ShortType: "S", IntegerType: "", LongType: "L"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class KeyRange:
    """SQL literals bounding one key column's values in a batch (None: every value is NULL)."""

    low: str | None
    high: str | None
    has_null: bool


def aggregates(schema: StructType, keys: tuple[str, ...], counted: Column) -> list[Column]:
    """The aggregate columns giving the range of each boundable key among the rows where ``counted`` holds."""
    columns = []
    for index, key in enumerate(keys):
        value = _as_number(schema[key].dataType, F.col(key)) if key in schema.fieldNames() else None
        if value is None:
            continue
        columns += [
            F.min(F.when(counted, value)).alias(f"_key_low_{index}"),
            F.max(F.when(counted, value)).alias(f"_key_high_{index}"),
            F.max(F.when(counted, F.col(key).isNull())).alias(f"_key_null_{index}"),
        ]
    return columns


def from_row(row: Row | Mapping[str, Any], schema: StructType, keys: tuple[str, ...]) -> dict[str, KeyRange]:
    """The ranges in ``row``, the result of :func:`aggregates` (a row, or its values by name)."""
    ranges, values = {}, row.asDict() if isinstance(row, Row) else dict(row)
    for index, key in enumerate(keys):
        if f"_key_low_{index}" not in values:
            continue
        data_type = schema[key].dataType
        low, high = values[f"_key_low_{index}"], values[f"_key_high_{index}"]
        low_literal, high_literal = _literal(data_type, low), _literal(data_type, high)
        if (low is not None and low_literal is None) or (high is not None and high_literal is None):
            continue  # a value no literal writes exactly (a timestamp outside years 1-9999): left unbounded
        ranges[key] = KeyRange(low_literal, high_literal, bool(values[f"_key_null_{index}"]))
    return ranges


def target_condition(ranges: Mapping[str, KeyRange], alias: str = "t") -> str:
    """The predicate on the merge target's columns, for its ON clause ("" when nothing is bounded)."""
    parts = []
    for key, bounds in ranges.items():
        column = f"{alias}.`{key}`"
        within = f"{column} BETWEEN {bounds.low} AND {bounds.high}" if bounds.low is not None else None
        nulls = f"{column} IS NULL" if bounds.has_null else None
        alternatives = [p for p in (within, nulls) if p]
        if alternatives:
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    return " AND ".join(parts)


def _as_number(data_type: DataType, column: Column) -> Column | None:
    """The column as an exact, ordered number (None for a type that is not bounded)."""
    if type(data_type) in _INTEGER_SUFFIX:
        return column
    if isinstance(data_type, DateType):
        return F.unix_date(column)
    if isinstance(data_type, TimestampType):
        return F.unix_micros(column)
    return None


def _literal(data_type: DataType, number: int | None) -> str | None:
    if number is None:
        return None
    if type(data_type) in _INTEGER_SUFFIX:
        return f"{int(number)}{_INTEGER_SUFFIX[type(data_type)]}"
    try:
        if isinstance(data_type, DateType):
            return f"DATE'{(_EPOCH.date() + dt.timedelta(days=int(number))).isoformat()}'"
        instant = _EPOCH + dt.timedelta(microseconds=int(number))
    except OverflowError:
        return None
    return (
        f"TIMESTAMP'{instant.year:04d}-{instant.month:02d}-{instant.day:02d} "
        f"{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}.{instant.microsecond:06d}Z'"
    )
