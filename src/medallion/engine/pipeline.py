"""A pipeline run, once: every selected table in dependency order, each skipped when nothing it reads
changed, under the pipeline's run lock; the run's event-log rows are written in one commit at its end.
A table with retry policies first releases the quarantined rows whose reference arrived (engine.requeue)."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import functions as F

from medallion import io
from medallion.declare.pipeline import Pipeline, get_pipeline
from medallion.declare.tables import FileSource, KafkaSource, Layer, Model, Table
from medallion.engine import changes, checkpoints, eventlog, hooks, last_runs, requeue, runlock
from medallion.engine.context import Progress, RunContext, print_progress
from medallion.engine.eventlog import TableRun
from medallion.engine.setup import ensure_tables
from medallion.engine.table import run_table
from medallion.platform import layout
from medallion.platform.runtime import Runtime
from medallion.sources.files import require_folder
from medallion.sources.kafka import require_reachable, require_topics


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
    finished: list[TableRun] = []
    context = RunContext(runtime, get_pipeline(pipeline_name), progress=progress, finished=finished)
    selected = select(context.pipeline, layers, tables)
    changes.look_up_versions(context, [t.name for t in context.pipeline.ordered()])
    preflight(context, selected)
    history = unloaded_history(context, selected)  # only once the selection passed its checks: it lands files
    if history:
        preflight(context, history)
        chosen = {t.name for t in selected + history}
        selected = [t for t in context.pipeline.ordered() if t.name in chosen]
    event_log = runtime.system_path("event_log")
    last_runs_file = layout.last_runs(runtime.settings.root, pipeline_name)
    previous: dict[str, eventlog.RecordedRun] | None = None  # what each table's last run consumed
    with runlock.hold(runtime.settings, pipeline_name, context.run_id) as lock:
        try:
            context.versions.clear()  # looked up again under the lock: another run may have written since
            names = [t.name for t in context.pipeline.ordered()]
            log_version = changes.look_up_versions(context, names, also=[event_log])[event_log]
            existing = {t.name for t in context.pipeline.ordered() if changes.version(context, t.name) >= 0}
            if ensure_tables(runtime, context.pipeline, existing):
                context.versions.clear()
            record_crashed_run(context, lock)
            previous = last_runs.read(context.spark, last_runs_file, event_log, log_version, pipeline_name)
            trained = False
            for table in selected:
                if not trained and reads_a_model(table):  # train (if anything changed) before scoring
                    hooks.train(runtime, context.pipeline)
                    trained = True
                    if ensure_tables(runtime, context.pipeline):  # tables that waited for a trained model
                        context.versions.clear()
                if table.retries:  # quarantined rows whose reference arrived since go in first
                    released = requeue.release(context, table)
                    if released is not None and released.rows_in:  # a row only when something was released
                        finished.append(released)
                run_table(context, table, previous.get(table.name))
        finally:
            committed = eventlog.record(context.spark, event_log, finished)
            if committed is not None and previous is not None:  # for the next run: see last_runs
                last_runs.write(context.spark, last_runs_file, committed, previous, finished)
    return finished


def reads_a_model(table: Table) -> bool:
    return any(isinstance(read, Model) for read in table.inputs.values())


def preflight(context: RunContext, selected: list[Table], require_landing: bool = True) -> None:
    """Stop with one clear message, before any table changes, when a landing folder is missing (a run
    once; a stream waits for its folder), the Kafka broker is not reachable, a checkpoint is damaged, or a
    table holding rows lost its checkpoint."""
    topics = [read for table in selected for read in table.inputs.values() if isinstance(read, KafkaSource)]
    if topics:
        require_reachable(context.runtime.settings)
        require_topics(context.runtime.settings, topics, context.runtime.settings.pipeline(context.pipeline.name))
    for table in selected:
        for read in table.inputs.values():
            if isinstance(read, FileSource) and (require_landing or not read.stream):
                require_folder(context.runtime.settings, read, context.pipeline.name)
        if table.is_streaming:
            checkpoint = context.location(table).checkpoint
            checkpoints.verify(checkpoint, table.name, context.pipeline.name)
            if checkpoints.has_progress(checkpoint) is False and _holds_rows(context, table):
                raise checkpoints.lost(checkpoint, table.name, context.pipeline.name)


def _holds_rows(context: RunContext, table: Table) -> bool:
    """A table whose stream wrote rows before: to the table (version 0 is the empty table setup creates), or
    only to the quarantine (every row so far broke a rule), whose appends are idempotent by the same batch ids."""
    spark = context.spark
    if (
        changes.version(context, table.name) > 0
        and spark.read.format("delta").load(context.location(table).path).limit(1).count()
    ):
        return True
    quarantine = context.runtime.quarantine_path(context.pipeline.name)
    if not io.table_exists(spark, quarantine):
        return False
    return bool(spark.read.format("delta").load(quarantine).where(F.col("table") == table.name).limit(1).count())


def select(pipeline: Pipeline, layers, tables) -> list[Table]:
    layer_set = set(layers) if layers else None
    names = set(tables) if tables else None
    for name in names or ():
        pipeline.get(name)
    return [
        t
        for t in pipeline.ordered()
        if (layer_set is None or t.layer in layer_set)
        and (names is None or t.name in names)
        and (names is not None or not t.history)
    ]


def unloaded_history(context: RunContext, selected: list[Table]) -> list[Table]:
    """The history tables ``selected`` read, directly or through other tables, that were never
    loaded (missing, or still the empty table setup creates: a first run without the history loader, or a
    run after ``medallion reset``). Their reference files are landed by the pipeline's ``load_history``
    hook first, so a plain run rebuilds every table instead of joining with an empty reference table."""
    pipeline = context.pipeline
    needed, pending = set(), [t.name for t in selected]
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(pipeline.get(name).upstream)
    chosen = {t.name for t in selected}
    unloaded = [
        t
        for t in pipeline.ordered()
        if t.history and t.name in needed and t.name not in chosen and changes.version(context, t.name) <= 0
    ]
    if unloaded:
        context.progress(
            f"[{pipeline.name}] {', '.join(t.name for t in unloaded)} never loaded: landing the "
            "reference data and loading it first"
        )
        hooks.land_history(context.runtime, pipeline)
    return unloaded


def record_crashed_run(context: RunContext, lock: runlock.RunLock) -> None:
    """A stale lock means a run ended without finishing (killed, crashed): say so in the event log."""
    crashed = lock.replaced
    if crashed is None:
        return
    row = TableRun(
        crashed.run_id,
        context.pipeline.name,
        "*",
        "-",
        context.mode,
        started=crashed.started,
        status="crashed",
        error=f"process {crashed.pid} ended without finishing; run {context.run_id} resumed from the checkpoints",
    )
    eventlog.record(context.spark, context.runtime.system_path("event_log"), [row])
    context.progress(
        f"[{context.pipeline.name}] the previous run {crashed.run_id} crashed; resuming from its checkpoints"
    )
