"""The event log: one Delta row per table per run (in stream mode, per micro-batch), what a dashboard or an
alert reads.

Every batch is reconciled before it counts, and a mismatch fails the run (:func:`reconcile_write`):
rows in = rows accepted + rows quarantined, and rows accepted = rows inserted + updated + unchanged
(the key was there already, or not newer; a replayed batch) + duplicates (another row of the same batch
had the key). The left side is our own count of the batch, the right side Delta's metrics of the commit,
so a write that lost or multiplied rows is caught. Rows dropped on purpose before the batch (late beyond
a watermark, duplicates removed by a streaming dedupe) come from the query's progress and are added to
rows in, so for every table and run: rows in = quarantined + inserted + updated + unchanged + duplicate +
late. ``schema_drift`` counts rows per undeclared source field; ``checks`` the violations per
table check; ``unread_files`` the landed files the table will never read and why (hidden name, re-landed
under a name already read; see :mod:`medallion.engine.unread_files`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType

from medallion import io
from medallion.errors import ReconciliationError
from medallion.sources.schemas import struct_type

EVENT_LOG_COLUMNS = (
    ("run_id", "STRING"),
    ("pipeline", "STRING"),
    ("table", "STRING"),
    ("layer", "STRING"),
    ("mode", "STRING"),
    ("started_at", "TIMESTAMP"),
    ("duration_s", "DOUBLE"),
    ("batches", "INT"),
    ("rows_read", "BIGINT"),
    ("rows_in", "BIGINT"),
    ("rows_accepted", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("rows_inserted", "BIGINT"),
    ("rows_updated", "BIGINT"),
    ("rows_unchanged", "BIGINT"),
    ("broken_rules", "MAP<STRING, BIGINT>"),
    ("status", "STRING"),
    ("error", "STRING"),
    ("rows_duplicate", "BIGINT"),
    ("rows_late", "BIGINT"),
    ("schema_drift", "MAP<STRING, BIGINT>"),
    ("checks", "MAP<STRING, BIGINT>"),
    ("fingerprint", "STRING"),
    ("unread_files", "MAP<STRING, STRING>"),
)
EVENT_LOG_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in EVENT_LOG_COLUMNS)


@dataclass
class TableRun:
    """Counts of one table over one run (all its micro-batches)."""

    run_id: str
    pipeline: str
    table: str
    layer: str
    mode: str
    started: float = field(default_factory=time.time)
    ended: float | None = None  # set when the table's work ends; rows of a run are written together later
    batches: int = 0
    rows_read: int | None = 0  # what the query read from its sources; None when its progress does not say
    rows_in: int = 0
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_duplicate: int = 0
    rows_late: int = 0
    broken_rules: dict[str, int] = field(default_factory=dict)
    schema_drift: dict[str, int] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None
    fingerprint: str | None = None  # what the run consumed (see medallion.engine.changes)
    # landed files it will never read → why (None: not checked, as in a micro-batch's own row)
    unread_files: dict[str, str] | None = None
    # How many times a batch read its source (not logged): a batch of landed files measured by its write
    # reads its files again for its quarantine rows, and the query's progress counts the rows of each read.
    source_reads: int = 1

    @property
    def rows_accepted(self) -> int:
        """Rows kept by the write (inserted, updated or already there): rows in less quarantined and dropped."""
        return self.rows_in - self.rows_quarantined - self.rows_duplicate - self.rows_late

    def add_dropped_before_batch(self, late: int, duplicates: int) -> None:
        """Rows a stateful operator dropped on purpose (too late for the watermark, repeats removed by a
        streaming dedupe): they reached the table's query, so they count in rows in."""
        self.rows_late += late
        self.rows_duplicate += duplicates
        self.rows_in += late + duplicates

    @property
    def rows_written(self) -> int:
        return self.rows_inserted + self.rows_updated

    def add_batch(
        self,
        rows_in: int,
        quarantined: int,
        accepted: int,
        inserted: int,
        updated: int,
        broken: dict[str, int],
        duplicates: int = 0,
        unchanged: int | None = None,
        drift: dict[str, int] | None = None,
    ) -> None:
        if unchanged is None:
            unchanged = accepted - inserted - updated - duplicates
        if (
            rows_in != accepted + quarantined
            or min(unchanged, duplicates) < 0
            or accepted != inserted + updated + unchanged + duplicates
        ):
            raise ReconciliationError(
                f"{self.pipeline}.{self.table}: {rows_in} rows in but {accepted} accepted + {quarantined} quarantined, "
                f"and {inserted} inserted + {updated} updated + {unchanged} unchanged + {duplicates} duplicates"
            )
        self.batches += 1
        self.rows_in += rows_in
        self.rows_quarantined += quarantined
        self.rows_inserted += inserted
        self.rows_updated += updated
        self.rows_unchanged += unchanged
        self.rows_duplicate += duplicates
        for rule, count in broken.items():
            self.broken_rules[rule] = self.broken_rules.get(rule, 0) + count
        for column, count in (drift or {}).items():
            self.schema_drift[column] = self.schema_drift.get(column, 0) + count

    def as_recorded(self) -> dict:
        """The row as the log gives it back: a dict by column name."""
        return dict(zip((name for name, _ in EVENT_LOG_COLUMNS), self.as_row()))

    def as_row(self) -> tuple:
        return (
            self.run_id,
            self.pipeline,
            self.table,
            self.layer,
            self.mode,
            datetime.fromtimestamp(self.started, tz=timezone.utc).replace(tzinfo=None),
            round((self.ended or time.time()) - self.started, 3),
            self.batches,
            self.rows_read,
            self.rows_in,
            self.rows_accepted,
            self.rows_quarantined,
            self.rows_inserted,
            self.rows_updated,
            self.rows_unchanged,
            dict(self.broken_rules),
            self.status,
            self.error,
            self.rows_duplicate,
            self.rows_late,
            dict(self.schema_drift),
            dict(self.checks),
            self.fingerprint,
            dict(self.unread_files) if self.unread_files is not None else None,
        )


def error_text(err: BaseException) -> str:
    """One line for the log: the error's type and first line, never a stack of JVM frames."""
    first = str(err).splitlines()[0][:500] if str(err) else ""
    return f"{type(err).__name__}: {first}"


def read_batches(spark: SparkSession, path: str, run_id: str, pipeline: str, table: str) -> list[dict]:
    """The batch rows one run of one table recorded (in batch-id order of recording). A handful of rows:
    ordered here, not by a Spark sort (which would add a sampling job and a shuffle to every table's run)."""
    if not io.table_exists(spark, path):  # no batch ever recorded itself there (a classic session's never do)
        return []
    rows = (
        spark.read.format("delta")
        .load(path)
        .where((F.col("run_id") == run_id) & (F.col("pipeline") == pipeline) & (F.col("table") == table))
        .collect()
    )
    return [row.asDict() for row in sorted(rows, key=lambda row: row["started_at"])]


def add_recorded(total: TableRun, batch: dict) -> None:
    """Add one recorded batch row to a table's totals for the run."""
    total.batches += batch["batches"] or 0
    for name in (
        "rows_in",
        "rows_quarantined",
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "rows_duplicate",
        "rows_late",
    ):
        setattr(total, name, getattr(total, name) + (batch[name] or 0))
    for source, target in ((batch["broken_rules"], total.broken_rules), (batch["schema_drift"], total.schema_drift)):
        for key, count in (source or {}).items():
            target[key] = target.get(key, 0) + count


@dataclass(frozen=True)
class RecordedRun:
    """What a table's newest successful run left for the next: the fingerprint of what it consumed and the
    unread files it reported (None when it did not check)."""

    fingerprint: str
    unread_files: dict[str, str] | None = None


def fingerprints(spark: SparkSession, path: str, pipeline: str) -> dict[str, RecordedRun]:
    """Per table, the fingerprint (and unread files) its newest successful run recorded (one query over the
    event log)."""
    if io.table_version(spark, path) < 0:
        return {}
    log = spark.read.format("delta").load(path)
    if "fingerprint" not in log.columns:
        return {}
    rows = (
        log.where(
            (F.col("pipeline") == pipeline) & F.col("status").isin("ok", "skipped") & F.col("fingerprint").isNotNull()
        )
        .groupBy("table")
        .agg(F.max_by(F.struct("fingerprint", "unread_files"), "started_at").alias("newest"))
        .collect()
    )
    return {
        row["table"]: RecordedRun(
            row["newest"]["fingerprint"],
            dict(row["newest"]["unread_files"]) if row["newest"]["unread_files"] is not None else None,
        )
        for row in rows
    }


def record(spark: SparkSession, path: str, runs: list[TableRun]) -> int | None:
    """Append ``runs``: each row is written once, by the run that owns it. Returns the log's version after
    the commit (None when there was nothing to write)."""
    if not runs:
        return None
    return io.append_log(_as_frame(spark, runs), path)


def _as_frame(spark: SparkSession, runs: list[TableRun]) -> DataFrame:
    """The rows, built in the JVM from one JSON literal parsed with the log's schema. A DataFrame of Python
    objects is read through a Python worker, and starting the first one costs a process about half a second:
    most of a fresh process's event-log append (1.2 s that way against 0.55 s this way, in the 1% increment
    of `make bench`). FAILFAST: a value that does not parse as its column's type fails the write, never
    becomes NULL."""
    text = json.dumps([{name: _json_value(value) for name, value in run.as_recorded().items()} for run in runs])
    rows = F.from_json(F.lit(text), ArrayType(struct_type(EVENT_LOG_SCHEMA)), {"mode": "FAILFAST"})
    return spark.range(1).select(F.explode(rows).alias("row")).select("row.*")


def _json_value(value):
    # started_at is UTC without a zone (as_row): written with its offset, it is one instant in any time zone
    return value.replace(tzinfo=timezone.utc).isoformat() if isinstance(value, datetime) else value


def reconcile_write(
    table: str, accepted: int, distinct_keys: int | None, result: io.WriteResult, keyed: bool | None = None
) -> tuple[int, int]:
    """(duplicates, unchanged) of one batch's write, from Delta's commit metrics.

    ``keyed``: the write merges one row per key (default: when ``distinct_keys`` is given), so the rows its
    merge read are the batch's distinct keys and the rest are duplicates. ``distinct_keys``, our own count of
    distinct keys among the accepted rows, is needed only when nothing was committed; when given with a
    committed merge, Delta's count must agree with it."""
    keyed = distinct_keys is not None if keyed is None else keyed
    if result.replayed or not result.committed:  # nothing changed: a replayed batch, or a merge with nothing to do
        if result.written:
            raise ReconciliationError(f"{table}: a write reported {result.written} rows but committed nothing")
        if keyed and distinct_keys is None:
            raise ValueError(f"{table}: a keyed write that committed nothing needs the batch's distinct keys")
        duplicates = accepted - distinct_keys if keyed and distinct_keys is not None else 0
        return duplicates, accepted - duplicates
    if result.source_rows is None:  # append / overwrite: Delta wrote numOutputRows
        if result.inserted != accepted:
            raise ReconciliationError(f"{table}: {accepted} rows accepted but Delta committed {result.inserted}")
        return 0, 0
    if not keyed:  # a merge that narrows its own source (surrogate keys: only values not yet held)
        return 0, accepted - result.written
    if distinct_keys is not None and result.source_rows != distinct_keys:
        raise ReconciliationError(
            f"{table}: the batch holds {distinct_keys} distinct keys but Delta's merge read {result.source_rows} rows"
        )
    if result.source_rows > accepted:
        raise ReconciliationError(f"{table}: {accepted} rows accepted but Delta's merge read {result.source_rows}")
    return accepted - result.source_rows, result.source_rows - result.written
