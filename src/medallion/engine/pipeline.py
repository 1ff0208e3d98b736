"""A pipeline run, once: every selected table in dependency order, each skipped when nothing it reads
changed, under the pipeline's run lock; the run's event-log rows are written in one commit at its end."""
from __future__ import annotations

from typing import Iterable

from medallion.declare.pipeline import Pipeline, get_pipeline
from medallion.declare.tables import FileSource, KafkaSource, Layer, Table
from medallion.engine import changes, checkpoints, eventlog, runlock
from medallion.engine.context import Progress, RunContext, print_progress
from medallion.engine.eventlog import TableRun
from medallion.engine.setup import ensure_tables
from medallion.engine.table import run_table
from medallion.platform.runtime import Runtime
from medallion.sources.files import require_folder
from medallion.sources.kafka import require_reachable


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
    context = RunContext(runtime, get_pipeline(pipeline_name), progress=progress, finished=[])
    selected = select(context.pipeline, layers, tables)
    preflight(context, selected)
    event_log = runtime.system_path("event_log")
    with runlock.hold(runtime.settings, pipeline_name, context.run_id) as lock:
        try:
            existing = {t.name for t in context.pipeline.ordered() if changes.version(context, t.name) >= 0}
            if ensure_tables(runtime, context.pipeline, existing):
                context.versions.clear()
            record_crashed_run(context, lock)
            previous = eventlog.fingerprints(context.spark, event_log, pipeline_name)
            for table in selected:
                run_table(context, table, previous.get(table.name))
        finally:
            eventlog.record(context.spark, event_log, context.finished)
    return list(context.finished)


def preflight(context: RunContext, selected: list[Table], require_landing: bool = True) -> None:
    """Stop with one clear message, before any table changes, when a landing folder is missing (a run
    once; a stream waits for its folder), the Kafka broker is not reachable or a checkpoint is damaged."""
    if any(isinstance(read, KafkaSource) for table in selected for read in table.inputs.values()):
        require_reachable(context.runtime.settings)
    for table in selected:
        for read in table.inputs.values():
            if isinstance(read, FileSource) and (require_landing or not read.stream):
                require_folder(context.runtime.settings, read, context.pipeline.name)
        if table.is_streaming:
            checkpoints.verify(context.location(table).checkpoint, table.name, context.pipeline.name)


def select(pipeline: Pipeline, layers, tables) -> list[Table]:
    layer_set = set(layers) if layers else None
    names = set(tables) if tables else None
    for name in names or ():
        pipeline.get(name)
    return [
        t for t in pipeline.ordered()
        if (layer_set is None or t.layer in layer_set) and (names is None or t.name in names)
        and (names is not None or not t.history)
    ]


def record_crashed_run(context: RunContext, lock: runlock.RunLock) -> None:
    """A stale lock means a run ended without finishing (killed, crashed): say so in the event log."""
    crashed = lock.replaced
    if crashed is None:
        return
    row = TableRun(crashed.run_id, context.pipeline.name, "*", "-", context.mode, started=crashed.started,
                   status="crashed", error=f"process {crashed.pid} ended without finishing; run {context.run_id} "
                   "resumed from the checkpoints")
    eventlog.record(context.spark, context.runtime.system_path("event_log"), [row])
    context.progress(f"[{context.pipeline.name}] the previous run {crashed.run_id} crashed; resuming from its checkpoints")
