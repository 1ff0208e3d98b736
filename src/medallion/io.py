"""The only module that writes Delta tables, through public Spark and Delta SQL only.

Nothing here touches the JVM directly, so the same code runs on a classic session, over Spark Connect and
on Databricks serverless or standard-access compute: versions and commit metrics come from the
tables' transaction logs (medallion.delta_log), merges are ``MERGE INTO`` statements over a temporary view, tables are created with
``CREATE TABLE``.

Every write is idempotent, so a replayed streaming batch or a re-run changes nothing:
- appends carry Delta's idempotent-writer options (``txnAppId`` = the writer, ``txnVersion`` = the batch);
  Delta skips a (writer, version) it has already committed, and no new table version shows it;
- merges are keyed and conditional (insert-only, update-if-newer, latest-wins, update-if-changed, SCD2),
  so applying the same batch twice finds nothing left to change; the first write into a keyed table still
  empty (as setup created it) appends the merge's one-row-per-key source instead, an idempotent append.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from medallion import delta_log
from medallion.declare.tables import (
    Append,
    CdcLatest,
    InsertOnly,
    Layer,
    Overwrite,
    Scd1,
    Scd2,
    SurrogateKey,
    UpdateIfNewer,
    WriteMode,
)
from medallion.key_ranges import KeyRange, target_condition
from medallion.platform import failpoints
from medallion.platform.runtime import TableLocation

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
    batch's in-batch duplicates were removed, or a keyed first write appended (None for other appends);
    ``committed``: a new table version was written (a MERGE with nothing to change commits nothing);
    ``replayed``: an append Delta skipped because its (writer, batch) was committed before; ``version``: the
    table's version after the write."""

    inserted: int = 0
    updated: int = 0
    source_rows: int | None = None
    committed: bool = False
    replayed: bool = False
    version: int = -1

    @property
    def written(self) -> int:
        return self.inserted + self.updated


# ----------------------------------------------------------------------------------------- table state
def quoted(path: str) -> str:
    """A path as a Delta SQL table identifier."""
    return "delta.`" + path.replace("`", "``") + "`"


def table_version(spark: SparkSession, path: str) -> int:
    """The table's current version (-1 when there is no Delta table at ``path`` yet)."""
    return delta_log.version(spark, path)


def table_versions(spark: SparkSession, paths: list[str]) -> dict[str, int]:
    """The current version of each table, in one listing of their logs."""
    return delta_log.versions(spark, paths)


def rows_written(spark: SparkSession, path: str, after: int, through: int, as_of: int | None = None) -> DataFrame:
    """The rows of the table's commits ``after`` (exclusive) to ``through``, read through Delta (deletion
    vectors, column mapping) from the files those commits added: a run's writes without the whole table.
    ``as_of``: the version read (default the latest); a file a later commit removed is not read."""
    files = delta_log.files_added(spark, path, after, through)
    reader = spark.read.format("delta")
    table = (reader.option("versionAsOf", as_of) if as_of is not None else reader).load(path)
    return table.where(F.col("_metadata.file_name").isin(files))


def table_exists(spark: SparkSession, path: str) -> bool:
    return table_version(spark, path) >= 0


def register(spark: SparkSession, location: TableLocation) -> None:
    """Make the table reachable by name (``<pipeline>_<layer>.<table>``) at its storage path."""
    database = location.name.rsplit(".", 1)[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {location.name} USING DELTA LOCATION '{_sql_text(location.path)}'")


def create_if_missing(
    spark: SparkSession,
    location: TableLocation,
    schema: StructType,
    partition_by: tuple[str, ...] = (),
    comment: str = "",
) -> None:
    """Create an empty Delta table with ``schema`` (so readers and streams can start before data)."""
    columns = ", ".join(
        f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}" for f in schema.fields
    )
    statement = f"CREATE TABLE IF NOT EXISTS {quoted(location.path)} ({columns}) USING DELTA"
    if partition_by:
        statement += f" PARTITIONED BY ({', '.join(f'`{c}`' for c in partition_by)})"
    if comment:
        statement += f" COMMENT '{_sql_text(comment)}'"
    if location.layer == Layer.GOLD:
        properties = ", ".join(f"'{k}' = '{v}'" for k, v in ANALYST_READABLE_PROPERTIES.items())
        statement += f" TBLPROPERTIES ({properties})"
    spark.sql(statement)


# ------------------------------------------------------------------------------------------------ writes
def write(
    df: DataFrame,
    location: TableLocation,
    mode: WriteMode,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...] = (),
    key_ranges: Mapping[str, KeyRange] | None = None,
) -> WriteResult:
    """Write one batch with the table's write mode; returns rows inserted and updated. ``key_ranges``: the
    range of each key column in ``df``, when known, so a keyed merge reads only the target files that
    can hold those keys (medallion.key_ranges)."""
    spark = df.sparkSession
    if isinstance(mode, Append):
        return _append(df, location.path, writer_id, batch_version, partition_by)
    before = table_version(spark, location.path)
    if isinstance(mode, Overwrite):
        (
            df.write.format("delta")
            .mode("overwrite")
            .option("overwriteSchema", "true")
            .partitionBy(*partition_by)
            .save(location.path)
        )
        return _metrics_since(spark, location.path, before)
    if isinstance(mode, Scd2):
        return _write_scd2(df, location, mode, writer_id, before, partition_by)
    before = _created_if_missing(df, location, partition_by, before)
    if not isinstance(mode, SurrogateKey):
        appended = _first_write_if_empty(df, location, mode, writer_id, batch_version, partition_by, before)
        if appended is not None:
            return appended
    df = failpoints.kill_while_reading(df, "mid_merge", writer_id)
    if isinstance(mode, SurrogateKey):
        df = _with_new_surrogate_keys(df, location.path, mode)
    source, clauses = _merge_plan(df, mode)
    _merge(spark, location.path, source, _on(mode.keys, key_ranges), clauses)
    return _metrics_since(spark, location.path, before)


def append_if_plain(
    df: DataFrame,
    location: TableLocation,
    mode: WriteMode,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...] = (),
) -> WriteResult | None:
    """The write of ``df`` when :func:`write` would make it a plain append (one pass over ``df``): an
    ``Append`` table's, or a keyed table's first write while it is still the empty table setup created.
    None, having written nothing, when the table's write is another (a merge, an overwrite, an SCD2 history)."""
    if isinstance(mode, Append):
        return _append(df, location.path, writer_id, batch_version, partition_by)
    if isinstance(mode, (Overwrite, Scd2, SurrogateKey)):
        return None
    before = _created_if_missing(df, location, partition_by, table_version(df.sparkSession, location.path))
    return _first_write_if_empty(df, location, mode, writer_id, batch_version, partition_by, before)


def _created_if_missing(df: DataFrame, location: TableLocation, partition_by: tuple[str, ...], version: int) -> int:
    """The keyed table's version, creating it (empty, with ``df``'s schema) when ``version`` says it is missing."""
    if version >= 0:
        return version
    create_if_missing(df.sparkSession, location, df.schema, partition_by)
    return table_version(df.sparkSession, location.path)


def _first_write_if_empty(
    df: DataFrame,
    location: TableLocation,
    mode: WriteMode,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...],
    version: int,
) -> WriteResult | None:
    """A keyed write into a table still empty, as an append of the merge's source; None when the table is
    not (it holds rows, or another schema): the write is a merge."""
    if not _appendable_to_empty(df.sparkSession, location.path, version, _merge_plan(df, mode)[0].schema):
        return None
    # Armed only now: a failpoint counts its hits, and a write that turns out a merge arms it there.
    source, _ = _merge_plan(failpoints.kill_while_reading(df, "mid_merge", writer_id), mode)
    return _first_write(source, location.path, writer_id, batch_version, partition_by)


def _appendable_to_empty(spark: SparkSession, path: str, version: int, source: StructType) -> bool:
    """The table is still the empty one ``CREATE TABLE`` made (its only commit), so a merge would find
    nothing, and ``source`` has its columns with the same types, so an append stores what the merge's
    ``INSERT *`` would (a merge casts to the table's types; an append does not: another type merges)."""
    if version != 0:
        return False
    operation, schema = delta_log.creation(spark, path)
    return operation == "CREATE TABLE" and schema is not None and _columns(schema) == _columns(source)


def _columns(schema: StructType) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in schema.fields}


def _first_write(
    source: DataFrame, path: str, writer_id: str, batch_version: int, partition_by: tuple[str, ...]
) -> WriteResult:
    """A keyed write into a table still empty: its merge source (one row per key) is appended, every row a
    new key, with the idempotent-writer options, so a replay is skipped as any append's is (and a later
    batch, the table no longer empty, merges). Counted as the merge would be: the rows it read are the
    rows it inserted."""
    result = _append(source, path, writer_id, batch_version, partition_by)
    if not result.committed:
        return result
    return WriteResult(result.inserted, 0, source_rows=result.inserted, committed=True, version=result.version)


def _merge_plan(df: DataFrame, mode: WriteMode) -> tuple[DataFrame, str]:
    """The merge source (one row per key) and the WHEN clauses of each keyed write mode."""
    if isinstance(mode, (InsertOnly, SurrogateKey)):
        return one_per_key(df, mode.keys), "WHEN NOT MATCHED THEN INSERT *"
    if isinstance(mode, UpdateIfNewer):
        assignments = ", ".join(f"t.`{c}` = s.`{c}`" for c in mode.columns)
        return (
            latest_per_key(df, mode.keys, (mode.newer_than,)),
            # A stored NULL (a visit with no logout yet) is older than any value.
            f"WHEN MATCHED AND (s.`{mode.newer_than}` > t.`{mode.newer_than}` OR "
            f"(t.`{mode.newer_than}` IS NULL AND s.`{mode.newer_than}` IS NOT NULL)) THEN UPDATE SET {assignments} "
            "WHEN NOT MATCHED THEN INSERT *",
        )
    if isinstance(mode, CdcLatest):
        source_seq = ", ".join(f"s.`{c}`" for c in mode.sequence_by)
        target_seq = ", ".join(f"t.`{c}`" for c in mode.sequence_by)
        return (
            latest_per_key(df, mode.keys, mode.sequence_by),
            f"WHEN MATCHED AND struct({source_seq}) > struct({target_seq}) THEN UPDATE SET * "
            "WHEN NOT MATCHED THEN INSERT *",
        )
    if isinstance(mode, Scd1):
        others = list(mode.compare) or [c for c in df.columns if c not in mode.keys]
        changed = " OR ".join(f"NOT (s.`{c}` <=> t.`{c}`)" for c in others) or "false"
        return one_per_key(
            df, mode.keys
        ), f"WHEN MATCHED AND ({changed}) THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    raise TypeError(f"unknown write mode {mode!r}")


SCD2_COLUMNS = ("valid_from", "valid_to", "is_current")


def _write_scd2(
    df: DataFrame, location: TableLocation, mode: Scd2, writer_id: str, before: int, partition_by: tuple[str, ...]
) -> WriteResult:
    """Recompute the history of the keys in ``df`` from their stored rows plus ``df``, then merge it on
    (keys, valid_from): new versions are inserted, neighbours whose end changed are updated."""
    spark = df.sparkSession
    if before < 0:
        create_if_missing(spark, location, scd2_history(df.limit(0), None, mode).schema, partition_by)
        before = table_version(spark, location.path)
    df = failpoints.kill_while_reading(df, "mid_merge", writer_id)
    stored = spark.read.format("delta").load(location.path)
    # NULL-safe, as the merge's match is: a NULL key finds its stored rows too.
    keys = df.select(*[F.col(k).alias(f"_key_{i}") for i, k in enumerate(mode.keys)]).distinct()
    same_key = [F.col(k).eqNullSafe(F.col(f"_key_{i}")) for i, k in enumerate(mode.keys)]
    touched = stored.join(keys, same_key, "left_semi")
    history = scd2_history(df, touched, mode)
    # Only new versions and re-closed ones: a replayed batch finds none and commits nothing.
    compared = [*mode.keys, *SCD2_COLUMNS]
    held = touched.select(*[F.col(c).alias(f"_held_{c}") for c in compared])
    changed = history.join(held, [F.col(c).eqNullSafe(F.col(f"_held_{c}")) for c in compared], "left_anti")
    # Computed once: asking whether there is any row and the merge (which reads its source twice) would each
    # evaluate the history again, its four reads of the stored rows and two windows.
    changed = changed.persist()
    try:
        if changed.isEmpty():
            return WriteResult(version=before)
        on = _on(mode.keys) + " AND t.`valid_from` <=> s.`valid_from`"
        _merge(spark, location.path, changed, on, "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    finally:
        changed.unpersist()
    return _metrics_since(spark, location.path, before)


def scd2_history(changes: DataFrame, stored: DataFrame | None, mode: Scd2) -> DataFrame:
    """The SCD2 rows of the keys in ``changes`` + ``stored`` (a pure function: the write's whole logic).

    Each stored row is a change at its ``valid_from``; a stored row closed by no later row of its key was
    closed by a delete at its ``valid_to``. A change already stored (same key and sequence) keeps its
    stored values, so a replay changes nothing; among new rows with one key and sequence, the smallest by
    their other columns wins (the same batch always writes the same row)."""
    sequence, keys = mode.sequence_by, list(mode.keys)
    value_columns = [c for c in changes.columns if c not in SCD2_COLUMNS]
    deleted = F.expr(mode.delete_when) if mode.delete_when else F.lit(False)
    incoming = changes.select(*value_columns, deleted.alias("_deleted"), F.lit(1).alias("_priority"))
    events = incoming
    if stored is not None:
        kept = stored.select(*value_columns, F.lit(False).alias("_deleted"), F.lit(0).alias("_priority"))
        successors = stored.select(*keys, F.col("valid_from").alias("_next_from"))
        closing = (
            stored.where("valid_to IS NOT NULL")
            .alias("r")
            .join(
                successors.alias("n"),
                [
                    *[F.col(f"r.{k}").eqNullSafe(F.col(f"n.{k}")) for k in keys],
                    F.col("r.valid_to") == F.col("n._next_from"),
                ],
                "left_anti",
            )
        )
        deletes = closing.select(
            *[F.col(k) for k in keys],
            F.col("valid_to").alias(sequence),
            *[
                F.lit(None).cast(changes.schema[c].dataType).alias(c)
                for c in value_columns
                if c not in keys and c != sequence
            ],
            F.lit(True).alias("_deleted"),
            F.lit(0).alias("_priority"),
        )
        events = events.unionByName(kept).unionByName(deletes.select(*value_columns, "_deleted", "_priority"))
    others = [
        c
        for c, kind in changes.select(*value_columns).dtypes
        if c not in keys and c != sequence and not kind.startswith(("map", "struct", "array"))
    ]
    first = Window.partitionBy(*keys, sequence).orderBy(
        "_priority", F.col("_deleted").desc(), *[F.col(c).asc_nulls_last() for c in others]
    )
    unique_events = events.withColumn("_rank", F.row_number().over(first)).where("_rank = 1").drop("_rank")
    following = Window.partitionBy(*keys).orderBy(sequence)
    return (
        unique_events.withColumn("valid_to", F.lead(sequence).over(following))
        .where(~F.col("_deleted"))
        .select(
            *value_columns,
            F.col(sequence).alias("valid_from"),
            "valid_to",
            F.col("valid_to").isNull().alias("is_current"),
        )
    )


def _merge(spark: SparkSession, path: str, source: DataFrame, on: str, clauses: str) -> None:
    """``MERGE INTO`` the table at ``path`` from ``source`` (bound to a temporary view of its own, so
    concurrent merges of one session never see each other's source)."""
    view = f"_merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        spark.sql(f"MERGE INTO {quoted(path)} AS t USING {view} AS s ON {on} {clauses}")
    finally:
        spark.catalog.dropTempView(view)


def _with_new_surrogate_keys(df: DataFrame, path: str, mode: SurrogateKey) -> DataFrame:
    """The natural keys the dimension does not hold yet, numbered after its greatest surrogate key.
    Existing rows are never touched, so a re-run inserts nothing and keys never move."""
    existing = df.sparkSession.read.format("delta").load(path)
    key_type = existing.schema[mode.surrogate_key].dataType
    start = existing.agg(F.coalesce(F.max(mode.surrogate_key), F.lit(0)).cast("long")).collect()[0][0]
    known = existing.select(*[F.col(k).alias(f"_known_{k}") for k in mode.keys])
    unseen = " AND ".join(f"{k} <=> _known_{k}" for k in mode.keys)
    new_values = df.dropDuplicates(list(mode.keys)).join(known, F.expr(unseen), "left_anti")
    return new_values.withColumn(
        mode.surrogate_key,
        (F.lit(start) + F.row_number().over(Window.orderBy(*[F.col(k).asc_nulls_first() for k in mode.keys]))).cast(
            key_type
        ),
    )


def append_rows(
    df: DataFrame,
    path: str,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
) -> WriteResult:
    """Idempotent append for framework tables (quarantine, batch log) that are not declared tables."""
    return _append(df, path, writer_id, batch_version, partition_by, merge_schema)


def append_absent(
    df: DataFrame, path: str, identity: tuple[str, ...], within: Mapping[str, str] | None = None
) -> WriteResult:
    """Append the rows of ``df`` that no row of the table at ``path`` matches on ``identity`` (NULL-safe),
    creating the table with the first; idempotent by content, not by a writer's batch version, for rows
    whose writer computes them again under another batch id (a materialized view's refresh). Every unmatched
    row is inserted, repeats within ``df`` included: ``df`` counts as it was computed. ``within``: columns
    whose value every matching row has (the writer's table), so Delta reads only the files that can hold one.

    The merge reads the table, so a commit that removed files meanwhile (a compaction) fails it; it is made
    again, which inserts what it would have."""
    spark = df.sparkSession
    before = table_version(spark, path)
    if before < 0:
        _again_after_a_schema_race(lambda: df.write.format("delta").mode("append").save(path))
    else:
        matches = [f"t.`{c}` <=> s.`{c}`" for c in identity]
        matches += [f"t.`{c}` = '{_sql_text(value)}'" for c, value in (within or {}).items()]
        _again_after_a_schema_race(
            lambda: _merge(spark, path, df, " AND ".join(matches), "WHEN NOT MATCHED THEN INSERT *"),
            SCHEMA_RACES + CONCURRENT_COMMITS,
        )
    return _metrics_since(spark, path, before)


COMPACT_LOG_EVERY = 50
APPEND_ATTEMPTS = 5
# What Delta raises when a concurrent commit created the table or changed its schema or protocol.
SCHEMA_RACES = (
    "DELTA_PROTOCOL_CHANGED",
    "DELTA_METADATA_CHANGED",
    "ProtocolChangedException",
    "MetadataChangedException",
)
# What Delta raises when a concurrent commit changed files a write read (a compaction of them).
CONCURRENT_COMMITS = (
    "DELTA_CONCURRENT",
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
)


def append_log(df: DataFrame, path: str) -> int:
    """A plain append for logs whose rows are each written once by the run that owns them (the event log).
    New columns are added to an older log (schema evolution), never rejected.

    No idempotent-writer id: Delta keeps every writer id in the table's state for good, and an id per run
    would make every later write of the log slower (each reads that state). Each append is one file, and
    every ``COMPACT_LOG_EVERY`` versions the log's small files are compacted, so reading the log (every run
    reads it when its cache of last runs is stale) does not slow down with its age. Returns the log's
    version after the append (and its compaction).

    Writers append at once (the streams of a run, each from its own batches; runs of other pipelines).
    Blind appends never conflict with each other, but the first append creates the table and an append
    with new columns changes its schema, and a writer that raced one of those loses its commit. Its rows
    were not committed, so the append is simply made again."""
    _again_after_a_schema_race(
        lambda: df.coalesce(1).write.format("delta").mode("append").option("mergeSchema", "true").save(path)
    )
    version = table_version(df.sparkSession, path)
    if version > 0 and version % COMPACT_LOG_EVERY == 0:
        try:
            df.sparkSession.sql(f"OPTIMIZE {quoted(path)}")
        except Exception as err:  # two writers that both saw this version: the other one compacts
            if "Concurrent" not in str(err) and "DELTA_CONCURRENT" not in str(err):
                raise
        version = table_version(df.sparkSession, path)
    return version


def _again_after_a_schema_race(append: Callable[[], None], races: tuple[str, ...] = SCHEMA_RACES) -> None:
    """Run ``append``, and again when its commit lost a race with a commit that created the table or
    changed its schema (or another of ``races``): the lost commit wrote nothing, so making it again is the
    same append."""
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            append()
            return
        except Exception as err:
            if attempt == APPEND_ATTEMPTS or not any(marker in str(err) for marker in races):
                raise


def staged(df: DataFrame, path: str) -> DataFrame:
    """``df`` computed once: its rows written to the staging Delta table at ``path`` (replacing what the
    table held) and read back from there. What follows reads the staged rows, never ``df``'s sources
    again; unlike ``localCheckpoint`` or a cache this needs no JVM handle and no executor memory, so it
    holds over Spark Connect and on serverless compute. Writing again replaces the rows: idempotent."""
    df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
    return df.sparkSession.read.format("delta").load(path)


def delete_matching(spark: SparkSession, path: str, rows: DataFrame, on: tuple[str, ...]) -> int:
    """Delete the rows of the table at ``path`` that match ``rows`` on ``on`` (NULL-safe), in one
    ``MERGE INTO … WHEN MATCHED THEN DELETE``; returns the rows deleted. Deleting rows already gone deletes
    nothing, so a repeat is harmless."""
    before = table_version(spark, path)
    matches = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in on)
    _merge(spark, path, rows.select(*on).distinct(), matches, "WHEN MATCHED THEN DELETE")
    made, _ = _commit_since(spark, path, before)
    return int(made["metrics"].get("numTargetRowsDeleted", 0)) if made is not None else 0


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


def _append(
    df: DataFrame,
    path: str,
    writer_id: str,
    batch_version: int,
    partition_by: tuple[str, ...],
    merge_schema: bool = False,
) -> WriteResult:
    spark = df.sparkSession
    before = table_version(spark, path)
    writer = df.write.format("delta").mode("append").option("txnAppId", writer_id).option("txnVersion", batch_version)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    # The streams of a pipeline share its quarantine table, and on Spark Connect their batches run in
    # separate processes: the first ones race to create it. The writer id makes a repeat harmless.
    _again_after_a_schema_race(lambda: writer.partitionBy(*partition_by).save(path))
    result = _metrics_since(spark, path, before)
    # Delta skipped a (writer, version) it had committed before: a replayed batch, nothing written.
    return result if result.committed else WriteResult(replayed=True, version=before)


def _on(keys: tuple[str, ...], key_ranges: Mapping[str, KeyRange] | None = None) -> str:
    # NULL-safe equality: a NULL key must match itself, or a replay would insert it again. The target's
    # keys bounded by the batch's ranges change no match and let Delta skip files (medallion.key_ranges).
    equal = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    bounded = target_condition(key_ranges or {})
    return f"{equal} AND {bounded}" if bounded else equal


# Commits that rewrite files without changing the data: Databricks' auto compaction commits an OPTIMIZE right
# after a write, and predictive optimization runs at any time. A write's metrics are never theirs.
MAINTENANCE_OPERATIONS = ("OPTIMIZE", "VACUUM START", "VACUUM END", "ANALYZE STATS", "COMPUTE STATS")


def _metrics_since(spark: SparkSession, path: str, before: int) -> WriteResult:
    """Metrics of the commit just made: the first after ``before`` that is not maintenance; nothing when the
    write committed no new version (a MERGE that found nothing to change, a skipped replay), so an older
    commit's metrics are never reported again."""
    made, latest = _commit_since(spark, path, before)
    if made is None:
        return WriteResult(version=latest)
    metrics = made["metrics"]
    if made["operation"] == "MERGE":
        return WriteResult(
            int(metrics.get("numTargetRowsInserted", 0)),
            int(metrics.get("numTargetRowsUpdated", 0)),
            source_rows=int(metrics.get("numSourceRows", 0)),
            committed=True,
            version=latest,
        )
    return WriteResult(int(metrics.get("numOutputRows", 0)), 0, committed=True, version=latest)


def _commit_since(spark: SparkSession, path: str, before: int) -> tuple[dict | None, int]:
    """The commit a write just made (the first after ``before`` that is not maintenance; None when it made
    none) and the table's version now."""
    latest = table_version(spark, path)
    for version in range(before + 1, latest + 1):
        commit = delta_log.commit(spark, path, version)
        if commit["operation"] not in MAINTENANCE_OPERATIONS:
            return commit, latest
    return None, latest


def _sql_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
