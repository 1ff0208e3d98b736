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
3. **The slice is read once** (in parallel where it is large) and held by Spark (``localCheckpoint``), so
   the quality checks and the write that follow never go back to the database: a database that stops
   mid-copy fails the run here, before anything is written, with a message that says so.

Rows with equal ``change_column`` must be committed together by the application (true of a column set
at commit, or of a sequence). Deletes are not seen by a change column; sources that delete rows need a
soft-delete flag.

Timestamps travel as wall-clock values (``TIMESTAMP_NTZ``) and are cast to the declared type in the
session time zone, and the mark is written back into SQL as text in that same zone: the JVM's own time
zone never takes part.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.types import StructType

from medallion.sources.schemas import struct_type

from medallion import io
from medallion.platform.config import DatabaseSettings
from medallion.sources.databases import explain, first_line, spark_options, sql_states
from medallion.errors import ConfigError, SourceError
from medallion.declare.tables import JdbcSource

LOAD_TIME = "load_time"
TEXT_TIMESTAMP = "yyyy-MM-dd HH:mm:ss.SSSSSS"
UNDEFINED_COLUMN_STATES = ("42703", "S0001", "42S22")


@dataclass(frozen=True)
class ChangedSlice:
    """What the bounds query found: how many rows changed after the mark, up to which value, key range."""

    rows: int
    high: str | None
    low_key: str | None
    high_key: str | None


def declared_schema(source: JdbcSource) -> StructType:
    schema = struct_type(source.schema)
    names = [f.name for f in schema.fields]
    for column in filter(None, (source.change_column, source.partition_column)):
        if column not in names:
            raise ConfigError(f"JdbcSource {source.table}: '{column}' is not in its schema ({', '.join(names)}).")
    return schema


def source_schema(source: JdbcSource) -> StructType:
    """The declared columns plus ``load_time``: what a build function receives."""
    return StructType([*declared_schema(source).fields, T.StructField(LOAD_TIME, T.TimestampType())])


def read_changes(
    spark: SparkSession,
    source: JdbcSource,
    database: DatabaseSettings,
    password,
    target_path: str,
    progress: Callable[[str], None] = lambda message: None,
) -> DataFrame:
    """The rows of ``source`` changed since the mark of the table at ``target_path``, read now.

    Raises :class:`SourceError` (database down, login refused, table or column missing) before anything
    is written."""
    schema = declared_schema(source)
    change_type = schema[source.change_column].dataType
    mark = high_water_mark(spark, target_path, source.change_column)
    options = {**spark_options(database, password), "fetchsize": str(source.fetch_size)}
    what = f"table {source.table}"
    try:
        changed = _bounds(spark, options, source, mark, change_type, schema)
        after = f"after {mark}" if mark is not None else "(first copy)"
        progress(f"{source.table}: {changed.rows:,} rows changed {after}")
        if changed.rows == 0:
            return spark.createDataFrame([], source_schema(source))
        rows = _read_slice(spark, options, source, mark, changed, change_type, schema)
        return rows.localCheckpoint(eager=True)
    except SourceError:
        raise
    except Exception as err:
        if _sql_state_in(err, UNDEFINED_COLUMN_STATES) or "invalid column name" in str(err).lower():
            raise SourceError(
                f"{what} in database '{database.name}' lacks a column its JdbcSource declares "
                f"({', '.join(schema.names)}): {first_line(err)}. Nothing was written."
            ) from None
        explained = explain(err, database, what)
        if explained is None:
            raise
        raise explained from None


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
    return table.agg(_as_text(F.max(change_column), column_type).alias("mark")).first()["mark"]


# -------------------------------------------------------------------------------------------- queries
def _bounds(spark, options, source: JdbcSource, mark, change_type, schema) -> ChangedSlice:
    key = source.partition_column
    key_bounds = f", MIN({key}) AS low_key, MAX({key}) AS high_key" if key else ", NULL AS low_key, NULL AS high_key"
    query = (f"SELECT COUNT(*) AS row_count, MAX({source.change_column}) AS high{key_bounds} "
             f"FROM {source.table}{_after(source, mark, change_type)}")
    found = spark.read.format("jdbc").options(**options).option("query", query).load()
    key_type = schema[key].dataType if key else T.StringType()
    row = found.select(
        F.col("row_count").cast("long").alias("rows"),
        _as_text(F.col("high").cast(_spark_type(change_type)), change_type).alias("high"),
        _as_text(F.col("low_key").cast(_spark_type(key_type)), key_type).alias("low_key"),
        _as_text(F.col("high_key").cast(_spark_type(key_type)), key_type).alias("high_key"),
    ).first()
    return ChangedSlice(int(row["rows"] or 0), row["high"], row["low_key"], row["high_key"])


def _read_slice(spark, options, source: JdbcSource, mark, changed: ChangedSlice, change_type, schema) -> DataFrame:
    columns = ", ".join(schema.names)
    condition = _after(source, mark, change_type) + (" AND " if mark is not None else " WHERE ")
    condition += f"{source.change_column} <= {_literal(changed.high, change_type)}"
    reader = (spark.read.format("jdbc").options(**options)
              .option("dbtable", f"(SELECT {columns} FROM {source.table}{condition}) changed_rows"))
    partitions = _partitions(source, changed)
    if partitions > 1:
        reader = (reader.option("partitionColumn", source.partition_column)
                  .option("lowerBound", _bound(changed.low_key)).option("upperBound", _bound(changed.high_key))
                  .option("numPartitions", str(partitions)))
    rows = reader.load()
    by_lower_name = {c.lower(): c for c in rows.columns}
    return rows.select(
        *[F.col(by_lower_name[f.name.lower()]).cast(f.dataType).alias(f.name) for f in schema.fields],
        F.current_timestamp().alias(LOAD_TIME),
    )


def _partitions(source: JdbcSource, changed: ChangedSlice) -> int:
    """Parallel range reads only where the slice is large and its keys span a range."""
    if not source.partition_column or changed.low_key is None or changed.low_key == changed.high_key:
        return 1
    return max(1, min(source.num_partitions, math.ceil(changed.rows / source.rows_per_partition)))


def _after(source: JdbcSource, mark: str | None, change_type) -> str:
    return "" if mark is None else f" WHERE {source.change_column} > {_literal(mark, change_type)}"


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
