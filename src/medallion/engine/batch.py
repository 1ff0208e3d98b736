"""One batch of one table: check, split, protect, write, count.

A batch may run in another Python process than the driver's (``foreachBatch`` functions run on the
server when the session is a Spark Connect session), so it receives everything it needs as plain data
(:class:`BatchJob`), and its counts reach the driver through the driver's mailbox when the batch runs in the
driver's process, else through a table it writes (the batch log; in stream mode, the event log): see
:mod:`medallion.engine.batch_counts`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, Observation

from medallion import io, sessions
from medallion.declare.tables import Expectation, FileSource, Layer, Scd2, SurrogateKey, Table, WriteMode
from medallion.engine import batch_counts, csv_headers, eventlog, personal_data, quality
from medallion.engine.eventlog import TableRun
from medallion.platform import failpoints
from medallion.platform.runtime import TableLocation
from medallion.sources.files import CORRUPT, RESCUED, SOURCE

# In one process one batch writes at a time: a Delta write refreshes the cached plans over the table it
# changed, so a batch that reads a table another stream writes could count one set of rows and write another.
WRITE_LOCK = threading.RLock()


@dataclass(frozen=True)
class BatchJob:
    """What a batch of ``table`` needs, as plain picklable data."""

    pipeline: str
    table: str
    layer: Layer
    mode: str  # once | stream
    run_id: str
    write: WriteMode
    expectations: tuple[Expectation, ...]
    source: FileSource | None  # the landing-file input, whose source rules apply
    personal_data: Mapping[str, str]
    partition_by: tuple[str, ...]
    location: TableLocation
    quarantine_path: str
    log_path: str  # where each batch's counts go: the batch log (once) or the event log (stream)
    pii_key: bytes | None = field(default=None, repr=False)
    mailbox: str | None = None  # the driver's mailbox for the counts (batch_counts), when it opened one
    stateless: bool = False  # its query keeps no state between batches (engine.plans): a batch can be read twice
    # A CSV input's landing folder and the header its files must have (csv_headers), None for any other input
    source_folder: str | None = None
    declared_header: tuple[str, ...] | None = None
    # A materialized view: each refresh computes its rows again, the ones an earlier refresh quarantined too
    view: bool = False

    @property
    def writer(self) -> str:
        return f"{self.pipeline}.{self.table}"

    @property
    def keys(self) -> tuple[str, ...]:
        # A surrogate-key write merges only the values its dimension lacks: Delta's counts are not the
        # batch's key count, so the distinct-key reconciliation does not apply to it.
        # An SCD2 write merges the recomputed history of its keys, not the batch's rows: the same holds.
        return () if isinstance(self.write, (SurrogateKey, Scd2)) else getattr(self.write, "keys", ())


def job_for(
    table: Table,
    pipeline: str,
    mode: str,
    run_id: str,
    location: TableLocation,
    quarantine_path: str,
    log_path: str,
    pii_key: bytes | None,
    mailbox: str | None = None,
    stateless: bool = False,
    source_folder: str | None = None,
) -> BatchJob:
    """What each batch of ``table`` needs; ``source_folder``, the folder of its landing-file input."""
    source = table.landing_input
    headed = csv_headers.checks_header(source)
    return BatchJob(
        pipeline,
        table.name,
        table.layer,
        mode,
        run_id,
        table.write,
        tuple(table.expectations),
        source,
        dict(table.personal_data),
        tuple(table.partition_by),
        location,
        quarantine_path,
        log_path,
        pii_key,
        mailbox,
        stateless,
        source_folder if headed else None,
        csv_headers.declared_header(source) if headed and source else None,
        view=not table.is_streaming,
    )


def process(job: BatchJob, batch: DataFrame, batch_id: int) -> TableRun:
    """Check, split, protect and write one batch; returns its counts."""
    if job.source is not None and job.source_folder is not None and job.declared_header is not None:
        batch = csv_headers.mark_unfit_rows(batch, job.source, job.source_folder, job.declared_header)
    with WRITE_LOCK:
        return _process(job, batch, batch_id)


def _process(job: BatchJob, batch: DataFrame, batch_id: int) -> TableRun:
    rules = quality.rules_for(job.table, job.expectations, job.source, batch.columns)
    checked = quality.with_failed_rules(batch, rules)
    checked = personal_data.apply_policy(checked, job.personal_data, job.pii_key)
    if _measurable_while_written(job, rules, checked):
        counts = _write_and_measure(job, checked, rules, batch_id)
        if counts is not None:
            return counts
    checked = checked.persist()
    try:
        measured = quality.measure(checked, rules, job.keys)
        quality.enforce_fail_rules(measured, rules, job.writer)
        drift = quality.drift(checked) if measured.rescued else {}
        if measured.quarantined:
            _quarantine(job, checked, rules, batch_id)
            failpoints.hit("between_writes", job.table)
        accepted = final_columns(quality.accepted_rows(checked, rules), keep_rescued=job.source is not None)
        if measured.rows_in > measured.quarantined:
            result = io.write(
                accepted, job.location, job.write, job.writer, batch_id, job.partition_by, measured.key_ranges
            )
        else:  # an empty batch (e.g. one that only advances a watermark) writes nothing
            result = io.WriteResult()
        failpoints.hit("after_sink_commit", job.table)
        if isinstance(job.write, Scd2):
            result = scd2_counts(result)
        return _counts(job, checked, rules, measured, result, drift)
    finally:
        checked.unpersist()


def _quarantine(job: BatchJob, checked: DataFrame, rules: tuple[Expectation, ...], batch_id: int) -> None:
    """Append the batch's rejected rows to the pipeline's quarantine, once: a batch replayed under its id is
    skipped by Delta; a view's refresh (its batch id names the refresh, so a rerun after a crash or the next
    refresh over changed inputs brings another) adds only the rows not already waiting there."""
    rejected = quality.quarantine_rows(checked, rules, job.table, job.run_id, batch_id, bool(job.personal_data))
    if job.view:
        io.append_absent(rejected, job.quarantine_path, quality.RECOMPUTED_IDENTITY, within={"table": job.table})
    else:
        io.append_rows(rejected, job.quarantine_path, f"{job.writer}.quarantine", batch_id)


def _measurable_while_written(job: BatchJob, rules: tuple[Expectation, ...], checked: DataFrame) -> bool:
    """Whether the batch can be measured by the pass that writes it (an observation of the write), instead
    of being cached and measured first. It can when nothing must be known before the write: no rule stops
    the batch (``expect_or_fail``), and its query holds no stateful operator (landed files, or a stateless
    query of other tables), so reading its input again for the rare quarantine rows reads the same rows and
    advances no state twice. An observation's values reach a classic session only: over Spark Connect the
    batch is measured first."""
    return (
        (job.source is not None or job.stateless)  # a table reading landing files keeps them as they are
        and not any(rule.action == "fail" for rule in rules)
        and not sessions.is_connect(checked.sparkSession)
    )


def _write_and_measure(
    job: BatchJob, checked: DataFrame, rules: tuple[Expectation, ...], batch_id: int
) -> TableRun | None:
    """Write the batch's accepted rows in one pass that also measures it; None, having written nothing, when
    the table's write is not a plain append (a merge needs the batch's key ranges before it starts)."""
    observation = Observation()
    observed = checked.observe(observation, *quality.measures(checked, rules))
    accepted = final_columns(quality.accepted_rows(observed, rules), keep_rescued=job.source is not None)
    result = io.append_if_plain(accepted, job.location, job.write, job.writer, batch_id, job.partition_by)
    if result is None:
        return None
    if result.committed:
        measured = quality.quality_of(observation.get, checked, rules)
    else:  # a replayed batch: Delta skipped its append, so no pass ran to observe; it is measured apart
        measured = quality.measure(checked, rules)
    failpoints.hit("after_sink_commit", job.table)
    if not (measured.quarantined or measured.rescued):
        return _counts(job, checked, rules, measured, result, {})
    # Rows to quarantine, or undeclared fields to report: the batch's input is read again, once.
    checked = checked.persist()
    try:
        if measured.quarantined:
            _quarantine(job, checked, rules, batch_id)
        drift = quality.drift(checked) if measured.rescued else {}
        counts = _counts(job, checked, rules, measured, result, drift)
    finally:
        checked.unpersist()
    counts.source_reads = 2
    return counts


def _counts(
    job: BatchJob,
    checked: DataFrame,
    rules: tuple[Expectation, ...],
    measured: quality.BatchQuality,
    result: io.WriteResult,
    drift: dict[str, int],
) -> TableRun:
    """The batch's event-log counts: what it measured, reconciled with what its write committed."""
    accepted_count = measured.rows_in - measured.quarantined
    # A keyed merge that committed read one row per key: its source count tells duplicates apart.
    # Only a write that committed nothing needs our own count of the batch's distinct keys.
    # (A batch that accepted nothing holds no key: no job is needed to say so.)
    merged = result.committed and result.source_rows is not None
    distinct_keys = None
    if job.keys and not merged:
        distinct_keys = quality.distinct_keys(checked, rules, job.keys) if accepted_count else 0
    duplicates, unchanged = eventlog.reconcile_write(
        job.writer, accepted_count, distinct_keys, result, keyed=bool(job.keys)
    )
    counts = TableRun(job.run_id, job.pipeline, job.table, job.layer.value, job.mode)
    counts.add_batch(
        rows_in=measured.rows_in,
        quarantined=measured.quarantined,
        accepted=accepted_count,
        inserted=result.inserted,
        updated=result.updated,
        broken=measured.broken,
        duplicates=duplicates,
        unchanged=unchanged,
        drift=drift,
    )
    counts.status = "ok"
    return counts


def scd2_counts(result: io.WriteResult) -> io.WriteResult:
    """An SCD2 batch's rows in terms of its input: each row is a new version (inserted) or not (a delete,
    or a change already stored: unchanged). The history rows it re-closed are not input rows, so they are
    not counted as updated: rows in = inserted + unchanged + quarantined holds for every batch."""
    return io.WriteResult(
        result.inserted,
        0,
        source_rows=result.source_rows,
        committed=result.committed,
        replayed=result.replayed,
        version=result.version,
    )


def for_each_batch(job: BatchJob) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function of a streaming table: process the batch, then hand its counts (or its
    failure) to the driver: in the driver's mailbox when this runs in the driver's process, else in
    ``job.log_path``, the way that works on every kind of session."""

    def each_batch(batch: DataFrame, batch_id: int) -> None:
        started = time.time()
        try:
            counts = process(job, batch, batch_id)
        except BaseException as err:
            failed = TableRun(
                job.run_id,
                job.pipeline,
                job.table,
                job.layer.value,
                job.mode,
                started=started,
                status="failed",
                error=eventlog.error_text(err),
            )
            _hand_over(job, batch, failed, batch_id)
            raise
        counts.started = started
        if counts.rows_in or job.mode == "once":
            _hand_over(job, batch, counts, batch_id)

    return each_batch


def _hand_over(job: BatchJob, batch: DataFrame, counts: TableRun, batch_id: int) -> None:
    if not batch_counts.deliver(job.mailbox, counts, batch_id):
        eventlog.record(batch.sparkSession, job.log_path, [counts])


def final_columns(df: DataFrame, keep_rescued: bool = True) -> DataFrame:
    """Columns named ``_…`` are working columns: the raw-text and lineage columns of the parsers and what a
    build adds for its expectations. Quarantine records keep them (unless the table declares personal data: see
    quality.quarantine_rows); accepted rows leave them behind. Rescued (undeclared) fields are kept in bronze,
    the raw copy; later layers only record them as drift."""
    kept = {RESCUED} if keep_rescued else set()
    working = [c for c in df.columns if (c.startswith("_") or c in (CORRUPT, SOURCE)) and c not in kept]
    return df.drop(*working) if working else df


def pii_key_for(table: Table, secrets: Any) -> bytes | None:
    """The tokenisation key, only for a table whose policy tokenises (read once per table and run)."""
    if not any(rule == "tokenize" for rule in table.personal_data.values()):
        return None
    ensure = getattr(secrets, "ensure", None)
    secret = ensure(personal_data.KEY_NAME) if ensure else secrets.get(personal_data.KEY_NAME)
    return secret.reveal().encode("utf-8")
