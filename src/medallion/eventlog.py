"""The event log: one Delta row per table per run, what a dashboard or an alert reads.

Rows in = rows accepted + rows quarantined is checked for every batch before anything is recorded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pyspark.sql import SparkSession

from medallion import io
from medallion.errors import ReconciliationError

EVENT_LOG_SCHEMA = (
    "run_id STRING, pipeline STRING, table STRING, layer STRING, mode STRING, started_at TIMESTAMP, "
    "duration_s DOUBLE, batches INT, rows_read BIGINT, rows_in BIGINT, rows_accepted BIGINT, "
    "rows_quarantined BIGINT, rows_inserted BIGINT, rows_updated BIGINT, rows_unchanged BIGINT, "
    "broken_rules MAP<STRING, BIGINT>, status STRING, error STRING"
)


@dataclass
class TableRun:
    """Counts of one table over one run (all its micro-batches)."""

    run_id: str
    pipeline: str
    table: str
    layer: str
    mode: str
    started: float = field(default_factory=time.time)
    batches: int = 0
    rows_read: int = 0
    rows_in: int = 0
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    broken_rules: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None
    failure: BaseException | None = field(default=None, repr=False)  # the exception a batch raised

    @property
    def rows_accepted(self) -> int:
        return self.rows_in - self.rows_quarantined

    @property
    def rows_written(self) -> int:
        return self.rows_inserted + self.rows_updated

    def add_batch(self, rows_in: int, quarantined: int, accepted: int, inserted: int, updated: int, broken: dict[str, int]) -> None:
        if rows_in != accepted + quarantined:
            raise ReconciliationError(
                f"{self.pipeline}.{self.table}: {rows_in} rows in but {accepted} accepted + {quarantined} quarantined"
            )
        self.batches += 1
        self.rows_in += rows_in
        self.rows_quarantined += quarantined
        self.rows_inserted += inserted
        self.rows_updated += updated
        for rule, count in broken.items():
            self.broken_rules[rule] = self.broken_rules.get(rule, 0) + count

    def as_row(self) -> tuple:
        return (
            self.run_id, self.pipeline, self.table, self.layer, self.mode,
            datetime.fromtimestamp(self.started, tz=timezone.utc).replace(tzinfo=None),
            round(time.time() - self.started, 3), self.batches, self.rows_read, self.rows_in, self.rows_accepted,
            self.rows_quarantined, self.rows_inserted, self.rows_updated,
            max(self.rows_accepted - self.rows_written, 0), dict(self.broken_rules), self.status, self.error,
        )


def record(spark: SparkSession, path: str, runs: list[TableRun]) -> None:
    if not runs:
        return
    rows = spark.createDataFrame([r.as_row() for r in runs], EVENT_LOG_SCHEMA)
    # A run id is written once; a retried write of the same run is skipped by its txn id.
    io.append_rows(rows, path, writer_id=f"eventlog-{runs[0].run_id}-{runs[0].table}", batch_version=0)
