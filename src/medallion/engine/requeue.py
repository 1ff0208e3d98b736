"""Late-arriving references: release quarantined rows whose reference has arrived since.

A table declares :class:`~medallion.declare.tables.RetryWhenReferenced` for a reference rule (a review
whose customer has no purchase yet). A row the rule quarantined waits in the pipeline's quarantine; every
run of the pipeline (before the table runs) and ``medallion requeue PIPELINE [--rule R]`` look again:

1. the waiting rows are the table's quarantine rows broken by the chosen retry rules and by no rule
   without a retry policy (a row that also lacks its text stays where it is);
2. a row is released when, for every retry rule it broke, its ``columns`` now match ``to_columns`` of a
   row of the referenced table (read as it is now);
3. released rows are written with the table's own keyed write mode (their record is read back with the
   table's schema: working columns drop, personal data stays as the batch protected it), **then** deleted
   from the quarantine (``MERGE INTO … WHEN MATCHED THEN DELETE`` through ``medallion.io``).

A crash between the two writes leaves the rows in the quarantine; the next release writes them again,
which the keyed write makes a no-op, and deletes them. So a release is idempotent, and a row is always in
the table, in the quarantine, or (for a moment) both, never in neither. The event log gets one row per
table that released rows: mode ``requeue``, ``rows_read`` the rows waiting, ``rows_in`` the rows released
(inserted, updated or unchanged as the write counted them), ``broken_rules`` the rows released per rule.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion import io
from medallion.declare.tables import RetryWhenReferenced, Table
from medallion.engine import changes, eventlog
from medallion.engine.context import RunContext
from medallion.engine.eventlog import TableRun
from medallion.errors import ConfigError

MODE = "requeue"
IDENTITY = ("table", "run_id", "batch_id", "record")  # what tells one quarantine row from another


def policies(table: Table, rule: str | None = None) -> tuple[RetryWhenReferenced, ...]:
    """The table's retry policies, or only the one for ``rule``."""
    return tuple(p for p in table.retries if rule is None or p.rule == rule)


def tables_with_retries(context: RunContext, rule: str | None = None) -> list[Table]:
    """The pipeline's tables with a retry policy (for ``rule``); a rule no table retries is an error."""
    found = [t for t in context.pipeline.ordered() if policies(t, rule)]
    if rule is not None and not found:
        declared = sorted({p.rule for t in context.pipeline.ordered() for p in t.retries})
        raise ConfigError(
            f"No table of {context.pipeline.name} has a retry policy for rule '{rule}' "
            f"(retried rules: {', '.join(declared) or 'none'})."
        )
    return found


def release(
    context: RunContext, table: Table, rule: str | None = None, write_lock: AbstractContextManager | None = None
) -> TableRun | None:
    """Release ``table``'s quarantined rows whose references arrived; None when no row was waiting.
    ``write_lock`` is held while the released rows are written and deleted (the rows are found without it)."""
    chosen = policies(table, rule)
    spark = context.spark
    quarantine_path = context.runtime.quarantine_path(context.pipeline.name)
    target = context.location(table)
    if not chosen or not io.table_exists(spark, quarantine_path) or not io.table_exists(spark, target.path):
        return None
    stats = TableRun(context.run_id, context.pipeline.name, table.name, table.layer.value, MODE)
    # The quarantine as of one version: the rows counted, resolved and deleted are one fixed set, however
    # the quarantine grows meanwhile (stream mode's other tables append to it).
    as_of = io.table_version(spark, quarantine_path)
    quarantine = spark.read.format("delta").option("versionAsOf", as_of).load(quarantine_path)
    waiting = waiting_rows(quarantine, table, chosen)
    stats.rows_read = waiting.count()
    if stats.rows_read == 0:
        return None
    schema = spark.read.format("delta").load(target.path).schema
    records = waiting.withColumn("_row", F.from_json("record", schema))
    resolved = records
    for index, policy in enumerate(chosen):
        resolved = with_resolved(resolved, policy, context, index)
    ready = F.lit(True)
    for index, policy in enumerate(chosen):
        ready = ready & (~F.array_contains("rules", policy.rule) | F.col(f"_resolved_{index}"))
    ready_rows = resolved.where(ready)
    # Rows stay until their reference arrives: when none has, nothing is staged, written or deleted.
    if ready_rows.isEmpty():
        rows = 0
    else:
        with write_lock or nullcontext():
            rows = _write_released(context, table, chosen, ready_rows, stats)
    stats.status, stats.ended = "ok", time.time()
    context.say(table, f": {rows:,} of {stats.rows_read:,} quarantined rows waiting for a reference released")
    return stats


def _write_released(
    context: RunContext, table: Table, chosen: tuple[RetryWhenReferenced, ...], ready: DataFrame, stats: TableRun
) -> int:
    """Write the ``ready`` rows with the table's own write mode, then delete them from the quarantine; adds
    the batch to ``stats`` and returns the rows released."""
    spark = context.spark
    # Staged: the referenced tables may change meanwhile; the rows written and then deleted are one fixed set.
    released = io.staged(ready, context.runtime.staging_path(context.pipeline.name, table.name, "released"))
    keys = getattr(table.write, "keys", ())
    counted = released.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct(F.struct(*[F.col(f"_row.{k}") for k in keys])).alias("keys"),
        *[F.sum(F.array_contains("rules", p.rule).cast("int")).alias(f"rule_{i}") for i, p in enumerate(chosen)],
    ).collect()[0]
    rows = int(counted["rows"])
    written = io.write(
        released.select("_row.*"),
        context.location(table),
        table.write,
        f"{context.pipeline.name}.{table.name}.{MODE}",
        0,
        table.partition_by,
    )
    duplicates, unchanged = eventlog.reconcile_write(table.name, rows, int(counted["keys"]), written)
    io.delete_matching(spark, context.runtime.quarantine_path(context.pipeline.name), released, IDENTITY)
    changes.forget(context, table.name)
    stats.add_batch(
        rows_in=rows,
        quarantined=0,
        accepted=rows,
        inserted=written.inserted,
        updated=written.updated,
        broken={p.rule: int(counted[f"rule_{i}"] or 0) for i, p in enumerate(chosen)},
        duplicates=duplicates,
        unchanged=unchanged,
    )
    return rows


def waiting_rows(quarantine: DataFrame, table: Table, chosen: tuple[RetryWhenReferenced, ...]) -> DataFrame:
    """Quarantine rows of ``table`` broken by a ``chosen`` rule and by no rule without a retry policy."""
    retried = F.array(*[F.lit(p.rule) for p in table.retries])
    wanted = F.array(*[F.lit(p.rule) for p in chosen])
    return quarantine.where(
        (F.col("table") == table.name)
        & F.arrays_overlap("rules", wanted)
        & (F.size(F.array_except("rules", retried)) == 0)
    )


def with_resolved(records: DataFrame, policy: RetryWhenReferenced, context: RunContext, index: int) -> DataFrame:
    """``records`` with ``_resolved_<index>``: the referenced table now holds the row's ``columns``."""
    referenced_path = context.location(context.pipeline.get(policy.table)).path
    present = (
        context.spark.read.format("delta")
        .load(referenced_path)
        .select(*[F.col(c).alias(f"_ref_{index}_{i}") for i, c in enumerate(policy.to_columns)])
        .where(" AND ".join(f"_ref_{index}_{i} IS NOT NULL" for i in range(len(policy.to_columns))))
        .distinct()
        .withColumn(f"_resolved_{index}", F.lit(True))
    )
    condition = None
    for i, column in enumerate(policy.columns):
        part = F.col(f"_row.{column}") == F.col(f"_ref_{index}_{i}")
        condition = part if condition is None else condition & part
    joined = records.join(present, condition, "left")
    return joined.withColumn(f"_resolved_{index}", F.coalesce(F.col(f"_resolved_{index}"), F.lit(False))).drop(
        *[f"_ref_{index}_{i}" for i in range(len(policy.to_columns))]
    )


def release_all(context: RunContext, rule: str | None = None) -> list[TableRun]:
    """Release the waiting rows of every table with a retry policy (for ``rule``), in dependency order."""
    released = []
    for table in tables_with_retries(context, rule):
        stats = release(context, table, rule)
        if stats is not None:
            released.append(stats)
    return released
