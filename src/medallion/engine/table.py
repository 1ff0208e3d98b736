"""One table, once: skip it when nothing it reads changed, else process all new input and stop.

A streaming table runs its query with the ``availableNow`` trigger (every new input in as many micro-batches
as the source gives, then stop); a materialized view is recomputed from pinned snapshots and merged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from medallion import errors, io, sessions
from medallion.declare.tables import Layer, Table
from medallion.engine import (
    batch,
    batch_counts,
    changes,
    checkpoints,
    eventlog,
    inputs,
    landing_scan,
    plans,
    table_checks,
)
from medallion.engine.context import RunContext
from medallion.engine.eventlog import TableRun
from medallion.engine.failures import checkpoint_error, translate
from medallion.engine.unread_files import unread_files
from medallion.errors import MedallionError
from medallion.platform import failpoints


def run_table(context: RunContext, table: Table, previous: eventlog.RecordedRun | None = None) -> TableRun:
    """Run ``table`` once; ``previous`` is what its last successful run recorded (skip when the fingerprint
    is equal)."""
    stats = TableRun(context.run_id, context.pipeline.name, table.name, table.layer.value, context.mode)
    scans = landing_scan.scan_inputs(_landing_of(context), table)  # one walk per folder serves both below
    # In stream mode a view reading added rows takes its fingerprint too: it records where the next refresh starts.
    consumed = changes.fingerprint(context, table, scans) if context.mode == "once" or table.reads_added else None
    unchanged = (
        not table.always_run
        and consumed is not None
        and previous is not None
        and changes.digest(consumed) == changes.recorded_digest(previous.fingerprint)
    )
    report_unread_files(context, table, stats, scans, previous.unread_files if unchanged and previous else None)
    if unchanged and previous is not None:
        stats.status, stats.fingerprint = "skipped", previous.fingerprint
        context.say(table, ": unchanged since its last run, skipped")
        return _finish(context, stats)
    context.say(table, ": starting")
    version_before = changes.version(context, table.name)
    checked = changes.checked_through(previous.fingerprint) if previous else None
    pinned = inputs.Pinned(context)  # the input versions a view reads
    try:
        if table.is_streaming:
            _run_stream_once(context, table, stats)
        else:
            since = changes.consumed_before(previous.fingerprint if previous else None, version_before, consumed)
            _refresh_view(context, table, stats, since, pinned)
        changes.forget(context, table.name)
        if table.layer == Layer.BRONZE:
            failpoints.hit("after_bronze_commit", table.name)
        # A table as its checks last passed it cannot have broken one, unless this run wrote rows; a table
        # written since (a run whose check failed after its batch committed, another writer) is checked again
        # whatever this run wrote, so a rerun never takes the failed run's rows as checked.
        unchecked_from = _unchecked_from(checked, version_before)
        if table.checks and (stats.rows_written or unchecked_from is not None):
            stats.checks = table_checks.evaluate_checks(
                _read(context, table.name),
                table.checks,
                lambda name: _read(context, name),
                _written(context, table, version_before if unchecked_from is None else unchecked_from),
            )
            table_checks.enforce_checks(stats.checks, table.checks, f"{context.pipeline.name}.{table.name}")
        stats.status = "ok"
        if consumed is not None:
            consumed["self"] = changes.version(context, table.name)
            stats.fingerprint = changes.record(table, consumed, pinned.versions)
    except Exception as err:
        translated = translate(err, context, table)
        stats.status, stats.error = "failed", eventlog.error_text(translated)
        _finish(context, stats)
        if translated is not err:
            raise translated from None
        raise
    context.say(
        table,
        f": {stats.rows_in:,} rows in, {stats.rows_inserted:,} inserted, {stats.rows_updated:,} updated, "
        f"{stats.rows_quarantined:,} quarantined ({time.time() - stats.started:.1f} s)",
    )
    return _finish(context, stats)


def report_unread_files(
    context: RunContext,
    table: Table,
    stats: TableRun,
    scans: dict[str, landing_scan.FolderScan | None],
    reported_before: dict[str, str] | None,
) -> None:
    """Landed files the table will never read (hidden names, content re-landed under a name already read):
    in its event-log row, skipped or not, and in the progress, so "0 rows in" never goes unexplained.
    ``reported_before``: what the table's last run reported, given when nothing it reads changed since
    (its checkpoint is then not read again)."""
    checkpoint = context.location(table).checkpoint if table.is_streaming else None
    stats.unread_files = unread_files(_landing_of(context), table, checkpoint, scans, reported_before)
    for name, reason in sorted(stats.unread_files.items()):
        context.say(table, f": {name} {reason}")


def _landing_of(context: RunContext):
    return lambda folder: context.runtime.settings.landing_path(context.pipeline.name, folder)


def _finish(context: RunContext, stats: TableRun) -> TableRun:
    """Hand the table's row to the run (written with the others in one commit), or write it now."""
    stats.ended = time.time()
    if context.finished is not None:
        context.finished.append(stats)
    else:
        eventlog.record(context.spark, context.runtime.system_path("event_log"), [stats])
    return stats


def job(
    context: RunContext, table: Table, mode: str, log_path: str, mailbox: str | None = None, query=None
) -> batch.BatchJob:
    """What each batch of ``table`` needs; ``query``, the table's streaming DataFrame, tells whether its batches
    may be read twice (a stateless query: see batch.py)."""
    return batch.job_for(
        table,
        context.pipeline.name,
        mode,
        context.run_id,
        context.location(table),
        context.runtime.quarantine_path(context.pipeline.name),
        log_path,
        batch.pii_key_for(table, context.runtime.secrets),
        mailbox,
        stateless=query is not None and _stateless(context, table, query),
        source_folder=_source_folder(context, table),
    )


def _source_folder(context: RunContext, table: Table) -> str | None:
    """The landing folder of the table's landing-file input (the one whose source rules apply)."""
    source = table.landing_input
    return context.runtime.settings.landing_path(context.pipeline.name, source.folder) if source else None


def _stateless(context: RunContext, table: Table, query) -> bool:
    """Whether the table's query holds no state. A table reading landing files keeps them as they are, so its
    plan is not read; over Spark Connect every batch is measured first, so the plan is not asked for."""
    if table.landing_input is not None:
        return True
    return not sessions.is_connect(context.spark) and not plans.holds_state(query)


# ------------------------------------------------------------------------------------ materialized views
def _refresh_view(
    context: RunContext, table: Table, stats: TableRun, since: dict[str, int] | None, pinned: inputs.Pinned
) -> None:
    """``since``: the input versions the view's last refresh consumed, where its ``added`` inputs start;
    ``pinned`` receives the versions it reads."""
    built = inputs.build(context, table, since, pinned)
    # A view's writes are keyed merges and its quarantine takes only rows not already waiting there (both
    # idempotent by content): the batch id only names the refresh.
    counts = batch.process(job(context, table, context.mode, ""), built, int(time.time() * 1000))
    _add(stats, counts.__dict__)
    stats.rows_read = stats.rows_in
    context.say(table, f" refresh: {counts.rows_in:,} rows in, {counts.rows_written:,} written")


def _add(stats: TableRun, counts: dict) -> None:
    eventlog.add_recorded(stats, {**counts, "batches": counts.get("batches", 1)})


# ------------------------------------------------------------------------------------- streaming tables
def _run_stream_once(context: RunContext, table: Table, stats: TableRun) -> None:
    location = context.location(table)
    checkpoints.verify(location.checkpoint, table.name, context.pipeline.name)
    batch_log = context.runtime.system_path("batch_log")
    built = inputs.build(context, table)
    mailbox = batch_counts.open_mailbox()
    try:
        query, failure = _start_and_await(
            context, table, built, job(context, table, "once", batch_log, mailbox, query=built)
        )
    finally:
        delivered = batch_counts.collect(mailbox)
    progress = query.recentProgress
    # A batch that read its source twice (batch.py: its quarantine rows) shows its rows twice in the progress.
    reads = {row["batch_id"]: row["source_reads"] for row in delivered}
    stats.rows_read = sum(p.get("numInputRows", 0) // reads.get(p.get("batchId"), 1) for p in progress)
    # Every batch that ran handed its counts over: to the mailbox when it ran in this process, else to the
    # batch log. numInputRows alone cannot tell whether one ran: a union of streams whose other side had
    # nothing new may report 0 input rows for a batch that wrote rows.
    recorded = delivered or (
        eventlog.read_batches(context.spark, batch_log, context.run_id, context.pipeline.name, table.name)
        if progress or failure is not None
        else []
    )
    for row in recorded:
        if row["status"] == "failed":
            raise _original(row["error"]) from None
        _add(stats, row)
    if stats.rows_read == 0 and stats.rows_in:
        # Batches took rows the query's progress does not show: on Spark Connect a foreachBatch function
        # runs its batch as a plan of its own, outside the metrics of the query (Spark 3.5). Unknown, not 0.
        stats.rows_read = None
    count_dropped_by_state(progress, stats)
    if failure is not None:
        raise failure
    if query.exception():
        raise MedallionError(f"{table.name}: streaming query failed: {query.exception()}")


def _start_and_await(context: RunContext, table: Table, built, batch_job: batch.BatchJob):
    """Run the table's query to the end of its available input: (the query, the error it ended with)."""
    location = context.location(table)
    try:
        query = (
            built.writeStream.foreachBatch(batch.for_each_batch(batch_job))
            .option("checkpointLocation", location.checkpoint)
            .queryName(context.query_name(table))
            .trigger(availableNow=True)
            .start()
        )
    except Exception as err:
        raise checkpoint_error(err, location.checkpoint, context, table) from None
    try:
        query.awaitTermination()
    except Exception as err:
        return query, err
    return query, None


def _original(text: str) -> Exception:
    """The exception a batch raised, rebuilt from its event-log line (a batch may have run in another
    process): the project's own error types keep their type, anything else is a MedallionError."""
    name, _, message = text.partition(": ")
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, MedallionError):
        return kind(message)
    return MedallionError(text)


def count_dropped_by_state(progress: Iterable[dict], stats: TableRun) -> None:
    """Rows a stateful operator dropped on purpose: too late for the watermark, or a streaming dedupe's
    duplicates. They never reach the batch, so the query's progress is where they are counted: once per batch
    that ran (see :func:`batches_run`)."""
    for update in batches_run(progress).values():
        late, duplicates = dropped_by_state(update)
        stats.add_dropped_before_batch(late=late, duplicates=duplicates)


def dropped_by_state(update: dict) -> tuple[int, int]:
    """The rows one batch's stateful operators dropped, from its progress update: (late, duplicates)."""
    operators = update.get("stateOperators", [])
    late = sum(int(operator.get("numRowsDroppedByWatermark", 0) or 0) for operator in operators)
    duplicates = sum(
        int((operator.get("customMetrics") or {}).get("numDroppedDuplicateRows", 0) or 0) for operator in operators
    )
    return late, duplicates


def batches_run(progress: Iterable[dict]) -> dict[int, dict]:
    """The progress updates of triggers that ran a batch, by batch id. A trigger that found no data (stream
    mode, every ten seconds while idle) reports the last batch's operators again, its dropped duplicates
    included (Spark 3.5 zeroes only the late rows), under no batch of its own."""
    return {update["batchId"]: update for update in progress if "addBatch" in (update.get("durationMs") or {})}


def _unchecked_from(checked: int | None, version_before: int) -> int | None:
    """Where the table's rows its checks have not passed start, besides this run's: None when it is as its last
    successful run left it (``checked``, None when not recorded); else that version, or 0 (the whole table)
    when the table is older than it: recreated or reset since."""
    if checked is None or checked == version_before:
        return None
    return checked if checked < version_before else 0


def _written(context: RunContext, table: Table, after_version: int):
    """The rows written since ``after_version``, for a uniqueness check. None (the check reads the whole table,
    always right) where that costs no more: a table created by the run or found at version 0, the empty table
    setup creates, so nearly every row is new; and a table without a uniqueness check: no other check reads
    them."""
    if after_version <= 0 or not any(check.kind == "unique" for check in table.checks):
        return None
    version_after = changes.version(context, table.name)
    return io.rows_written(context.spark, context.location(table).path, after_version, version_after)


def _read(context: RunContext, name: str):
    return context.spark.read.format("delta").load(context.location(context.pipeline.get(name)).path)
