"""What each table consumed in its last successful run, for the next run's decision to skip it.

The event log is the record: each table's row carries the fingerprint of what its run consumed, and the
newest successful one per table is the answer (:func:`eventlog.fingerprints`). That is a query over the
whole log, seconds of Delta reading on a fresh session, paid by every run, even one with nothing to do.
So each run also leaves the answer in a small JSON file of its pipeline (``layout.last_runs``), stamped
with the version of the event log its own commit made. A run reads the file, and takes it only when the
log is still at that version: nothing was written to the log since. Anything else (no file yet, a run that
ended between its commit and the file, a stream-mode run or another pipeline's run that wrote the log
since, a file that does not parse) falls back to the query. The file can only save the query, never change
its answer. Where Spark's driver is this process and the file is on its disk, it is read and written
directly (a folder holding one part file, as Spark's text writer leaves it), without a Spark job each.
"""

from __future__ import annotations

import json
import logging
import os

from pyspark.sql import SparkSession

from medallion import sessions
from medallion.engine import eventlog
from medallion.engine.eventlog import RecordedRun, TableRun

LOG = logging.getLogger(__name__)


def read(spark: SparkSession, file: str, event_log: str, log_version: int, pipeline: str) -> dict[str, RecordedRun]:
    """Per table, what its last successful run recorded; ``log_version``: the event log's current version."""
    if log_version < 0:
        return {}
    cached = _cached(spark, file)
    if cached is not None and cached[0] == log_version:
        return cached[1]
    return eventlog.fingerprints(spark, event_log, pipeline)


def write(
    spark: SparkSession, file: str, log_version: int, before: dict[str, RecordedRun], runs: list[TableRun]
) -> None:
    """Leave ``before`` (the answer this run started from) updated with ``runs`` (the rows its commit at
    ``log_version`` added), as the event log's query would now answer. Best effort: without the file the
    next run queries the log."""
    latest = dict(before)
    for run in sorted(runs, key=lambda r: r.started):
        if run.status in ("ok", "skipped") and run.fingerprint is not None:
            latest[run.table] = RecordedRun(run.fingerprint, run.unread_files)
    document = {
        "event_log_version": log_version,
        "tables": {name: {"fingerprint": r.fingerprint, "unread_files": r.unread_files} for name, r in latest.items()},
    }
    text = json.dumps(document, sort_keys=True)
    try:
        if (folder := sessions.driver_disk_path(spark, file)) is not None:
            _write_here(folder, text)
        else:
            spark.createDataFrame([(text,)], "value STRING").coalesce(1).write.mode("overwrite").text(file)
    except Exception as err:  # the cache only saves a query: a run never fails for it
        LOG.warning("could not write %s (%s); the next run reads the event log instead", file, type(err).__name__)


def _cached(spark: SparkSession, file: str) -> tuple[int, dict[str, RecordedRun]] | None:
    try:
        if (folder := sessions.driver_disk_path(spark, file)) is not None:
            document = json.loads(_read_here(folder))
        else:
            document = json.loads(spark.read.text(file, wholetext=True).collect()[0]["value"])
        tables = {
            name: RecordedRun(entry["fingerprint"], entry["unread_files"]) for name, entry in document["tables"].items()
        }
        return int(document["event_log_version"]), tables
    except Exception as err:  # missing (a first run), unreadable or not ours: the log answers
        LOG.debug("no usable %s (%s): reading the event log", file, type(err).__name__)
        return None


PART = "part-00000.txt"


def _write_here(folder: str, text: str) -> None:
    """The folder's one part file replaced at once (written aside, then renamed over it), and whatever else
    an earlier write left in it removed."""
    os.makedirs(folder, exist_ok=True)
    aside = os.path.join(folder, f".{PART}.writing")
    with open(aside, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.replace(aside, os.path.join(folder, PART))
    for name in os.listdir(folder):
        if name != PART:
            os.remove(os.path.join(folder, name))


def _read_here(folder: str) -> str:
    """The text of the folder's one part file (hidden and ``_`` files aside, as Spark reads it)."""
    parts = [name for name in os.listdir(folder) if not name.startswith((".", "_"))]
    if len(parts) != 1:
        raise ValueError(f"{len(parts)} part files")
    with open(os.path.join(folder, parts[0]), encoding="utf-8") as part:
        return part.read()
