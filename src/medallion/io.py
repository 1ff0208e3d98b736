"""The only module that writes Delta tables.

Every write is idempotent, so a replayed streaming batch or a re-run changes nothing:
- appends carry Delta's idempotent-writer ids (``txnAppId`` = the writer, ``txnVersion`` = the batch);
  Delta skips a (writer, version) it has already committed;
- merges are keyed and conditional (insert-only, update-if-newer, latest-wins, update-if-changed), so
  applying the same batch twice finds nothing left to change.
"""
from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from medallion.platform import failpoints
from medallion.platform.runtime import TableLocation
from medallion.declare.tables import (
    Append, CdcLatest, InsertOnly, Layer, Overwrite, Scd1, SurrogateKey, UpdateIfNewer, WriteMode,
)

# Gold is read outside Spark: Synapse serverless SQL reads Delta at reader version 1 only (no deletion
# vectors, column mapping, v2 checkpoints or timestamp_ntz), and so do older Power BI and delta-rs readers.
# Pin that protocol and keep deletion vectors off, which Databricks otherwise enables on new tables.
ANALYST_READABLE_PROPERTIES = {
    "delta.minReaderVersion": "1",
    "delta.minWriterVersion": "2",
    "delta.enableDeletionVectors": "false",
}


@dataclass(frozen=True)
class WriteResult:
    """What one write did, from the Delta commit's own metrics. ``source_rows``: rows a MERGE read after the
    batch's in-batch duplicates were removed (None for appends); ``committed``: a new table version was
    written (a MERGE with nothing to change commits nothing); ``replayed``: the batch had been committed
    before and was skipped."""

    inserted: int = 0
    updated: int = 0
    source_rows: int | None = None
    committed: bool = False
    replayed: bool = False

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def table_exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def register(spark: SparkSession, location: TableLocation, comment: str = "") -> None:
    """Make the table reachable by name (``<pipeline>_<layer>.<table>``) at its storage path."""
    database = location.name.rsplit(".", 1)[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {location.name} USING DELTA LOCATION '{location.path}'")


def create_if_missing(
    spark: SparkSession, location: TableLocation, schema, partition_by: tuple[str, ...] = (), comment: str = ""
) -> None:
    """Create an empty Delta table with ``schema`` (so readers and streams can start before data)."""
    if table_exists(spark, location.path):
        return
    builder = DeltaTable.createIfNotExists(spark).location(location.path).addColumns(schema)
    if partition_by:
        builder = builder.partitionedBy(*partition_by)
    if comment:
        builder = builder.comment(comment)
    if location.layer == Layer.GOLD:
        for key, value in ANALYST_READABLE_PROPERTIES.items():
            builder = builder.property(key, value)
    builder.execute()


def write(
    df: DataFrame,
    location: TableLocation,
    mode: WriteMode,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...] = (),
) -> WriteResult:
    """Write one batch with the table's write mode; returns rows inserted and updated."""
    spark = df.sparkSession
    if isinstance(mode, Append):
        return _append(df, location.path, writer_id, batch_version, partition_by)
    before = table_version(spark, location.path)
    if isinstance(mode, Overwrite):
        (df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
         .partitionBy(*partition_by).save(location.path))
        return _last_metrics(spark, location.path, before)
    if not table_exists(spark, location.path):
        create_if_missing(spark, location, df.schema, partition_by)
        before = table_version(spark, location.path)
    target = DeltaTable.forPath(spark, location.path)
    df = failpoints.kill_while_reading(df, "mid_merge", writer_id)
    if isinstance(mode, InsertOnly):
        merge = target.alias("t").merge(one_per_key(df, mode.keys).alias("s"), _on(mode.keys))
        merge.whenNotMatchedInsertAll().execute()
    elif isinstance(mode, UpdateIfNewer):
        newest = latest_per_key(df, mode.keys, (mode.newer_than,))
        merge = target.alias("t").merge(newest.alias("s"), _on(mode.keys))
        (merge.whenMatchedUpdate(
            condition=f"s.{mode.newer_than} > t.{mode.newer_than}",
            set={column: f"s.{column}" for column in mode.columns},
        ).whenNotMatchedInsertAll().execute())
    elif isinstance(mode, CdcLatest):
        newest = latest_per_key(df, mode.keys, mode.sequence_by)
        source_seq = ", ".join(f"s.{c}" for c in mode.sequence_by)
        target_seq = ", ".join(f"t.{c}" for c in mode.sequence_by)
        merge = target.alias("t").merge(newest.alias("s"), _on(mode.keys))
        (merge.whenMatchedUpdateAll(condition=f"struct({source_seq}) > struct({target_seq})")
         .whenNotMatchedInsertAll().execute())
    elif isinstance(mode, Scd1):
        others = [c for c in df.columns if c not in mode.keys]
        changed = " OR ".join(f"NOT (s.{c} <=> t.{c})" for c in others) or "false"
        merge = target.alias("t").merge(one_per_key(df, mode.keys).alias("s"), _on(mode.keys))
        merge.whenMatchedUpdateAll(condition=changed).whenNotMatchedInsertAll().execute()
    elif isinstance(mode, SurrogateKey):
        _insert_with_surrogate_keys(df, target, mode)
    else:
        raise TypeError(f"unknown write mode {mode!r}")
    return _last_metrics(spark, location.path, before)


def _insert_with_surrogate_keys(df: DataFrame, target: DeltaTable, mode: SurrogateKey) -> None:
    """Number the natural keys the table does not hold yet after its greatest surrogate key, then insert
    them. Existing rows are never touched, so a re-run inserts nothing and keys never move."""
    existing = target.toDF()
    key_type = existing.schema[mode.surrogate_key].dataType
    start = existing.agg(F.coalesce(F.max(mode.surrogate_key), F.lit(0)).cast("long")).first()[0]
    known = existing.select(*[F.col(k).alias(f"_known_{k}") for k in mode.keys])
    unseen = " AND ".join(f"{k} <=> _known_{k}" for k in mode.keys)
    new_values = df.dropDuplicates(list(mode.keys)).join(known, F.expr(unseen), "left_anti")
    numbered = new_values.withColumn(
        mode.surrogate_key,
        (F.lit(start) + F.row_number().over(Window.orderBy(*[F.col(k).asc_nulls_first() for k in mode.keys])))
        .cast(key_type),
    )
    target.alias("t").merge(numbered.alias("s"), _on(mode.keys)).whenNotMatchedInsertAll().execute()


def append_rows(df: DataFrame, path: str, writer_id: str, batch_version: int, partition_by: tuple[str, ...] = (),
                merge_schema: bool = False) -> WriteResult:
    """Idempotent append for framework tables (quarantine, event log) that are not declared tables."""
    return _append(df, path, writer_id, batch_version, partition_by, merge_schema)


def append_log(df: DataFrame, path: str) -> None:
    """A plain append for logs whose rows are each written once by the run that owns them (the event log).
    New columns are added to an older log (schema evolution), never rejected.

    No idempotent-writer id: Delta keeps every writer id in the table's state for good, and an id per run
    and table would make every later write of the log slower (each reads that state)."""
    df.write.format("delta").mode("append").option("mergeSchema", "true").save(path)


def one_per_key(df: DataFrame, keys: tuple[str, ...]) -> DataFrame:
    """One row per key, chosen deterministically when a batch repeats a key with different values (the
    smallest by the other columns), so the same batch always writes the same row; ``dropDuplicates``
    keeps whichever row a shuffle delivers first."""
    others = [name for name, kind in df.dtypes if name not in keys and not kind.startswith(("map", "struct", "array"))]
    window = Window.partitionBy(*keys).orderBy(*[F.col(c).asc_nulls_last() for c in others] or [F.lit(1)])
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def latest_per_key(df: DataFrame, keys: tuple[str, ...], order: tuple[str, ...]) -> DataFrame:
    """One row per key: the greatest by ``order`` (later columns break ties)."""
    window = Window.partitionBy(*keys).orderBy(*[F.col(c).desc_nulls_last() for c in order])
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def _append(df: DataFrame, path: str, writer_id: str, batch_version: int, partition_by: tuple[str, ...],
            merge_schema: bool = False) -> WriteResult:
    spark = df.sparkSession
    before = table_version(spark, path)
    if before >= 0 and committed_version(spark, path, writer_id) >= batch_version:
        return WriteResult(replayed=True)  # a replayed batch: Delta would skip it too; nothing is written
    writer = (df.write.format("delta").mode("append")
              .option("txnAppId", writer_id).option("txnVersion", batch_version))
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.partitionBy(*partition_by).save(path)
    return _last_metrics(spark, path, before)


def committed_version(spark: SparkSession, path: str, writer_id: str) -> int:
    """The last batch version ``writer_id`` committed to the table (-1 if none), from the Delta log."""
    delta_log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    found = delta_log.update(False, spark._jvm.scala.Option.empty()).transactions().get(writer_id)
    return int(found.get()) if found.isDefined() else -1


def _on(keys: tuple[str, ...]) -> str:
    # NULL-safe equality: a NULL key must match itself, or a replay would insert it again.
    return " AND ".join(f"t.{k} <=> s.{k}" for k in keys)


def table_version(spark: SparkSession, path: str) -> int:
    """The table's current version (-1 when there is no table yet)."""
    if not table_exists(spark, path):
        return -1
    delta_log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    return int(delta_log.update(False, spark._jvm.scala.Option.empty()).version())


def _last_metrics(spark: SparkSession, path: str, before: int) -> WriteResult:
    """Metrics of the commit just made; nothing when no new version was committed (a MERGE that found
    nothing to change), so an older commit's metrics are never reported again."""
    last = DeltaTable.forPath(spark, path).history(1).select("version", "operation", "operationMetrics").first()
    if last is None or last["version"] <= before:
        return WriteResult()
    metrics = last["operationMetrics"] or {}
    if last["operation"] == "MERGE":
        return WriteResult(int(metrics.get("numTargetRowsInserted", 0)), int(metrics.get("numTargetRowsUpdated", 0)),
                           source_rows=int(metrics.get("numSourceRows", 0)), committed=True)
    return WriteResult(int(metrics.get("numOutputRows", 0)), 0, committed=True)
