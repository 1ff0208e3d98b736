"""Stream mode: every streaming table of a pipeline as a query with a ``processingTime`` trigger, running
until stopped, and its materialized views refreshed on the same interval in a background thread, which also
releases the quarantined rows whose late reference arrived (see requeue.py) as a run once does.

Each micro-batch with rows records its own event-log row from inside the batch (see batch.py). Rows a
stateful operator dropped (late, deduplicated) are known only from the query's progress: they are logged
by the driver when the stream stops. Landed files a stream will never read trigger no batch: the driver
reports them when the run starts and at every trigger interval (see unread_watch.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from medallion import io
from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import JdbcSource, Layer, Read, Table
from medallion.engine import batch, changes, checkpoints, eventlog, inputs, requeue, runlock
from medallion.engine.context import Progress, RunContext, print_progress, table_of_query
from medallion.engine.eventlog import RecordedRun, TableRun
from medallion.engine.failures import checkpoint_error, safe_message
from medallion.engine.pipeline import preflight, record_crashed_run, run, select, unloaded_history
from medallion.engine.setup import ensure_tables
from medallion.engine.table import batches_run, dropped_by_state, job, run_table
from medallion.engine.unread_watch import UnreadFilesWatch
from medallion.errors import MedallionError
from medallion.platform.runtime import Runtime


def start_streams(
    runtime: Runtime,
    pipeline_name: str,
    layers: Iterable[Layer] | None = None,
    progress: Progress = print_progress,
    refresh_views: bool = True,
) -> StreamingRun:
    """Start every streaming table of the chosen layers; returns a handle to wait on and stop."""
    context = RunContext(runtime, get_pipeline(pipeline_name), mode="stream", progress=progress)
    selected = select(context.pipeline, layers, None)
    preflight(context, selected, require_landing=False)
    unloaded = unloaded_history(context, selected)
    if unloaded:  # the streams must not start joining with an empty reference table
        run(runtime, pipeline_name, tables=[t.name for t in unloaded], progress=progress)
        context.versions.clear()
    lock = runlock.acquire(runtime.settings, pipeline_name, context.run_id)
    queries: list = []
    watch = UnreadFilesWatch(context, selected)
    try:
        ensure_tables(runtime, context.pipeline)
        record_crashed_run(context, lock)
        for table in selected:
            if table.is_streaming:
                queries.append(_start_query(context, table, runtime.settings.trigger_interval))
        watch.check()  # files already landed that the streams will never read: said as the run starts
    except BaseException:
        for query in queries:
            query.stop()
        lock.release()
        raise
    handle = StreamingRun(context, queries, [t for t in selected if not t.is_streaming], lock=lock, watch=watch)
    handle.start_background(refresh_views)
    return handle


def _start_query(context: RunContext, table: Table, interval: str):
    location = context.location(table)
    checkpoints.verify(location.checkpoint, table.name, context.pipeline.name)
    built = inputs.build(context, table)
    event_log = context.runtime.system_path("event_log")
    try:
        return (
            built.writeStream.foreachBatch(batch.for_each_batch(job(context, table, "stream", event_log, query=built)))
            .option("checkpointLocation", location.checkpoint)
            .queryName(context.query_name(table))
            .trigger(processingTime=interval)
            .start()
        )
    except Exception as err:
        raise checkpoint_error(err, location.checkpoint, context, table) from None


# A view's relational sources are looked at once a minute at most, not at every trigger interval: a look at a
# database is a query (a landing folder's listing and a model alias are looked at every interval).
SOURCE_LOOK_SECONDS = 60.0


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
    sources_seen: dict[str, tuple[float, tuple]] = field(default_factory=dict)  # view → (when, its other inputs)
    changing: set[str] = field(default_factory=set)  # views whose every look is a change (see _other_inputs)
    last_refresh: dict[str, RecordedRun] = field(default_factory=dict)  # view → what its last refresh consumed
    released_at: dict[str, tuple] = field(default_factory=dict)  # retrying table → what its last release saw
    lock: runlock.RunLock | None = None
    watch: UnreadFilesWatch | None = None  # landed files the streams will never read
    # query name → (the last batch counted, rows its stateful operators dropped as late, as duplicates), added up
    # every trigger interval: a query keeps its last 100 progress updates only
    dropped: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    query_failures: dict[str, MedallionError] = field(default_factory=dict)  # query name → its failure
    raised: set[int] = field(default_factory=set)  # ids of the failures raised (stop raises only the others)

    def start_background(self, refresh_views: bool = True) -> None:
        """At every trigger interval, in a background thread: gather the queries' progress, refresh the views
        (when asked), release quarantined rows whose reference arrived and check the landing folders for files
        the streams will never read."""
        tasks: list[Callable[[], object]] = [self.gather_progress]
        if refresh_views and self.views:
            tasks.append(self.refresh_views)
        if self.retrying():
            tasks.append(self.release_waiting)
        if self.watch and self.watch.tables:
            tasks.append(self.watch.check)
        interval = seconds(self.context.runtime.settings.trigger_interval)

        def every_interval() -> None:
            while not self.stop_event.wait(interval):
                try:
                    for task in tasks:
                        task()
                except BaseException as err:  # surfaced by await_idle / the caller
                    self.errors.append(err)
                    return

        self.refresher = threading.Thread(
            target=every_interval, name=f"{self.context.pipeline.name}-every-trigger", daemon=True
        )
        self.refresher.start()

    def gather_progress(self) -> None:
        """Add up the rows each query's stateful operators dropped in the batches it ran since the last call."""
        for query in self.queries:
            counted, late, duplicates = self.dropped.get(query.name, (-1, 0, 0))
            for batch_id, update in sorted(batches_run(query.recentProgress).items()):
                if batch_id > counted:
                    more_late, more_duplicates = dropped_by_state(update)
                    counted, late, duplicates = batch_id, late + more_late, duplicates + more_duplicates
            self.dropped[query.name] = (counted, late, duplicates)

    def stop(self) -> None:
        """Stop the refresher and every query, log the rows their stateful operators dropped and release the
        run lock: each step whatever an earlier one raised. Then raise what went wrong: first a failure no
        ``wait`` or ``await_idle`` raised yet (a stream or refresh that failed after they last looked: most
        often the cause of what follows), else the first step that failed."""
        self.stop_event.set()
        steps: list[Callable[[], object]] = []
        if self.refresher:
            steps.append(self.refresher.join)
        steps += [query.stop for query in self.queries]
        steps += [self.gather_progress, self._log_dropped_rows]
        failed = []
        try:
            for step in steps:
                try:
                    step()
                except Exception as err:
                    failed.append(err)
        finally:
            if self.lock:
                self.lock.release()
        unraised = [failure for failure in self._failures() if id(failure) not in self.raised]
        if unraised:
            self.raised.add(id(unraised[0]))
            raise unraised[0]
        if failed:
            raise failed[0]

    def _log_dropped_rows(self) -> None:
        """Rows the queries' stateful operators dropped over the run, a row per table that dropped any."""
        rows = []
        for query in self.queries:
            _, late, duplicates = self.dropped.get(query.name, (-1, 0, 0))
            if not late and not duplicates:
                continue
            table = self.context.pipeline.get(table_of_query(query))
            counts = TableRun(
                self.context.run_id, self.context.pipeline.name, table.name, table.layer.value, "stream", status="ok"
            )
            counts.add_dropped_before_batch(late=late, duplicates=duplicates)
            counts.rows_read = counts.rows_in
            rows.append(counts)
        if rows:
            eventlog.record(self.context.spark, self.context.runtime.system_path("event_log"), rows)

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
        once on what its upstream committed), views whose every look is a change aside (see
        :meth:`_table_versions`); then the views are refreshed one last time, and when that wrote rows a
        stream reads, the wait goes on.
        """
        interval = seconds(self.context.runtime.settings.trigger_interval)
        deadline = time.time() + timeout
        last_versions, stable_since = None, time.time()
        while time.time() < deadline:
            self._raise_failures()
            versions = self._table_versions()
            if versions != last_versions or not self.idle():
                last_versions, stable_since = versions, time.time()
            elif time.time() - stable_since >= max(4 * interval, 4):
                written = self.refresh_views(look_now=True)
                if not self._streams_read(written) and self._table_versions() == versions:
                    return
                last_versions = None  # what the refresh wrote is streamed on: wait for it
            time.sleep(interval / 2)
        raise TimeoutError(f"streams of {self.context.pipeline.name} did not become idle within {timeout:.0f} s")

    def _streams_read(self, views: Iterable[str]) -> bool:
        """Whether a streaming table reads one of ``views``."""
        named = set(views)
        return any(t.is_streaming and named.intersection(t.upstream) for t in self.context.pipeline.ordered())

    def _table_versions(self) -> tuple:
        """The versions of the pipeline's tables but the views refreshed at every look and the views that read
        them: those change once a minute whatever arrives, and idle means that nothing else does. A streaming
        table reading them stays: it has caught up when its version stands still."""
        spark = self.context.spark
        moving = set(self.changing)
        for table in self.context.pipeline.ordered():
            if not table.is_streaming and moving.intersection(table.upstream):
                moving.add(table.name)
        steady = [t for t in self.context.pipeline.ordered() if t.name not in moving]
        return tuple(io.table_version(spark, self.context.location(t).path) for t in steady)

    def refresh_views(self, look_now: bool = False) -> list[str]:
        """Recompute each view whose inputs changed since its last refresh (in dependency order); returns the
        views that wrote rows. ``look_now``: look at the inputs that are not tables however recently they were
        looked at (the last refresh), and let a look that fails raise."""
        written = []
        with self.refresh_lock:  # the background refresher and a waiting caller never merge at once
            for view in self.views:
                versions = self._input_versions(view, look_now)
                if self.refreshed_at.get(view.name) != versions:
                    self.context.versions.clear()
                    run = run_table(self.context, view, self.last_refresh.get(view.name))
                    if run.fingerprint is not None:  # a view reading added rows: where its next refresh starts
                        self.last_refresh[view.name] = RecordedRun(run.fingerprint)
                    self.refreshed_at[view.name] = versions
                    if run.rows_written:
                        written.append(view.name)
        return written

    def retrying(self) -> list[Table]:
        """The tables of this stream run with a retry policy (rows waiting in the quarantine for a reference)."""
        running = {table_of_query(query) for query in self.queries} | {view.name for view in self.views}
        return [table for table in self.context.pipeline.ordered() if table.retries and table.name in running]

    def release_waiting(self) -> None:
        """Release each retrying table's quarantined rows whose reference arrived, when the quarantine or a
        referenced table changed since the last look (as a run once does before the table runs; ``medallion
        requeue`` waits for the run lock the streams hold). A release is logged in the event log.

        The rows are written under the write lock, as a batch is, and not while the table's own query is
        running a trigger; a release that still meets a concurrent write of the table (a batch that runs in
        the server's process, over Spark Connect) is tried again at the next interval."""
        with self.refresh_lock:
            for table in self.retrying():
                seen = self._retry_versions(table)
                if self.released_at.get(table.name) == seen or self._running_a_trigger(table):
                    continue
                try:
                    released = requeue.release(self.context, table, write_lock=batch.WRITE_LOCK)
                except Exception as err:
                    if "Concurrent" in type(err).__name__ or "DELTA_CONCURRENT" in str(err):
                        continue  # a write of the table won: a release is idempotent, the next one finishes it
                    raise
                if released is not None and released.rows_in:
                    eventlog.record(self.context.spark, self.context.runtime.system_path("event_log"), [released])
                # What the release saw: a reference committed meanwhile is looked at again next time (the
                # release's own writes make one more look, which finds nothing ready).
                self.released_at[table.name] = seen

    def _running_a_trigger(self, table: Table) -> bool:
        return any(table_of_query(query) == table.name and query.status["isTriggerActive"] for query in self.queries)

    def _retry_versions(self, table: Table) -> tuple:
        """What a release of ``table`` reads: the quarantine's version and those of the referenced tables."""
        spark, pipeline = self.context.spark, self.context.pipeline
        referenced = sorted({policy.table for policy in table.retries})
        return (
            io.table_version(spark, self.context.runtime.quarantine_path(pipeline.name)),
            *[io.table_version(spark, self.context.location(pipeline.get(name)).path) for name in referenced],
        )

    def _input_versions(self, view: Table, look_now: bool = False) -> tuple:
        """What a refresh of ``view`` reads: its input tables' versions, and what its other inputs held when last
        looked at (see :meth:`_other_inputs`)."""
        pipeline = self.context.pipeline
        tables = tuple(
            io.table_version(self.context.spark, self.context.location(pipeline.get(name)).path)
            for name in view.upstream
        )
        return tables + self._other_inputs(view, look_now)

    def _other_inputs(self, view: Table, look_now: bool) -> tuple:
        """What the view's inputs that are not tables hold: a landing folder's listing and the model version an
        alias points at (a model promoted while the streams run rescores the view) at every interval; a
        relational source's change marker, a query, once every SOURCE_LOOK_SECONDS. An input that cannot tell
        (a relational source read with a lookback), or a view declared ``always_run``, counts as changed once
        every SOURCE_LOOK_SECONDS. A look that fails (a database briefly away) keeps what the last one saw,
        and is made again at the next interval."""
        reads = [read for read in view.inputs.values() if not isinstance(read, Read)]
        if not reads and not view.always_run:
            return ()
        looked, seen = self.sources_seen.get(view.name, (None, ()))
        due = look_now or looked is None or time.time() - looked >= SOURCE_LOOK_SECONDS
        try:
            found = [
                seen[index]
                if isinstance(read, JdbcSource) and not due and index < len(seen)
                else changes.source_marker(self.context, read)
                for index, read in enumerate(reads)
            ]
        except Exception as err:
            if look_now:  # the last look of a run: it must see what is there
                raise
            self.context.say(view, f": its inputs could not be looked at ({safe_message(err)}); again next interval")
            return seen
        if view.always_run or changes.UNKNOWN in found:  # cannot tell what changed: a look is a change
            found.append(time.time() if due or len(seen) <= len(reads) else seen[len(reads)])
            self.changing.add(view.name)
        self.sources_seen[view.name] = (time.time() if due or looked is None else looked, tuple(found))
        return tuple(found)

    def _raise_failures(self) -> None:
        failures = self._failures()
        if failures:
            self.raised.add(id(failures[0]))
            raise failures[0]

    def _failures(self) -> list[BaseException]:
        """A background task's errors, then a failed stream's (one error object per query, so it is known once
        raised)."""
        for query in self.queries:
            failure = query.exception() if query.name not in self.query_failures else None
            if failure is not None:
                self.query_failures[query.name] = MedallionError(f"{query.name} failed: {failure}")
        return [*self.errors, *self.query_failures.values()]


def seconds(interval: str) -> float:
    amount, unit = interval.split()
    return float(amount) * {"second": 1, "seconds": 1, "minute": 60, "minutes": 60}[unit]
