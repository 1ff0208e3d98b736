"""Table declarations: what a table is, where it reads from, how it is written and checked.

A declaration is data plus one **pure** build function. The function receives its inputs as DataFrames
(streaming or static, as declared) and returns a DataFrame; it never writes, collects or counts, so a
unit test can call it with tiny frames. Everything that touches storage lives in ``medallion.io`` and
``medallion.engine.runner``.

The vocabulary follows Spark Declarative Pipelines: a table fed by a ``stream`` input is a streaming
table (processed incrementally); a table whose inputs are all ``snapshot`` reads is a materialized view
(recomputed and merged on every run). ``expect`` / ``expect_or_drop`` / ``expect_or_fail`` are its
expectations. Columns a build names ``_…`` are working columns for its expectations: quarantine records
keep them (except a table's that declares personal data: they may hold it in clear), the table does not.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from medallion.declare.code import code_digest


class Layer(str, Enum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def rank(self) -> int:
        return list(Layer).index(self)


# --------------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Read:
    """One input of a build function.

    ``table`` names another declared table of the pipeline. ``stream=True`` reads only what is new since
    the last run (a Delta streaming read with a checkpoint); otherwise the current snapshot is read.
    ``watermark`` is ``(event_time_column, delay)``, needed by stream-stream joins and aggregations.
    ``partition`` names the one partition of the table that the build reads (partition column → value,
    e.g. one topic of a multiplexed bronze table): the engine reads only those rows, and a table whose
    partition did not change is skipped even when others did (see engine.changes).
    ``added=True`` (a materialized view's input, see :func:`added`) reads the rows added since the view's
    last refresh.
    """

    table: str
    stream: bool = False
    watermark: tuple[str, str] | None = None
    partition: tuple[tuple[str, str], ...] = ()
    added: bool = False


def stream(table: str, watermark: tuple[str, str] | None = None, partition: Mapping[str, object] | None = None) -> Read:
    return Read(table, stream=True, watermark=watermark, partition=partition_values(partition))


def partition_values(partition: Mapping[str, object] | None) -> tuple[tuple[str, str], ...]:
    """Column → value pairs as the Delta log records partition values, as text: ``1`` and ``"1"`` alike,
    ``True`` as ``true``, a date as ``2024-01-31``. The engine compares them with the log's text to tell
    whether a commit touched the partition, so a value whose text depends on the writer (a float, a
    timestamp) or that the log does not record as text (NULL) is refused here rather than never matched."""
    return tuple(sorted((column, _as_logged(column, value)) for column, value in (partition or {}).items()))


def _as_logged(column: str, value: object) -> str:
    if isinstance(value, bool):  # before int: a bool is an int to Python
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    raise ValueError(
        f"partition {column}={value!r}: name a partition by a string, integer, boolean or date value "
        "(partition a table to be read this way by such a column)"
    )


def snapshot(table: str) -> Read:
    return Read(table, stream=False)


def added(table: str) -> Read:
    """For a materialized view: the rows added to ``table`` since the view's last refresh (every row on its
    first, or when the engine cannot tell). With snapshots of the same inputs, a view whose result only grows
    (an insert-only join) builds its new rows from each input's new rows against the others' snapshots,
    instead of joining whole tables on every refresh. They are the rows of the files the commits since then
    added, so an update or a compaction of the input hands over the rows it rewrote as well: the view's
    write must be keyed, so rows it already holds change nothing."""
    return Read(table, added=True)


@dataclass(frozen=True)
class FileSource:
    """Files arriving in a landing folder (Auto Loader on Databricks, the file stream source locally).

    ``schema`` is an explicit DDL string: sources are never inferred, so a drifting file cannot change a
    table silently. Rows that do not parse keep their raw text in ``_corrupt_record`` and are quarantined.

    Schema drift policy (see ``medallion.sources.files``):
    ``on_new_column``: ``rescue`` keeps fields the schema does not declare in bronze's ``_rescued_data``
    (JSON) and records them as drift in the event log; ``fail`` stops the run, nothing of the batch written.
    ``on_type_change``: ``quarantine`` sends a record whose value does not fit its declared type to the
    quarantine with its raw text; ``fail`` stops the run. Never is a value cast to NULL.

    A CSV file is read by position; its header must be ``header`` (the names as the files write them, one per
    declared column) or, when that is not given, the declared column names, case and spaces aside. The rows of
    a file with another header are quarantined (rule ``declared_header``; see ``medallion.engine.csv_headers``).
    """

    folder: str
    format: str  # csv | json | text
    schema: str
    options: Mapping[str, str] = field(default_factory=dict)
    name_glob: str | None = None
    stream: bool = True
    on_new_column: str = "rescue"  # rescue | fail
    on_type_change: str = "quarantine"  # quarantine | fail
    header: tuple[str, ...] | None = None  # a CSV file's header as written, when not the declared column names

    def __post_init__(self) -> None:
        if self.on_new_column not in ("rescue", "fail"):
            raise ValueError(
                f"FileSource {self.folder}: on_new_column must be rescue or fail, got {self.on_new_column!r}"
            )
        if self.header is not None and self.format != "csv":
            raise ValueError(f"FileSource {self.folder}: header applies to CSV files only, not {self.format}")
        if self.on_type_change not in ("quarantine", "fail"):
            raise ValueError(
                f"FileSource {self.folder}: on_type_change must be quarantine or fail, got {self.on_type_change!r}"
            )


@dataclass(frozen=True)
class JdbcSource:
    """A table of a relational database (``databases.<database>`` in the settings), copied incrementally.

    Each run copies only the rows whose ``change_column`` is later than the high-water mark: the greatest
    ``change_column`` already in the table that reads this source, so the mark commits with the rows in the
    same Delta transaction and a failed run leaves it where it was (see ``medallion.sources.jdbc``). The
    reading table must therefore keep ``change_column`` as it came.

    ``schema`` is an explicit DDL string (like ``FileSource``): the columns to copy and their types, so a
    change in the database cannot change a table silently. Where the changed rows exceed
    ``rows_per_partition``, they are read in parallel: up to ``num_partitions`` range queries on the numeric,
    date or timestamp ``partition_column``, bounded by its minimum and maximum among the changed rows.

    Late commits, updates and deletes (see ``medallion.sources.jdbc`` for the guarantee and its limits):

    - ``lookback``: how far behind the mark each run reads again (``"15 minutes"``, ``"2 hours"``; a plain
      number for a numeric change column), so a row committed late with a change value older than the mark
      is still copied. Rows already copied (same ``keys`` and change value) are not copied twice.
    - ``keys``: the row's key in the database; needed by ``lookback`` and ``deletes``.
    - ``deletes``: a table of the database that records deleted rows (their ``keys`` and a ``change_column``
      set when deleted, e.g. by a DELETE trigger). Its rows are copied like changes, with the other columns
      NULL and the extra column ``deleted`` true (false on every other row).
    """

    table: str
    schema: str
    change_column: str
    database: str = "operational"
    partition_column: str | None = None
    num_partitions: int = 4
    rows_per_partition: int = 100_000
    fetch_size: int = 10_000
    keys: tuple[str, ...] = ()
    lookback: str | None = None
    deletes: str | None = None

    def __post_init__(self) -> None:
        if self.num_partitions < 1 or self.rows_per_partition < 1:
            raise ValueError(f"JdbcSource {self.table}: num_partitions and rows_per_partition must be positive")
        if (self.lookback or self.deletes) and not self.keys:
            raise ValueError(f"JdbcSource {self.table}: lookback and deletes need the row's keys (keys=...)")
        if self.lookback is not None:
            lookback_amount(self.lookback)  # fails early on a malformed window


LOOKBACK_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def lookback_amount(lookback: str) -> tuple[float, bool]:
    """``(amount, is_time)``: seconds for ``"<n> seconds|minutes|hours|days"``, or a plain number."""
    words = str(lookback).strip().lower().split()
    try:
        amount = float(words[0])
    except (IndexError, ValueError):
        amount = -1.0
    unit = words[1].rstrip("s") if len(words) == 2 else None
    if amount < 0 or len(words) > 2 or (unit is not None and unit not in LOOKBACK_UNITS):
        raise ValueError(
            f"lookback {lookback!r}: write '<n> seconds|minutes|hours|days', or a number for a numeric change column"
        )
    return (amount * LOOKBACK_UNITS[unit], True) if unit else (amount, False)


@dataclass(frozen=True)
class Model:
    """A version of a registered model, found by its alias in the model registry (MLflow: a local store, or
    the workspace's Unity Catalog registry on Databricks). The build receives a
    :class:`medallion.sources.models.ModelVersion`: the loaded Spark ML model and its version number, so
    every row it scores can record the version. ``name`` is the model's short name: the registry's full
    name (``<catalog>.<pipeline>_gold.<name>`` in Unity Catalog) comes from the runtime. A table that reads
    a model re-runs when the alias moves to another version."""

    name: str
    alias: str = "champion"


def model(name: str, alias: str = "champion") -> Model:
    return Model(name, alias)


@dataclass(frozen=True)
class KafkaSource:
    """A Kafka topic: the project's broker locally, Event Hubs' Kafka endpoint on Databricks.

    ``topic`` is the pipeline's name for it; the broker's topic name is ``topics.<topic>`` of the
    pipeline's settings when set (so each environment may name its event hubs), else ``topic`` itself.
    Bootstrap servers and security come from ``kafka`` in ``conf/<env>.yml`` and the secret store (see
    ``medallion.sources.kafka``). The frame has Kafka's own columns: ``key`` and ``value`` (binary),
    ``topic``, ``partition``, ``offset``, ``timestamp``, ``timestampType``. It is always read as a stream:
    the offsets live in the reading table's checkpoint, so a run (``availableNow``) or a restart reads
    each message once.
    """

    topic: str
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int | None = None
    stream: bool = True

    def __post_init__(self) -> None:
        if not self.stream:
            raise ValueError(
                f"KafkaSource {self.topic}: a topic is read as a stream (its offsets live in a checkpoint)"
            )


# ------------------------------------------------------------------------------------------ write modes
@dataclass(frozen=True)
class Append:
    """Every new row is appended; replays of a batch are skipped by Delta's idempotent-writer txn ids."""


@dataclass(frozen=True)
class InsertOnly:
    """Insert rows whose key is new; rows whose key exists are left alone (first write wins)."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class UpdateIfNewer:
    """Insert new keys; for an existing key update ``columns`` only when ``newer_than`` is later (a stored
    NULL counts as older than any value)."""

    keys: tuple[str, ...]
    columns: tuple[str, ...]
    newer_than: str


@dataclass(frozen=True)
class CdcLatest:
    """Change data capture, latest wins: per key the row with the greatest ``sequence_by`` (compared in
    order, later columns break ties) is kept; an older change never overwrites a newer row."""

    keys: tuple[str, ...]
    sequence_by: tuple[str, ...]


@dataclass(frozen=True)
class Scd1:
    """Upsert on keys: insert new keys, overwrite changed rows, leave identical rows untouched.

    ``compare`` names the columns whose change makes a row changed (default: every non-key column); the
    others follow them. Scored rows compare on ``model_version`` only, so their ``scored_at`` is rewritten
    when a new model rescores a row and never when the same model scores it again."""

    keys: tuple[str, ...]
    compare: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scd2:
    """Slowly changing dimension, type 2: every change of a key is a row, valid from its ``sequence_by``
    value until the next change of the key (``valid_from``, ``valid_to``, ``is_current`` are added).

    A row matching ``delete_when`` (SQL) closes the key's row before it and adds none (a delete of a key
    with no earlier version has nothing to close and is not kept: the table stores versions only). A change that
    arrives late lands in its place in the history and re-closes its neighbours: the history of every key a
    batch touches is recomputed from its stored rows plus the batch, and merged on (keys, valid_from).
    A change repeated with the same key and sequence is the same change (the stored one is kept)."""

    keys: tuple[str, ...]
    sequence_by: str
    delete_when: str | None = None


@dataclass(frozen=True)
class Overwrite:
    """Replace the whole table (small lookups loaded once)."""


@dataclass(frozen=True)
class SurrogateKey:
    """A dimension: insert-only on the natural ``keys``; each new natural key gets the next integer
    ``surrogate_key`` (the table's greatest key + the row number of the new key ordered by the natural
    keys). A value keeps its key across runs and new values never reuse one. The build function returns
    the ``surrogate_key`` column (any value, e.g. a typed NULL) so that the table's schema includes it."""

    keys: tuple[str, ...]
    surrogate_key: str


WriteMode = Append | InsertOnly | UpdateIfNewer | CdcLatest | Scd1 | Scd2 | Overwrite | SurrogateKey


# ---------------------------------------------------------------------------------------- expectations
@dataclass(frozen=True)
class Expectation:
    """A named SQL boolean constraint. ``action``: warn (count only), drop (quarantine), fail (stop)."""

    name: str
    condition: str
    action: str = "warn"

    def __post_init__(self) -> None:
        if self.action not in ("warn", "drop", "fail"):
            raise ValueError(f"expectation {self.name}: action must be warn, drop or fail")


def expect(name: str, condition: str) -> Expectation:
    return Expectation(name, condition, "warn")


def expect_or_drop(name: str, condition: str) -> Expectation:
    return Expectation(name, condition, "drop")


def expect_or_fail(name: str, condition: str) -> Expectation:
    return Expectation(name, condition, "fail")


# ------------------------------------------------------------------------------------------ table checks
@dataclass(frozen=True)
class Check:
    """A table-level check, evaluated after a run that wrote rows (or found the table written since its checks
    last passed: by a run whose check failed, by another writer) and recorded in the event log: ``unique``
    keys (for the keys the run wrote: another key cannot have become a duplicate), ``references`` (every
    non-NULL key exists in another table of the pipeline) or ``not_empty``. ``action``: warn (record the
    violations) or fail (the run stops there, before any downstream table reads the table)."""

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    table: str | None = None
    to_columns: tuple[str, ...] = ()
    action: str = "fail"

    def __post_init__(self) -> None:
        if self.kind not in ("unique", "references", "not_empty"):
            raise ValueError(f"check {self.name}: kind must be unique, references or not_empty")
        if self.action not in ("warn", "fail"):
            raise ValueError(f"check {self.name}: action must be warn or fail")


def unique(*columns: str, action: str = "fail", name: str | None = None) -> Check:
    return Check(name or f"unique({', '.join(columns)})", "unique", tuple(columns), action=action)


def references(
    table: str, *columns: str, to: tuple[str, ...] | None = None, action: str = "warn", name: str | None = None
) -> Check:
    target = tuple(to or columns)
    return Check(
        name or f"references {table}({', '.join(target)})", "references", tuple(columns), table, target, action
    )


def not_empty(action: str = "fail", name: str = "not_empty") -> Check:
    return Check(name, "not_empty", action=action)


# ----------------------------------------------------------------------------- late-arriving references
@dataclass(frozen=True)
class RetryWhenReferenced:
    """A retry policy for a reference rule (an ``expect_or_drop`` whose row waits for a row of another
    table, e.g. a review whose customer has no purchase yet): a row quarantined by ``rule`` (and by no rule
    without such a policy) is released into the table on a later run, or by ``medallion requeue``, once
    ``columns`` of its record match ``to_columns`` of ``table``. Released rows leave the quarantine; the
    event log counts them (mode ``requeue``). The table's write must be keyed, so a release is idempotent.
    """

    rule: str
    table: str
    columns: tuple[str, ...]
    to_columns: tuple[str, ...]


def retry_when_referenced(
    rule: str, table: str, *columns: str, to: tuple[str, ...] | None = None
) -> RetryWhenReferenced:
    return RetryWhenReferenced(rule, table, tuple(columns), tuple(to or columns))


# ------------------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class ReportChart:
    """The chart ``medallion report`` draws for a gold table, where the one chosen from its schema would
    mislead (e.g. a table of several dimensions stacked as (dimension, value) rows): ``measure`` per
    ``category`` (summed when additive, else averaged), over the rows matching ``where`` (SQL)."""

    measure: str
    category: str
    where: str | None = None
    title: str | None = None  # default: "<measure> by <category> (total|mean)"


def chart(measure: str, by: str, where: str | None = None, title: str | None = None) -> ReportChart:
    return ReportChart(measure, by, where, title)


# ------------------------------------------------------------------------------------------------ table
@dataclass(frozen=True)
class Table:
    name: str
    layer: Layer
    build: Callable[..., Any]
    write: WriteMode
    inputs: Mapping[str, Read | FileSource | JdbcSource | KafkaSource | Model] = field(default_factory=dict)
    partition_by: tuple[str, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    personal_data: Mapping[str, str] = field(default_factory=dict)
    comment: str = ""
    history: bool = False  # reference data loaded by the history loader (notebook 03), not by layer runs
    checks: tuple[Check, ...] = ()
    module: str = ""  # the module that declared it (how a pipeline's discovery finds its own tables)
    retries: tuple[RetryWhenReferenced, ...] = ()
    report_chart: ReportChart | None = None
    # Its rows depend on more than its inputs (a filter on the current date): it runs every time, never skipped
    always_run: bool = False
    # The digest of the build's code and the files beside it, as imported (medallion.declare.code)
    code: str = field(default="", init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", code_digest(self.build))
        if self.reads_added:
            if self.is_streaming or isinstance(self.write, (Append, Overwrite)):
                raise ValueError(
                    f"table {self.name}: added() inputs belong to a materialized view with a keyed write mode "
                    "(rows it already holds must change nothing), not to a streaming table or an append"
                )
        names = [e.name for e in self.expectations]
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(
                f"table {self.name}: expectation names must be unique (each is counted and quarantined by its "
                f"name): {', '.join(repeated)} declared more than once"
            )
        dropping = {e.name for e in self.expectations if e.action == "drop"}
        for retry in self.retries:
            if retry.rule not in dropping:
                raise ValueError(
                    f"table {self.name}: retry policy for '{retry.rule}', which is not one of its "
                    f"expect_or_drop rules ({', '.join(sorted(dropping)) or 'none'})"
                )
            if isinstance(self.write, (Append, Overwrite)):
                raise ValueError(
                    f"table {self.name}: a retry policy needs a keyed write mode, so a release is idempotent"
                )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the pure build function (what a unit test does with tiny frames)."""
        return self.build(*args, **kwargs)

    @property
    def is_streaming(self) -> bool:
        """A streaming table processes only new input; a materialized view recomputes from snapshots."""
        return any(getattr(read, "stream", False) for read in self.inputs.values())

    @property
    def reads_added(self) -> bool:
        """A view that reads the rows added to an input since its last refresh (see :func:`added`)."""
        return any(isinstance(read, Read) and read.added for read in self.inputs.values())

    @property
    def landing_input(self) -> FileSource | None:
        """The table's landing-file input, whose source rules its batches get (the first, if it reads more)."""
        return next((read for read in self.inputs.values() if isinstance(read, FileSource)), None)

    @property
    def upstream(self) -> tuple[str, ...]:
        return tuple(read.table for read in self.inputs.values() if isinstance(read, Read))

    def wants_conf(self) -> bool:
        return "conf" in inspect.signature(self.build).parameters


def table(
    layer: Layer,
    write: WriteMode,
    inputs: Mapping[str, Read | FileSource | JdbcSource | KafkaSource | Model] | None = None,
    *,
    name: str | None = None,
    partition_by: tuple[str, ...] = (),
    expectations: tuple[Expectation, ...] = (),
    personal_data: Mapping[str, str] | None = None,
    comment: str = "",
    history: bool = False,
    checks: tuple[Check, ...] = (),
    retries: tuple[RetryWhenReferenced, ...] = (),
    report_chart: ReportChart | None = None,
    always_run: bool = False,
) -> Callable[[Callable[..., Any]], Table]:
    """Declare the decorated pure function as the build of a table; the module-level name then holds the
    :class:`Table` (still callable like the function)."""

    def declare(build: Callable[..., Any]) -> Table:
        return Table(
            name=name or build.__name__,
            layer=layer,
            build=build,
            write=write,
            inputs=dict(inputs or {}),
            partition_by=partition_by,
            expectations=expectations,
            personal_data=dict(personal_data or {}),
            comment=comment or (build.__doc__ or "").strip().split("\n")[0],
            history=history,
            checks=tuple(checks),
            module=build.__module__,
            retries=tuple(retries),
            report_chart=report_chart,
            always_run=always_run,
        )

    return declare


@dataclass(frozen=True)
class ExpectedCount:
    """Acceptance: ``table`` (optionally filtered by a SQL ``where``) must hold exactly ``rows`` rows."""

    table: str
    rows: int
    where: str | None = None

    @property
    def label(self) -> str:
        return f"{self.table}[{self.where}]" if self.where else self.table
