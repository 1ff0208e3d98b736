"""Incremental copies of relational tables over JDBC (the Data Factory "delta copy", inside the framework).

A table declares a :class:`~medallion.declare.tables.JdbcSource` input; each run reads only the rows changed
since the last successful copy:

1. **The high-water mark** is the greatest ``change_column`` already in the table being written (bronze).
   It is not kept anywhere else: the rows and the mark are one Delta commit, so a run that fails before
   its commit leaves the mark where it was, and a run that committed has moved it. Nothing can say "copied"
   for rows that are not there, and a re-run finds nothing newer and copies nothing.
2. **One bounds query** on the database (``COUNT``, ``MAX(change_column)`` and the partition column's range,
   for rows newer than the mark) fixes the slice ``mark < change_column <= high`` before any row is read,
   so parallel range queries all see the same slice even while the application keeps writing; rows changed
   after the bounds query wait for the next run.
3. **The slice is read once** (in parallel where it is large) into a staging Delta table of its own
   (:func:`medallion.io.staged`, replaced by each copy), so the quality checks and the write that follow
   never go back to the database: a database that stops mid-copy fails the run here, before anything is
   written to the table, with a message that says so. Staging in a table rather than Spark's memory
   (``localCheckpoint``) holds over Spark Connect and serverless compute too.

**What a plain change column misses, and the declarations that close the gap.** The mark assumes a row's
change value is never older than a value already copied. That fails in three ways, each with its remedy:

- *Late commits.* A change value is set when the row is written, not when its transaction commits: a long
  transaction, or a clock behind another writer's, commits a row whose value is already below the mark.
  ``lookback`` reads again the window ``mark - lookback < change_column <= high`` and drops the rows bronze
  already holds, matched by ``keys`` and change value (one anti-join on the copied window), so a late row
  is copied once and an on-time row is never copied twice.
- *Updates.* They are seen when the application (or a trigger) moves the change column on every update;
  a table whose change column is an insert-only id (an identity) sees inserts only.
- *Deletes.* No change column sees a row that is gone. ``deletes`` names a table where the database
  records each deleted key with a change value (a DELETE trigger); its rows are copied as tombstones
  (``deleted`` true, the other columns NULL) in the same window, in the same Delta commit as the changes.

**Guarantee.** With ``lookback`` covering the longest time between a change value being set and its
commit becoming visible, every committed insert, update (the version current at each copy) and delete
reaches bronze exactly once per (key, change value), whatever the order of commits, and a re-run copies
nothing. **Limits.** A change committed later than ``lookback`` behind the mark is missed (size the window
to the longest transaction plus the clock skew between writers); several updates of one row between two
copies arrive as the last of them only; a table without the change column or a delete trigger cannot give
more than it records. Every run of a source with a window reads the window again (its cost grows with the
window's rows, not the table's), so such a table is never skipped as unchanged.

Timestamps travel as wall-clock values (``TIMESTAMP_NTZ``) and are cast to the declared type in the
session time zone, and the mark is written back into SQL as text in that same zone: the JVM's own time
zone never takes part.
They are compared to the microsecond, the precision Spark keeps: a database keeping finer values (SQL
Server's ``DATETIME2(7)``) would otherwise copy a row again on every run, or leave the newest behind.
The SQL of the copy is built by :func:`bounds_query` and :func:`slice_query` (tested as text for SQL Server,
which cannot run where the tests run; run for real against PostgreSQL).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.types import StructType

from medallion import io
from medallion.declare.tables import JdbcSource, lookback_amount
from medallion.errors import ConfigError, SourceError
from medallion.platform.config import DatabaseSettings
from medallion.sources import type_fit
from medallion.sources.databases import explain, first_line, spark_options, sql_states
from medallion.sources.schemas import struct_type

LOAD_TIME = "load_time"
DELETED = "deleted"  # true on a tombstone: a row the database deleted (sources that declare ``deletes``)
TEXT_TIMESTAMP = "yyyy-MM-dd HH:mm:ss.SSSSSS"
UNDEFINED_COLUMN_STATES = ("42703", "S0001", "42S22")


@dataclass(frozen=True)
class ChangedSlice:
    """What the bounds query found: how many rows changed after the mark, up to which value, key range, and
    how many rows of the source have no change value at all (``unordered``)."""

    rows: int
    high: str | None
    low_key: str | None
    high_key: str | None
    unordered: int = 0


def declared_schema(source: JdbcSource) -> StructType:
    schema = struct_type(source.schema)
    names = [f.name for f in schema.fields]
    for column in filter(None, (source.change_column, source.partition_column, *source.keys)):
        if column not in names:
            raise ConfigError(f"JdbcSource {source.table}: '{column}' is not in its schema ({', '.join(names)}).")
    return schema


def copied_schema(source: JdbcSource) -> StructType:
    """The declared columns, plus ``deleted`` when the source copies deletes: what the database gives."""
    schema = declared_schema(source)
    if source.deletes:
        return StructType([*schema.fields, T.StructField(DELETED, T.BooleanType())])
    return schema


def source_schema(source: JdbcSource) -> StructType:
    """The copied columns plus ``load_time``: what a build function receives."""
    return StructType([*copied_schema(source).fields, T.StructField(LOAD_TIME, T.TimestampType())])


def read_changes(
    spark: SparkSession,
    source: JdbcSource,
    database: DatabaseSettings,
    password,
    target_path: str,
    staging_path: str,
    progress: Callable[[str], None] = lambda message: None,
) -> DataFrame:
    """The rows of ``source`` changed since the mark of the table at ``target_path`` (less its look-back
    window, without the rows the table holds already), read now into the staging table at ``staging_path``.

    Raises :class:`SourceError` (database down, login refused, table or column missing) before anything
    is written."""
    schema = copied_schema(source)
    change_type = schema[source.change_column].dataType
    mark = high_water_mark(spark, target_path, source.change_column)
    start = window_start(mark, source.lookback, change_type)
    options = {**spark_options(database, password), "fetchsize": str(source.fetch_size)}
    what = f"table {source.table}" + (f" (and its deletes in {source.deletes})" if source.deletes else "")
    try:
        changed = _bounds(spark, options, source, start, change_type, schema)
        if changed.unordered:
            raise SourceError(
                f"{what} in database '{database.name}' has {changed.unordered:,} rows whose {source.change_column} "
                f"is NULL: a copy takes rows in the order of {source.change_column}, so they would never be "
                f"copied. Give them a value (or declare a change column that always has one). Nothing was written."
            )
        after = f"after {start}" if start is not None else "(first copy)"
        progress(f"{source.table}: {changed.rows:,} rows changed {after}")
        if changed.rows == 0:
            return spark.createDataFrame([], source_schema(source))
        rows = _read_slice(spark, options, source, start, changed, change_type, schema)
        if source.lookback and start is not None:
            rows = not_yet_copied(rows, spark.read.format("delta").load(target_path), source, start, change_type)
        return io.staged(rows, staging_path)
    except SourceError:
        raise
    except Exception as err:
        if _sql_state_in(err, UNDEFINED_COLUMN_STATES) or "invalid column name" in str(err).lower():
            raise SourceError(
                f"{what} in database '{database.name}' lacks a column its JdbcSource declares "
                f"({', '.join(declared_schema(source).names)}): {first_line(err)}. Nothing was written."
            ) from None
        explained = explain(err, database, what)
        if explained is None:
            raise
        raise explained from None


def change_marker(spark: SparkSession, source: JdbcSource, database: DatabaseSettings, password) -> str:
    """``"<row count>:<greatest change value>"`` of the source table (the fingerprint of an unchanged
    table). A database that is down or a missing table is the same clear :class:`SourceError` as a copy's,
    raised before anything is written."""
    query = f"SELECT COUNT(*) AS n, MAX({source.change_column}) AS m FROM {source.table}"
    try:
        row = (
            spark.read.format("jdbc")
            .options(**spark_options(database, password))
            .option("query", query)
            .load()
            .collect()[0]
        )
    except Exception as err:
        explained = explain(err, database, f"table {source.table}")
        if explained is None:
            raise
        raise explained from None
    return f"{row[0]}:{row[1]}"


def window_start(mark: str | None, lookback: str | None, change_type) -> str | None:
    """Where this run's read starts: the mark, less the look-back window (as SQL-ready text)."""
    if mark is None or not lookback:
        return mark
    amount, is_time = lookback_amount(lookback)
    if isinstance(change_type, (T.TimestampType, T.TimestampNTZType)):
        if not is_time:
            raise ConfigError(f"lookback {lookback!r}: a timestamp change column needs a time ('15 minutes').")
        start = datetime.strptime(mark, "%Y-%m-%d %H:%M:%S.%f") - timedelta(seconds=amount)
        return start.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(change_type, T.DateType):
        return (
            datetime.strptime(mark, "%Y-%m-%d") - timedelta(seconds=amount if is_time else amount * 86400)
        ).strftime("%Y-%m-%d")
    if is_time:
        raise ConfigError(f"lookback {lookback!r}: a numeric change column needs a number, not a time.")
    window = Decimal(str(amount))
    if isinstance(change_type, T.IntegralType):
        window = window.to_integral_value()
    return str(Decimal(mark) - window)


def not_yet_copied(rows: DataFrame, copied: DataFrame, source: JdbcSource, start: str, change_type) -> DataFrame:
    """``rows`` less those the target holds already: same keys, change value and (for tombstones) kind.
    Only the target's rows of the window take part, so the cost follows the window, not the table."""
    identity = [*source.keys, source.change_column]
    window = copied.where(F.col(source.change_column) > F.lit(start).cast(change_type))
    kind = F.coalesce(F.col(DELETED), F.lit(False)) if DELETED in copied.columns else F.lit(False)
    held = window.select(*[F.col(c).alias(f"_copied_{c}") for c in identity], kind.alias("_copied_deleted"))
    new_kind = F.coalesce(F.col(DELETED), F.lit(False)) if DELETED in rows.columns else F.lit(False)
    same = [F.col(c).eqNullSafe(F.col(f"_copied_{c}")) for c in identity] + [new_kind == F.col("_copied_deleted")]
    condition = same[0]
    for part in same[1:]:
        condition = condition & part
    return rows.join(held, condition, "left_anti")


def high_water_mark(spark: SparkSession, target_path: str, change_column: str) -> str | None:
    """The greatest ``change_column`` in the Delta table at ``target_path``, as SQL-ready text (None: empty)."""
    if not io.table_exists(spark, target_path):
        return None
    table = spark.read.format("delta").load(target_path)
    if change_column not in table.columns:
        raise ConfigError(
            f"The table at {target_path} has no column '{change_column}': a table reading a JdbcSource must keep "
            "its change column, which holds the copy's high-water mark."
        )
    column_type = table.schema[change_column].dataType
    return table.agg(_as_text(F.max(change_column), column_type).alias("mark")).collect()[0]["mark"]


def relation(source: JdbcSource, schema: StructType) -> str:
    """The SQL of what is copied: the table's declared columns, and its tombstones when it has ``deletes``."""
    declared = [f.name for f in schema.fields if f.name != DELETED]
    if not source.deletes:
        return source.table
    kept = set(source.keys) | {source.change_column}
    tombstone = ", ".join(c if c in kept else f"NULL AS {c}" for c in declared)
    return (
        f"(SELECT {', '.join(declared)}, 0 AS {DELETED} FROM {source.table} "
        f"UNION ALL SELECT {tombstone}, 1 AS {DELETED} FROM {source.deletes}) copied_rows"
    )


# -------------------------------------------------------------------------------------------- queries
def bounds_query(source: JdbcSource, schema: StructType, start: str | None, change_type) -> str:
    """The SQL that fixes a run's slice: how many rows changed after ``start``, up to which value, over
    which key range; and how many rows have a NULL change value, which no slice would ever take."""
    key = source.partition_column
    key_bounds = f", MIN({key}) AS low_key, MAX({key}) AS high_key" if key else ", NULL AS low_key, NULL AS high_key"
    changed = (
        f"SELECT COUNT(*) AS row_count, MAX({source.change_column}) AS high{key_bounds} "
        f"FROM {relation(source, schema)}{_where(_after(source, start, change_type))}"
    )
    unordered = f"SELECT COUNT(*) AS unordered FROM {relation(source, schema)} WHERE {source.change_column} IS NULL"
    return f"SELECT * FROM ({changed}) changed_slice CROSS JOIN ({unordered}) unordered_rows"


def slice_query(source: JdbcSource, schema: StructType, start: str | None, high: str, change_type) -> str:
    """The SQL of a run's slice: the copied columns of the rows changed after ``start``, up to ``high``
    (a derived table, as Spark's ``dbtable`` option takes it)."""
    conditions = [_after(source, start, change_type), _up_to(source, high, change_type)]
    return f"(SELECT {', '.join(schema.names)} FROM {relation(source, schema)}{_where(*conditions)}) changed_rows"


def _bounds(spark, options, source: JdbcSource, mark, change_type, schema) -> ChangedSlice:
    key = source.partition_column
    query = bounds_query(source, schema, mark, change_type)
    found = spark.read.format("jdbc").options(**options).option("query", query).load()
    key_type = schema[key].dataType if key else T.StringType()
    row = found.select(
        F.col("row_count").cast("long").alias("rows"),
        _as_text(F.col("high").cast(_spark_type(change_type)), change_type).alias("high"),
        _as_text(F.col("low_key").cast(_spark_type(key_type)), key_type).alias("low_key"),
        _as_text(F.col("high_key").cast(_spark_type(key_type)), key_type).alias("high_key"),
        F.col("unordered").cast("long").alias("unordered"),
    ).collect()[0]
    return ChangedSlice(int(row["rows"] or 0), row["high"], row["low_key"], row["high_key"], int(row["unordered"] or 0))


def _read_slice(spark, options, source: JdbcSource, mark, changed: ChangedSlice, change_type, schema) -> DataFrame:
    assert changed.high is not None  # a slice is read only when the source has changed rows
    reader = (
        spark.read.format("jdbc")
        .options(**options)
        .option("dbtable", slice_query(source, schema, mark, changed.high, change_type))
    )
    partitions = _partitions(source, changed)
    if partitions > 1:
        reader = (
            reader.option("partitionColumn", source.partition_column)
            .option("lowerBound", _bound(changed.low_key))
            .option("upperBound", _bound(changed.high_key))
            .option("numPartitions", str(partitions))
        )
    rows = reader.load()
    _require_fitting_types(spark, options, source, schema, rows)
    by_lower_name = {c.lower(): c for c in rows.columns}
    return rows.select(
        *[F.col(by_lower_name[f.name.lower()]).cast(f.dataType).alias(f.name) for f in schema.fields],
        F.current_timestamp().alias(LOAD_TIME),
    )


def _require_fitting_types(spark, options, source: JdbcSource, schema: StructType, rows: DataFrame) -> None:
    """Raises SourceError when a declared column's type cannot hold every value the database's column may have
    (see type_fit). The types are the table's own: a union with the deletes table would blur them (its NULLs
    make PostgreSQL drop a NUMERIC's precision)."""
    declared = StructType([f for f in schema.fields if f.name != DELETED])
    given = rows.schema
    if source.deletes:
        query = f"SELECT {', '.join(declared.names)} FROM {source.table}"
        given = spark.read.format("jdbc").options(**options).option("query", query).load().schema
    misfits = type_fit.misfits(given, declared)
    if misfits:
        detail = "; ".join(
            f"{name} is {of.simpleString()} there, declared {to.simpleString()}" for name, of, to in misfits
        )
        raise SourceError(
            f"table {source.table}: {detail}. Not every value would fit (a cast would make it NULL, wrap it or "
            f"round it): declare each such column with the database's type, or a type that holds all its "
            f"values, in the JdbcSource schema. Nothing was written."
        )


def _partitions(source: JdbcSource, changed: ChangedSlice) -> int:
    """Parallel range reads only where the slice is large and its keys span a range."""
    if not source.partition_column or changed.low_key is None or changed.low_key == changed.high_key:
        return 1
    return max(1, min(source.num_partitions, math.ceil(changed.rows / source.rows_per_partition)))


def _where(*conditions: str) -> str:
    kept = [c for c in conditions if c]
    return f" WHERE {' AND '.join(kept)}" if kept else ""


# A timestamp is compared as Spark holds it, to the microsecond: a database that keeps finer values
# (SQL Server's DATETIME2(7), 100 ns) must not see a row at 12:00:00.1234567 as later than the mark
# 12:00:00.123456 it was copied as (copied again on every run), nor as later than a slice's bound
# 12:00:00.123456 (the newest change left behind until a newer one comes). So "later than the mark" is
# "at or after the next microsecond", and "up to the bound" is "before the bound's next microsecond".
def _after(source: JdbcSource, mark: str | None, change_type) -> str:
    if mark is None:
        return ""
    if _is_timestamp(change_type):
        return f"{source.change_column} >= {_literal(_next_microsecond(mark), change_type)}"
    return f"{source.change_column} > {_literal(mark, change_type)}"


def _up_to(source: JdbcSource, high: str, change_type) -> str:
    if _is_timestamp(change_type):
        return f"{source.change_column} < {_literal(_next_microsecond(high), change_type)}"
    return f"{source.change_column} <= {_literal(high, change_type)}"


def _is_timestamp(data_type) -> bool:
    return isinstance(data_type, (T.TimestampType, T.TimestampNTZType))


def _next_microsecond(text: str) -> str:
    return (datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f") + timedelta(microseconds=1)).strftime(
        "%Y-%m-%d %H:%M:%S.%f"
    )


# ------------------------------------------------------------------------------------ values as text
def _as_text(column: Column, data_type) -> Column:
    """A value as text that SQL and Spark read back exactly (microseconds kept, session time zone)."""
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return F.date_format(column, TEXT_TIMESTAMP)
    return column.cast("string")


def _literal(text: str, data_type) -> str:
    if isinstance(data_type, (T.IntegralType, T.DecimalType, T.FractionalType)):
        return text
    return "'" + text.replace("'", "''") + "'"


def _bound(text: str | None) -> str:
    return text or ""


def _spark_type(data_type):
    # The bounds query's timestamps arrive as TIMESTAMP_NTZ (wall clock): read them as such.
    return T.TimestampNTZType() if isinstance(data_type, T.TimestampType) else data_type


def _sql_state_in(err: BaseException, states) -> bool:
    return any(state in states for state in sql_states(err))
