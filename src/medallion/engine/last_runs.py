"""What each table consumed in its last successful run, for the next run's decision to skip it.

The event log is the record: each table's row carries the fingerprint of what its run consumed, and the
newest successful one per table is the answer (:func:`eventlog.fingerprints`). That is a query over the
whole log, seconds of Delta reading on a fresh session, paid by every run, even one with nothing to do.
So each run also leaves the answer in a small JSON file of its pipeline (``layout.last_runs``), stamped
with the version of the event log its own commit made. A run reads the file, and takes it only when the
log is still at that version: nothing was written to the log since. Anything else (no file yet, a run that
ended between its commit and the file, a stream-mode run or another pipeline's run that wrote the log
since, a file that does not parse) falls back to the query. The file can only save the query, never change
its answer.
"""

from __future__ import annotations

import json
import logging

from pyspark.sql import SparkSession

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
    try:
        text = spark.createDataFrame([(json.dumps(document, sort_keys=True),)], "value STRING")
        text.coalesce(1).write.mode("overwrite").text(file)
    except Exception as err:  # the cache only saves a query: a run never fails for it
        LOG.warning("could not write %s (%s); the next run reads the event log instead", file, type(err).__name__)


def _cached(spark: SparkSession, file: str) -> tuple[int, dict[str, RecordedRun]] | None:
    try:
        lines = spark.read.text(file, wholetext=True).collect()
        document = json.loads(lines[0]["value"])
        tables = {
            name: RecordedRun(entry["fingerprint"], entry["unread_files"]) for name, entry in document["tables"].items()
        }
        return int(document["event_log_version"]), tables
    except Exception as err:  # missing (a first run), unreadable or not ours: the log answers
        LOG.debug("no usable %s (%s): reading the event log", file, type(err).__name__)
        return None
