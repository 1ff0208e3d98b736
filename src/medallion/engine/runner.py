"""Runs declared tables: once (incremental, ``availableNow``) or as streams (``processingTime``).

For each table the runner opens the declared inputs (Delta streams, snapshots or landing files), calls
the pure build function, and hands each batch to :func:`process_batch`: expectations, quarantine,
personal-data policy, the idempotent write, and the counts for the event log. A streaming table keeps
one checkpoint under ``<root>/_checkpoints/<pipeline>/<table>``; a materialized view is recomputed from
snapshots and merged.
"""
from __future__ import annotations

import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

from pyspark.sql import DataFrame

from medallion.engine import checkpoints, eventlog, personal_data, quality, runlock
from medallion.platform import failpoints
from medallion import io
from medallion.errors import MedallionError
from medallion.engine.eventlog import TableRun
from medallion.sources import jdbc
from medallion.sources.files import CORRUPT, RESCUED, SOURCE, read_files, read_files_once, require_folder, source_schema
from medallion.declare.pipeline import Pipeline, get_pipeline
from medallion.platform.runtime import Runtime
from medallion.declare.tables import SurrogateKey, FileSource, JdbcSource, Layer, Read, Table

Progress = Callable[[str], None]


def print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class RunContext:
    runtime: Runtime
    pipeline: Pipeline
    mode: str = "once"  # once | stream
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8])
    progress: Progress = print_progress
    # In stream mode each table's query runs its batches in a thread of its own. A batch is read twice
    # (counted, then written) and a Delta write refreshes cached plans over the table it changed, so
    # a batch that reads a table another stream writes could count one set of rows and write another.
    # One batch of a run at a time writes; the counts always describe what was written.
    write_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def spark(self):
        return self.runtime.spark

    def location(self, table: Table):
        return self.runtime.location(self.pipeline.name, table.layer, table.name)


# ------------------------------------------------------------------------------------------ entry points
def run(
    runtime: Runtime,
    pipeline_name: str,
    layers: Iterable[Layer] | None = None,
    tables: Iterable[str] | None = None,
    progress: Progress = print_progress,
) -> list[TableRun]:
    """Process what is new in every table of the chosen layers, in dependency order, then stop.

    Before anything is created or written: the selection, the landing folders and the checkpoints are
    checked, and the pipeline's run lock is taken (one run at a time)."""
    context = RunContext(runtime, get_pipeline(pipeline_name), progress=progress)
    selected = _select(context.pipeline, layers, tables)
    preflight(context, selected)
    with runlock.hold(runtime.settings, pipeline_name, context.run_id) as lock:
        ensure_tables(runtime, context.pipeline)
        _record_crashed_run(context, lock)
        runs = []
        for table in selected:
            runs.append(run_table(context, table))
    return runs


def preflight(context: RunContext, selected: list[Table], require_landing: bool = True) -> None:
    """Stop with one clear message, before any table changes, when a landing folder is missing (a run
    once; a stream waits for its folder) or a checkpoint is damaged."""
    for table in selected:
        for read in table.inputs.values():
            if isinstance(read, FileSource) and (require_landing or not read.stream):
                require_folder(context.runtime.settings, read, context.pipeline.name)
        if table.is_streaming:
            checkpoints.verify(context.location(table).checkpoint, table.name, context.pipeline.name)


def run_layer(pipeline_name: str, layer: str, runtime: Runtime, mode: str = "once", **options) -> list[TableRun] | "StreamingRun":
    """What a layer notebook calls: one layer, once or as streams."""
    layers = [Layer(layer)] if layer != "all" else None
    if mode == "stream":
        return start_streams(runtime, pipeline_name, layers=layers, **options)
    return run(runtime, pipeline_name, layers=layers)


def run_table(context: RunContext, table: Table) -> TableRun:
    """One table, once: all new input, in as many micro-batches as the source gives, then stop."""
    stats = TableRun(context.run_id, context.pipeline.name, table.name, table.layer.value, context.mode)
    context.progress(f"[{context.pipeline.name}] {table.layer.value}.{table.name}: starting")
    try:
        if table.is_streaming:
            query = _start_query(context, table, stats, trigger={"availableNow": True})
            _await(query, table, stats)
            stats.rows_read = sum(p.get("numInputRows", 0) for p in query.recentProgress)
            _count_dropped_by_state(query.recentProgress, stats)
        else:
            built = build(context, table)
            process_batch(context, table, built, _next_view_version(context, table), stats)
            stats.rows_read = stats.rows_in
        if table.layer == Layer.BRONZE:
            failpoints.hit("after_bronze_commit", table.name)
        if table.checks:
            stats.checks = quality.evaluate_checks(_read_table(context, table.name), table.checks,
                                                   lambda name: _read_table(context, name))
            quality.enforce_checks(stats.checks, table.checks, f"{context.pipeline.name}.{table.name}")
        stats.status = "ok"
    except Exception as err:
        translated = _translate(err, context, table)
        stats.status = "failed"
        stats.error = _safe_message(translated)
        if translated is not err:
            raise translated from None
        raise
    finally:
        eventlog.record(context.spark, context.runtime.system_path("event_log"), [stats])
    context.progress(
        f"[{context.pipeline.name}] {table.layer.value}.{table.name}: {stats.rows_in:,} rows in, "
        f"{stats.rows_inserted:,} inserted, {stats.rows_updated:,} updated, {stats.rows_quarantined:,} quarantined "
        f"({time.time() - stats.started:.1f} s)"
    )
    return stats


# -------------------------------------------------------------------------------------------- one batch
def process_batch(context: RunContext, table: Table, batch: DataFrame, batch_id: int, stats: TableRun) -> None:
    """Check, split, protect and write one batch; add its counts to ``stats``."""
    with context.write_lock:
        _process_batch(context, table, batch, batch_id, stats)


def _process_batch(context: RunContext, table: Table, batch: DataFrame, batch_id: int, stats: TableRun) -> None:
    location = context.location(table)
    rules = quality.rules_for(table, batch.columns)
    checked = quality.with_failed_rules(batch, rules)
    checked = personal_data.apply_policy(checked, table.personal_data, _pii_key(context, table))
    checked = checked.persist()
    try:
        # A surrogate-key write merges only the values its dimension lacks: Delta's source count is not the
        # batch's key count, so the distinct-key reconciliation does not apply to it.
        keys = () if isinstance(table.write, SurrogateKey) else getattr(table.write, "keys", ())
        measured = quality.measure(checked, rules, keys)
        quality.enforce_fail_rules(measured, rules, f"{context.pipeline.name}.{table.name}")
        drift = quality.drift(checked) if measured.rescued else {}
        writer = f"{context.pipeline.name}.{table.name}"
        if measured.quarantined:
            rejected = quality.quarantine_rows(checked, rules, table.name, context.run_id, batch_id)
            io.append_rows(rejected, context.runtime.quarantine_path(context.pipeline.name), f"{writer}.quarantine", batch_id)
            failpoints.hit("between_writes", table.name)
        accepted = _final_columns(quality.accepted_rows(checked, rules), keep_rescued=_reads_files(table))
        if measured.rows_in > measured.quarantined:
            result = io.write(accepted, location, table.write, writer, batch_id, table.partition_by)
        else:  # an empty batch (e.g. one that only advances a watermark) writes nothing
            result = io.WriteResult()
        failpoints.hit("after_sink_commit", table.name)
        accepted_count = measured.rows_in - measured.quarantined
        duplicates, unchanged = eventlog.reconcile_write(writer, accepted_count, measured.distinct_keys, result)
        stats.add_batch(
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
        step = f"batch {batch_id}" if table.is_streaming else "refresh"  # a view's batch id is only a name
        context.progress(
            f"[{context.pipeline.name}] {table.layer.value}.{table.name} {step}: "
            f"{measured.rows_in:,} rows in, {result.written:,} written, {stats.rows_in:,} so far"
        )
    finally:
        checked.unpersist()


# ---------------------------------------------------------------------------------------------- inputs
def build(context: RunContext, table: Table) -> DataFrame:
    """Open the declared inputs and call the table's pure build function."""
    arguments = {param: _open(context, table, read) for param, read in table.inputs.items()}
    if table.wants_conf():
        arguments["conf"] = context.runtime.settings.pipeline(context.pipeline.name)
    return table.build(**arguments)


def _open(context: RunContext, table: Table, read: Read | FileSource | JdbcSource) -> DataFrame:
    spark = context.spark
    if isinstance(read, JdbcSource):
        return _open_jdbc(context, table, read)
    if isinstance(read, FileSource):
        if read.stream:
            return read_files(spark, context.runtime.settings, read, context.location(table).checkpoint, context.pipeline.name)
        return read_files_once(spark, context.runtime.settings, read, context.pipeline.name)
    upstream = context.pipeline.get(read.table)
    path = context.runtime.location(context.pipeline.name, upstream.layer, upstream.name).path
    if read.stream:
        frame = spark.readStream.format("delta").load(path)
    elif table.is_streaming:  # the static side of a stream-static join: each micro-batch sees the table as it is
        frame = spark.read.format("delta").load(path)
    else:
        frame = _pinned_snapshot(spark, path)
    if read.watermark:
        frame = frame.withWatermark(*read.watermark)
    return frame


def _pinned_snapshot(spark, path: str) -> DataFrame:
    """The table at its current version, pinned: a view's refresh reads each input as it was when the
    refresh began, one consistent state, even while other streams of the run keep writing them."""
    version = io.table_version(spark, path)
    reader = spark.read.format("delta")
    return (reader.option("versionAsOf", version) if version >= 0 else reader).load(path)


def _open_jdbc(context: RunContext, table: Table, source: JdbcSource) -> DataFrame:
    """The rows of a database table changed since this table's high-water mark (see ingest.jdbc)."""
    database = context.runtime.settings.database(source.database)
    password = context.runtime.secrets.get(database.password_secret)
    return jdbc.read_changes(
        context.spark, source, database, password, context.location(table).path,
        progress=lambda message: context.progress(f"[{context.pipeline.name}] {table.layer.value}.{table.name}: {message}"),
    )


# ------------------------------------------------------------------------------------------- streaming
def _start_query(context: RunContext, table: Table, stats: TableRun | None, trigger: dict,
                 log: StreamLog | None = None):
    """Start ``table``'s query; each batch adds its counts to ``stats``, or, given a stream ``log`` (and no
    ``stats``), is logged as a row of its own."""
    location = context.location(table)
    checkpoints.verify(location.checkpoint, table.name, context.pipeline.name)
    built = build(context, table)

    def each_batch(batch: DataFrame, batch_id: int) -> None:
        counts = log.batch() if log else stats
        try:
            process_batch(context, table, batch, batch_id, counts)
        except BaseException as err:  # kept so the caller sees our error, not a JVM wrapper around it
            counts.failure = err
            if log:
                log.failed(counts, err)
            raise
        if log:
            log.done(counts)

    try:
        query = (built.writeStream.foreachBatch(each_batch)
                 .option("checkpointLocation", location.checkpoint)
                 .queryName(f"{context.pipeline.name}.{table.name}")
                 .trigger(**trigger).start())
    except Exception as err:
        raise _checkpoint_error(err, location.checkpoint, context, table) from None
    if log:
        log.query = query
    return query


@dataclass
class StreamLog:
    """The event log of one table in stream mode: a row per micro-batch that had rows (or failed).

    Rows a stateful operator dropped (late, deduplicated) are known only from the query's progress, which
    a batch reads when it starts: they are added to the next batch's row, and to a last row when the
    stream stops."""

    context: RunContext
    table: Table
    query: object = None
    counted_through: int = -1  # the last batch id whose dropped rows are counted

    def batch(self) -> TableRun:
        return TableRun(self.context.run_id, self.context.pipeline.name, self.table.name, self.table.layer.value, "stream")

    def done(self, counts: TableRun) -> None:
        self._add_dropped(counts)
        counts.status = "ok"
        if counts.rows_in:
            self._record(counts)

    def failed(self, counts: TableRun, err: BaseException) -> None:
        counts.status, counts.error = "failed", _safe_message(err)
        self._record(counts)

    def close(self) -> None:
        """After the query stopped: the dropped rows of its last batches."""
        counts = self.batch()
        self._add_dropped(counts)
        if counts.rows_in:
            counts.status = "ok"
            self._record(counts)

    def _add_dropped(self, counts: TableRun) -> None:
        if self.query is None:
            return
        finished = [p for p in self.query.recentProgress if p["batchId"] > self.counted_through]
        _count_dropped_by_state(finished, counts)
        self.counted_through = max([p["batchId"] for p in finished], default=self.counted_through)

    def _record(self, counts: TableRun) -> None:
        counts.rows_read = counts.rows_in
        eventlog.record(self.context.spark, self.context.runtime.system_path("event_log"), [counts])


def _await(query, table: Table, stats: TableRun) -> None:
    try:
        query.awaitTermination()
    except Exception:
        if stats.failure is not None:
            raise stats.failure from None
        raise
    if query.exception():
        raise MedallionError(f"{table.name}: streaming query failed: {query.exception()}")


@dataclass
class StreamingRun:
    """Streams of one pipeline in stream mode, plus the refresher of its materialized views."""

    context: RunContext
    queries: list
    views: list[Table]
    stop_event: threading.Event = field(default_factory=threading.Event)
    refresher: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)
    refreshed_at: dict[str, tuple] = field(default_factory=dict)  # view → input versions it last saw
    lock: runlock.RunLock | None = None
    logs: list[StreamLog] = field(default_factory=list)

    def stop(self) -> None:
        self.stop_event.set()
        if self.refresher:
            self.refresher.join()
        for query in self.queries:
            query.stop()
        for log in self.logs:
            log.close()
        if self.lock:
            self.lock.release()

    def wait(self, timeout: float | None = None) -> None:
        """Block until ``timeout`` seconds have passed (forever when None) or a stream fails."""
        deadline = None if timeout is None else time.time() + timeout
        while deadline is None or time.time() < deadline:
            self._raise_failures()
            time.sleep(1)

    def idle(self) -> bool:
        """True when no stream has data waiting (every source fully consumed)."""
        return all(not q.status["isDataAvailable"] and not q.status["isTriggerActive"] for q in self.queries)

    def await_idle(self, timeout: float = 600) -> None:
        """Wait until every stream has consumed its sources and nothing changes any more.

        Idle means: no query is running a trigger or has data waiting, and no table of the pipeline got a
        new Delta version for four trigger intervals (long enough for each downstream stream to trigger
        once on what its upstream committed); then the views are refreshed one last time.
        """
        interval = _seconds(self.context.runtime.settings.trigger_interval)
        deadline = time.time() + timeout
        last_versions, stable_since = None, time.time()
        while time.time() < deadline:
            self._raise_failures()
            versions = self._table_versions()
            if versions != last_versions or not self.idle():
                last_versions, stable_since = versions, time.time()
            elif time.time() - stable_since >= max(4 * interval, 4):
                self.refresh_views()
                if self._table_versions() == versions:
                    return
            time.sleep(interval / 2)
        raise TimeoutError(f"streams of {self.context.pipeline.name} did not become idle within {timeout:.0f} s")

    def _table_versions(self) -> tuple:
        spark, pipeline = self.context.spark, self.context.pipeline
        return tuple(io.table_version(spark, self.context.location(t).path) for t in pipeline.ordered())

    def refresh_views(self) -> None:
        """Recompute each view whose inputs changed since its last refresh (in dependency order)."""
        with self.refresh_lock:  # the background refresher and a waiting caller never merge at once
            for view in self.views:
                inputs = self._input_versions(view)
                if self.refreshed_at.get(view.name) != inputs:
                    run_table(self.context, view)
                    self.refreshed_at[view.name] = inputs

    def _input_versions(self, view: Table) -> tuple:
        pipeline = self.context.pipeline
        return tuple(io.table_version(self.context.spark, self.context.location(pipeline.get(name)).path)
                     for name in view.upstream)

    def _raise_failures(self) -> None:
        if self.errors:
            raise self.errors[0]
        for query in self.queries:
            if query.exception():
                raise MedallionError(f"{query.name} failed: {query.exception()}")


def start_streams(
    runtime: Runtime,
    pipeline_name: str,
    layers: Iterable[Layer] | None = None,
    progress: Progress = print_progress,
    refresh_views: bool = True,
) -> StreamingRun:
    """Start every streaming table of the chosen layers with a processingTime trigger; views refresh on
    the same interval in a background thread. Returns a handle to wait on and stop."""
    context = RunContext(runtime, get_pipeline(pipeline_name), mode="stream", progress=progress)
    selected = _select(context.pipeline, layers, None)
    preflight(context, selected, require_landing=False)
    lock = runlock.acquire(runtime.settings, pipeline_name, context.run_id)
    interval = runtime.settings.trigger_interval
    queries = []
    try:
        ensure_tables(runtime, context.pipeline)
        _record_crashed_run(context, lock)
        logs = []
        for t in selected:
            if t.is_streaming:
                logs.append(StreamLog(context, t))
                queries.append(_start_query(context, t, None, trigger={"processingTime": interval}, log=logs[-1]))
    except BaseException:
        for query in queries:
            query.stop()
        lock.release()
        raise
    handle = StreamingRun(context, queries, [t for t in selected if not t.is_streaming], lock=lock, logs=logs)
    if refresh_views and handle.views:
        def refresh_loop() -> None:
            while not handle.stop_event.wait(_seconds(interval)):
                try:
                    handle.refresh_views()
                except BaseException as err:  # surfaced by await_idle / the caller
                    handle.errors.append(err)
                    return
        handle.refresher = threading.Thread(target=refresh_loop, name=f"{pipeline_name}-views", daemon=True)
        handle.refresher.start()
    return handle


# ----------------------------------------------------------------------------------------------- setup
def prepare(runtime: Runtime, pipeline: Pipeline) -> list[str]:
    """Everything a pipeline needs before its first run (notebook 02, ``medallion setup``), idempotent:
    its external sources, its tables, its reference data, and on Databricks its Unity Catalog grants.
    Returns the grants applied."""
    from medallion.engine import hooks
    from medallion.platform import grants

    hooks.setup(runtime, pipeline)
    ensure_tables(runtime, pipeline)
    load_history(runtime, pipeline)
    return grants.apply_grants(runtime, pipeline.name)


def load_history(runtime: Runtime, pipeline: Pipeline, progress: Progress = print_progress) -> list[TableRun]:
    """Notebook 03: the pipeline lands its reference files, then its history tables are loaded."""
    from medallion.engine import hooks

    hooks.land_history(runtime, pipeline)
    history = [t.name for t in pipeline.ordered() if t.history]
    return run(runtime, pipeline.name, tables=history, progress=progress) if history else []


def ensure_tables(runtime: Runtime, pipeline: Pipeline) -> None:
    """Create every declared table that does not exist yet, empty, with the schema its build function
    gives on empty inputs; register all of them by name. Idempotent."""
    spark = runtime.spark
    schemas: dict[str, object] = {}
    for table in pipeline.ordered():
        location = runtime.location(pipeline.name, table.layer, table.name)
        if io.table_exists(spark, location.path):
            schemas[table.name] = spark.read.format("delta").load(location.path).schema
        else:
            schemas[table.name] = _output_schema(runtime, pipeline, table, schemas)
            io.create_if_missing(spark, location, schemas[table.name], table.partition_by, table.comment)
        io.register(spark, location)


def _output_schema(runtime: Runtime, pipeline: Pipeline, table: Table, known: dict):
    spark = runtime.spark
    empty_inputs = {}
    for param, read in table.inputs.items():
        if isinstance(read, FileSource):
            schema = source_schema(read).add("source_file", "string").add("load_time", "timestamp")
        elif isinstance(read, JdbcSource):
            schema = jdbc.source_schema(read)
        else:
            schema = known[read.table]
        empty_inputs[param] = spark.createDataFrame([], schema)
    if table.wants_conf():
        empty_inputs["conf"] = runtime.settings.pipeline(pipeline.name)
    output = table.build(**empty_inputs)
    output = personal_data.apply_policy(output, {c: r for c, r in table.personal_data.items() if r == "drop"}, None)
    return _final_columns(output, keep_rescued=_reads_files(table)).schema


def _final_columns(df: DataFrame, keep_rescued: bool = True) -> DataFrame:
    """Columns named ``_…`` are working columns: the raw-text and lineage columns of the parsers and what a
    build adds for its expectations. Quarantine records keep them; accepted rows leave them behind. Rescued
    (undeclared) fields are kept in bronze, the raw copy; later layers only record them as drift."""
    kept = {RESCUED} if keep_rescued else set()
    working = [c for c in df.columns if (c.startswith("_") or c in (CORRUPT, SOURCE)) and c not in kept]
    return df.drop(*working) if working else df


# --------------------------------------------------------------------------------------------- helpers
def _select(pipeline: Pipeline, layers, tables) -> list[Table]:
    layer_set = set(layers) if layers else None
    names = set(tables) if tables else None
    if names:
        for name in names:
            pipeline.get(name)
    return [
        t for t in pipeline.ordered()
        if (layer_set is None or t.layer in layer_set) and (names is None or t.name in names)
        and (names is not None or not t.history)
    ]


def _pii_key(context: RunContext, table: Table):
    if not any(rule == "tokenize" for rule in table.personal_data.values()):
        return None
    store = context.runtime.secrets
    ensure = getattr(store, "ensure", None)
    return ensure(personal_data.KEY_NAME) if ensure else store.get(personal_data.KEY_NAME)


def _next_view_version(context: RunContext, table: Table) -> int:
    # A view's writes are keyed merges (idempotent by content); the version only names the batch.
    return int(time.time() * 1000)


def _seconds(interval: str) -> float:
    amount, unit = interval.split()
    return float(amount) * {"second": 1, "seconds": 1, "minute": 60, "minutes": 60}[unit]


CHECKPOINT_ERRORS = ("checkpoint", "Checkpoint", "HDFSMetadataLog", "Incomplete log file", "ChecksumException",
                     "StateStore", "STATE_STORE", "state store", "offset log", "commit log")


def _checkpoint_error(err: Exception, checkpoint: str, context: RunContext, table: Table) -> Exception:
    text = str(err)
    if checkpoint.removeprefix("file:") in text or any(marker in text for marker in CHECKPOINT_ERRORS):
        return checkpoints.damaged(checkpoint, table.name, context.pipeline.name,
                                   f"Spark cannot read it ({text.splitlines()[0][:200]})")
    return err


def _translate(err: Exception, context: RunContext, table: Table) -> Exception:
    """Spark and Delta errors a user can act on, as one clear message; anything else unchanged."""
    if isinstance(err, MedallionError):
        return err
    text = str(err)
    if any(name in text for name in CONCURRENT_WRITE_ERRORS):
        found = next(name for name in CONCURRENT_WRITE_ERRORS if name in text)
        return runlock.ConcurrentRunError(
            f"{context.pipeline.name}.{table.name}: another run wrote the table at the same time ({found}); Delta "
            "kept the table consistent and this run stopped. Run one pipeline run at a time, then run again."
        )
    if table.is_streaming:
        return _checkpoint_error(err, context.location(table).checkpoint, context, table)
    return err


def _record_crashed_run(context: RunContext, lock: runlock.RunLock) -> None:
    """A stale lock means a run ended without finishing (killed, crashed): say so in the event log."""
    crashed = lock.replaced
    if crashed is None:
        return
    row = TableRun(crashed.run_id, context.pipeline.name, "*", "-", context.mode, started=crashed.started,
                   status="crashed", error=f"process {crashed.pid} ended without finishing; run {context.run_id} "
                   "resumed from the checkpoints")
    eventlog.record(context.spark, context.runtime.system_path("event_log"), [row])
    context.progress(f"[{context.pipeline.name}] the previous run {crashed.run_id} crashed; resuming from its checkpoints")


def _count_dropped_by_state(progress: list[dict], stats: TableRun) -> None:
    """Rows a stateful operator dropped on purpose: too late for the watermark, or a streaming dedupe's
    duplicates. They never reach the batch, so the query's progress is where they are counted."""
    for update in progress:
        for operator in update.get("stateOperators", []):
            stats.add_dropped_before_batch(
                late=int(operator.get("numRowsDroppedByWatermark", 0) or 0),
                duplicates=int((operator.get("customMetrics") or {}).get("numDroppedDuplicateRows", 0) or 0))


def _read_table(context: RunContext, name: str) -> DataFrame:
    upstream = context.pipeline.get(name)
    return context.spark.read.format("delta").load(context.location(upstream).path)


def _reads_files(table: Table) -> bool:
    return any(isinstance(read, FileSource) for read in table.inputs.values())


CONCURRENT_WRITE_ERRORS = (
    "ConcurrentAppendException", "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException", "MetadataChangedException", "ProtocolChangedException",
    "ConcurrentWriteException", "Multiple streaming queries are concurrently using",
)


def _safe_message(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0][:500] if str(err) else ''}"
