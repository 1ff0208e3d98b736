"""Two lakehouses compared table by table, row by row: what a run over Spark Connect must share with a run
on classic Spark (the same rows in every table, the same event log statuses and counts)."""

from __future__ import annotations

from collections import Counter

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion.platform.config import Settings

# Columns that differ between two runs of the same data by nature: when a row was written, and by which run.
RUN_COLUMNS = ("load_time",)
# A sum of doubles depends on the order Spark adds them in (its partitions): an average of 65.0190681378962x
# may differ in the 14th digit between two runs. Doubles are compared to 9 decimals.
DOUBLE_DECIMALS = 9
EVENT_LOG_RUN_COLUMNS = ("run_id", "started_at", "duration_s", "error", "fingerprint", "unread_files")
# rows_read is the streaming query's own progress count: a foreachBatch function on Spark Connect runs its batch
# outside the query's metrics, so there it is NULL (unknown), never a wrong number. Rows in, accepted,
# quarantined, written, duplicates and late rows come from the batches and must agree exactly.
EVENT_LOG_ENGINE_COLUMNS = ("rows_read",)


def comparable(frame: DataFrame, root: str, landing: str) -> DataFrame:
    """The rows without the run's own columns, with the landing and storage roots taken out of text (a landed
    file's path) and maps as sorted entries (set operations refuse maps)."""
    columns: list[Column] = []
    for field in frame.schema.fields:
        if field.name in RUN_COLUMNS:
            continue
        column = F.col(f"`{field.name}`")
        if isinstance(field.dataType, T.StringType):
            column = F.replace(column, F.lit(landing.rstrip("/")), F.lit("<landing>"))
            column = F.replace(column, F.lit(root.rstrip("/")), F.lit("<root>"))
        elif isinstance(field.dataType, (T.DoubleType, T.FloatType)):
            column = F.round(column, DOUBLE_DECIMALS)
        elif isinstance(field.dataType, T.MapType):
            column = F.array_sort(F.map_entries(column))
        columns.append(column.alias(field.name))
    return frame.select(*columns)


def row_differences(spark: SparkSession, left: tuple[str, Settings], right: tuple[str, Settings]) -> tuple[int, int]:
    """(rows only in the left table, rows only in the right one), duplicates counted: ``left`` and ``right``
    are (table path, the settings of its lakehouse)."""
    a, b = (
        comparable(spark.read.format("delta").load(path), settings.root, settings.landing)
        for path, settings in (left, right)
    )
    return a.exceptAll(b).count(), b.exceptAll(a).count()


def event_log_entries(spark: SparkSession, path: str) -> Counter:
    """Every entry of an event log, without what names or times the run: table, mode, status and counts."""
    log = spark.read.format("delta").load(path)
    kept = [c for c in log.columns if c not in EVENT_LOG_RUN_COLUMNS + EVENT_LOG_ENGINE_COLUMNS]
    return Counter(tuple(_hashable(row[c]) for c in kept) for row in log.select(*kept).collect())


def _hashable(value):
    return tuple(sorted(value.items())) if isinstance(value, dict) else value
