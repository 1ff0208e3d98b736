"""A pipeline's health from its event log and quarantine: per table, the last run and what it did.

What an on-call engineer asks first: did the last run of each table succeed, how many rows did it take
in, write, quarantine, drop on purpose (duplicates, late events), which table checks fail, and is a
run going on or did one crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine import runlock
from medallion.io import table_exists
from medallion.platform.runtime import Runtime

HEADER = [
    "layer",
    "table",
    "last run (UTC)",
    "status",
    "rows in",
    "written",
    "quarantined",
    "late",
    "duplicates",
    "quarantine total",
    "failing checks",
    "error",
]


@dataclass
class TableHealth:
    layer: str
    table: str
    last_run: datetime | None = None
    status: str = "never run"
    rows_in: int | None = None
    written: int | None = None
    quarantined: int | None = None
    late: int | None = None
    duplicates: int | None = None
    quarantine_total: int = 0
    failing_checks: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status in ("ok", "never run") and not self.failing_checks

    def as_list(self) -> list:
        return [
            self.layer,
            self.table,
            self.last_run.strftime("%Y-%m-%d %H:%M:%S") if self.last_run else None,
            self.status,
            self.rows_in,
            self.written,
            self.quarantined,
            self.late,
            self.duplicates,
            self.quarantine_total,
            ", ".join(self.failing_checks) or None,
            self.error,
        ]


@dataclass
class PipelineHealth:
    pipeline: str
    tables: list[TableHealth]
    running: str | None = None  # the run holding the lock, its process alive
    last_crash: str | None = None
    dead_lock: str | None = None  # a lock whose process is gone: a run that crashed and was not resumed yet
    unread_files: dict[str, dict[str, str]] = field(default_factory=dict)  # table → landed file never read → why

    @property
    def healthy(self) -> bool:
        return all(t.healthy for t in self.tables)

    def summary(self) -> str:
        failing = [t.table for t in self.tables if not t.healthy]
        verdict = "healthy" if not failing else f"{len(failing)} table(s) need attention: {', '.join(failing)}"
        lines = [f"{self.pipeline}: {verdict}"]
        if self.running:
            lines.append(f"running now: {self.running}")
        if self.dead_lock:
            lines.append(
                f"not running: {self.dead_lock} ended without finishing (its process is gone); "
                "the next run takes its lock over and resumes from the checkpoints"
            )
        if self.last_crash:
            lines.append(f"last crash: {self.last_crash}")
        for table, files in sorted(self.unread_files.items()):
            for name, reason in sorted(files.items()):
                lines.append(f"file never read by {table}: {name} ({reason})")
        return "\n".join(lines)


def last_runs(event_log: DataFrame, pipeline: str) -> dict[str, dict]:
    """The newest run of each table of ``pipeline`` (crash markers excluded), as one row: a stream-mode
    run logs a row per micro-batch, summed here; its status is ``failed`` when any batch failed."""
    # A skipped run (nothing changed upstream) leaves the table as its last real run left it.
    rows = event_log.where((F.col("pipeline") == pipeline) & (F.col("table") != "*") & (F.col("status") != "skipped"))
    newest = Window.partitionBy("table").orderBy(F.col("started_at").desc())
    latest = rows.withColumn("_rank", F.row_number().over(newest)).where("_rank = 1").select("table", "run_id")
    failed = F.col("status") == "failed"
    runs = (
        rows.join(latest, ["table", "run_id"])
        .groupBy("table", "run_id")
        .agg(
            F.min("started_at").alias("started_at"),
            *[
                F.sum(c).alias(c)
                for c in ("rows_in", "rows_inserted", "rows_updated", "rows_quarantined", "rows_late", "rows_duplicate")
            ],
            F.max_by("status", F.struct(failed, "started_at")).alias("status"),
            F.max_by("error", F.struct(failed, "started_at")).alias("error"),
            F.max_by("checks", "started_at").alias("checks"),
        )
    )
    return {row["table"]: row.asDict() for row in runs.collect()}


def table_health(layer: str, table: str, last: dict | None, quarantine_total: int = 0) -> TableHealth:
    health = TableHealth(layer, table, quarantine_total=quarantine_total)
    if last is None:
        return health
    health.last_run = last["started_at"]
    health.status = last["status"]
    health.rows_in = last["rows_in"]
    health.written = (last["rows_inserted"] or 0) + (last["rows_updated"] or 0)
    health.quarantined = last["rows_quarantined"]
    health.late = last.get("rows_late")
    health.duplicates = last.get("rows_duplicate")
    health.failing_checks = sorted(name for name, n in (last.get("checks") or {}).items() if n)
    health.error = last["error"]
    return health


def pipeline_health(runtime: Runtime, pipeline_name: str) -> PipelineHealth:
    spark = runtime.spark
    pipeline = get_pipeline(pipeline_name)
    log_path = runtime.system_path("event_log")
    log = spark.read.format("delta").load(log_path) if table_exists(spark, log_path) else None
    last = last_runs(log, pipeline_name) if log is not None else {}
    quarantine_path = runtime.quarantine_path(pipeline_name)
    quarantined = {}
    if table_exists(spark, quarantine_path):
        counts = spark.read.format("delta").load(quarantine_path).groupBy("table").count().collect()
        quarantined = {row["table"]: row["count"] for row in counts}
    tables = [
        table_health(t.layer.value, t.name, last.get(t.name), quarantined.get(t.name, 0)) for t in pipeline.ordered()
    ]
    running, dead = lock_holder(runtime, pipeline_name)
    unread = newest_unread_files(log, pipeline_name) if log is not None else {}
    return PipelineHealth(pipeline_name, tables, running, _last_crash(log, pipeline_name), dead, unread)


def newest_unread_files(event_log: DataFrame, pipeline: str) -> dict[str, dict[str, str]]:
    """Per table, the landed files its newest check (a run, skipped runs included: a hidden file changes
    nothing the table reads; in stream mode, the checks at the start and at each trigger interval) found it
    will never read; a table whose newest check found none is left out. A micro-batch's own row does not
    check (its ``unread_files`` is NULL) and does not count."""
    if "unread_files" not in event_log.columns:
        return {}
    rows = (
        event_log.where((F.col("pipeline") == pipeline) & (F.col("table") != "*") & F.col("unread_files").isNotNull())
        .groupBy("table")
        .agg(F.max_by("unread_files", "started_at").alias("unread_files"))
        .collect()
    )
    return {row["table"]: dict(row["unread_files"]) for row in rows if row["unread_files"]}


def lock_holder(runtime: Runtime, pipeline_name: str) -> tuple[str | None, str | None]:
    """(the live run holding the pipeline's lock, the run whose process died holding it): a lock file
    alone does not mean a run is going on."""
    path = runlock.lock_path(runtime.settings, pipeline_name)
    owner = runlock.read_owner(path) if path else None
    if owner is None:
        return None, None
    if runlock.is_stale(owner):
        return None, owner.describe()
    return owner.describe(), None


def _last_crash(log: DataFrame | None, pipeline_name: str) -> str | None:
    if log is None:
        return None
    crash = (
        log.where((F.col("pipeline") == pipeline_name) & (F.col("status") == "crashed"))
        .orderBy(F.col("started_at").desc())
        .first()
    )
    return f"run {crash['run_id']} started {crash['started_at']:%Y-%m-%d %H:%M:%S}: {crash['error']}" if crash else None
