"""Whether a table's inputs changed since it last ran, so an unchanged table is skipped without a query.

A table's *fingerprint* digests what a run of it would consume: the Delta version of each input table
(for a read of one partition, the last version that changed it, so another topic's rows do not run it),
the listing of each landing folder (name, size, modification time of every visible file), the change
marker of each relational source (row count and greatest change-column value, one small query), the
pipeline's settings when the build reads them, the declaration itself (its build function's source and the
Python files beside it as imported, its write mode and rules), the engine's own code, for a table that
tokenises personal data a keyed digest of its key (a rotated key changes its rows) and the table's own
version. The event log keeps the
fingerprint of each successful run; the next run computes it again and skips the table when the two are equal.

When a fingerprint cannot be computed cheaply (a landing zone on cloud storage, read through Auto Loader,
or a Kafka topic, whose new messages only the query itself finds from its checkpointed offsets) the table
always runs: skipping is an optimisation, never a guess. So does a table declared ``always_run``, whose rows
depend on more than its inputs (a view keeping the last seven days by the current date): its fingerprint is
recorded (where a view reading added rows starts next time) but never taken as unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping

from medallion import delta_log, io
from medallion.declare.code import in_a_file, package_digest
from medallion.declare.tables import FileSource, JdbcSource, KafkaSource, Model, Read, Table
from medallion.engine.batch import pii_key_for
from medallion.engine.context import RunContext
from medallion.engine.landing_scan import FolderScan, scan_folder
from medallion.errors import MedallionError
from medallion.sources import models

UNKNOWN = None
SELF = "<self>"  # the view's own version in a recorded fingerprint: not a table name


def digest(parts: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def record(table: Table, parts: dict[str, object], read: Mapping[str, int] | None = None) -> str:
    """What the event log keeps of a run's fingerprint: its digest, the table's own version after the run
    (the table as its checks passed it: see :func:`checked_through`) and, for a view reading ``added`` rows,
    the versions of its input tables it ``read``, where the next refresh starts from, and the digest of the
    code and settings that computed its rows (see :func:`consumed_before`)."""
    inputs_read = read if table.reads_added and read is not None else {}
    recorded: dict[str, object] = {"digest": digest(parts), "versions": {**inputs_read, SELF: parts["self"]}}
    if table.reads_added:
        recorded["computed_by"] = computed_by(parts)
    return json.dumps(recorded, sort_keys=True)


def computed_by(parts: Mapping[str, object]) -> str:
    """The digest of what, beside its inputs' rows, decides a table's rows: its declaration and settings."""
    return digest({key: parts.get(key) for key in ("declaration", "conf", "tokens")})


def recorded_digest(recorded: str) -> str:
    """The digest of a recorded fingerprint (see :func:`record`)."""
    return json.loads(recorded)["digest"] if recorded.startswith("{") else recorded


def checked_through(recorded: str | None) -> int | None:
    """The table's own version after its last successful run, when its fingerprint recorded it (a fingerprint
    recorded before it did: None): the table as its checks last passed it."""
    if recorded is None or not recorded.startswith("{"):
        return None
    version = (json.loads(recorded).get("versions") or {}).get(SELF)
    return int(version) if version is not None else None


def consumed_before(
    recorded: str | None, own_version: int, parts: Mapping[str, object] | None
) -> dict[str, int] | None:
    """The input versions a view's last refresh consumed, when the view is still as that refresh left it
    (its own version unchanged: not reset, recreated or written by anything else since) and its rows were
    computed by the code and settings of now (``parts``, the fingerprint of now: see :func:`computed_by`);
    else None, and the view's ``added`` inputs hand over every row, so a changed build or setting recomputes
    every row, not only those added since. A view at version 0 (or none) is the empty table set-up creates,
    as after a reset: it reads every row, which costs little while its result is empty."""
    if recorded is None or not recorded.startswith("{") or own_version < 1 or parts is None:
        return None
    last = json.loads(recorded)
    if last.get("computed_by") != computed_by(parts):
        return None
    versions = last.get("versions") or {}
    return versions if versions.get(SELF) == own_version else None


def fingerprint(
    context: RunContext, table: Table, scans: Mapping[str, FolderScan | None] | None = None
) -> dict[str, object] | None:
    """What the next run of ``table`` would consume (None: cannot tell, so run it). ``scans``: its landing
    folders, already walked this run (see landing_scan); walked here when not given."""
    if not in_a_file(table.build):  # defined in a notebook cell: helpers in other cells are not in its digest
        return UNKNOWN
    parts: dict[str, object] = {
        "declaration": declaration_digest(table),
        "engine": ENGINE_CODE,  # not in computed_by: rows already written stay as the engine of then wrote them
        "self": version(context, table.name),
    }
    for param, read in sorted(table.inputs.items()):
        if isinstance(read, Read):
            parts[param] = partition_version(context, read) if read.partition else version(context, read.table)
            continue
        marker = source_marker(context, read, scans)
        if marker is UNKNOWN:
            return UNKNOWN
        parts[param] = marker
    try:
        key = pii_key_for(table, context.runtime.secrets)
    except MedallionError:  # no key to read: the table runs, and its run says what is missing
        return UNKNOWN
    if key is not None:  # a rotated key tokenises anew: the table's rows change with it
        parts["tokens"] = hmac.new(key, b"medallion fingerprint", hashlib.sha256).hexdigest()
    if table.wants_conf():
        parts["conf"] = json.dumps(
            dict(context.runtime.settings.pipeline(context.pipeline.name)), default=str, sort_keys=True
        )
    return parts


def source_marker(
    context: RunContext,
    read: FileSource | JdbcSource | KafkaSource | Model,
    scans: Mapping[str, FolderScan | None] | None = None,
) -> object:
    """What a run would read from an input that is not a table of the pipeline, as a value that changes when
    it does: a landing folder's listing, a relational source's change marker, the model version an alias
    points at; UNKNOWN when that cannot be told cheaply (a landing zone on cloud storage, a relational source
    read with a lookback, whose late commit may change neither its count nor its greatest value, a Kafka
    topic, whose new messages only the query finds from its offsets). ``scans``: folders walked already."""
    if isinstance(read, FileSource):
        scan = (
            scans[read.folder]
            if scans is not None and read.folder in scans
            else scan_folder(context.runtime.settings.landing_path(context.pipeline.name, read.folder))
        )
        return UNKNOWN if scan is None else scan.listing
    if isinstance(read, JdbcSource):
        return UNKNOWN if read.lookback else jdbc_marker(context, read)
    if isinstance(read, Model):  # the version its alias points at: a moved alias re-runs the table
        registry = models.registry(context.runtime.settings, context.pipeline.name)
        return models.alias_version(registry, read.name, read.alias) or "(no version)"
    return UNKNOWN


def version(context: RunContext, table_name: str) -> int:
    """A table's current Delta version, looked up once per run (writes of the run update it)."""
    if table_name not in context.versions:
        path = context.location(context.pipeline.get(table_name)).path
        context.versions[table_name] = io.table_version(context.spark, path)
    return context.versions[table_name]


def partition_version(context: RunContext, read: Read) -> int:
    """The newest version of the input that changed the one partition the table reads: a commit that adds or
    removes files of other partitions only (another topic's rows) leaves it equal; any change to this
    partition's files, a rewrite included, or to the table's schema changes it (read from the Delta log)."""
    latest = version(context, read.table)
    if latest < 0:
        return latest
    path = context.location(context.pipeline.get(read.table)).path
    return delta_log.last_partition_change(context.spark, path, dict(read.partition), latest)


def look_up_versions(context: RunContext, table_names: Iterable[str], also: Iterable[str] = ()) -> dict[str, int]:
    """The current versions of many tables in one listing of their logs, for the lookups that follow.
    ``also``: paths of other Delta tables (the event log) looked up in the same listing; their versions
    are returned."""
    wanted = [name for name in table_names if name not in context.versions]
    paths = {name: context.location(context.pipeline.get(name)).path for name in wanted}
    others = list(also)
    found = io.table_versions(context.spark, list(paths.values()) + others)
    context.versions.update({name: found[path] for name, path in paths.items()})
    return {path: found[path] for path in others}


def forget(context: RunContext, table_name: str) -> None:
    """The table was written: its version is looked up again when next needed."""
    context.versions.pop(table_name, None)


# The engine's code that decides a table's rows as its build does (how files are parsed, rules checked,
# personal data protected and rows written): a change to it runs every table once. Taken at import, as a
# build's is. Not the commands, reports and readers, whose change changes no row.
ENGINE_CODE = package_digest(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    ("engine", "sources", "declare", "io.py", "key_ranges.py"),
)


def declaration_digest(table: Table) -> str:
    declared = [
        table.code,
        repr(table.write),
        repr(table.expectations),
        repr(table.partition_by),
        repr(sorted(table.personal_data.items())),
        repr(table.checks),
        repr(sorted(table.inputs.items())),
    ]
    return hashlib.sha256("\n".join(declared).encode()).hexdigest()


def jdbc_marker(context: RunContext, source: JdbcSource) -> str:
    """Row count and greatest change-column value of a relational source: one small query, so an insert,
    an update that moves the change column and a delete all change the marker (see sources.jdbc)."""
    from medallion.sources.jdbc import change_marker

    database = context.runtime.settings.database(source.database)
    return change_marker(context.spark, source, database, context.runtime.secrets.get(database.password_secret))
