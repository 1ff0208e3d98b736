"""Table versions and commit metrics read from Delta transaction logs, many tables in one listing.

``DESCRIBE HISTORY`` loads a table's whole snapshot (a Spark job per table, seconds each on a small
machine) to answer "which version is it at?". The Delta protocol answers it from file names: a table's
versions are the ``<version>.json`` files of its ``_delta_log`` folder, written atomically, the latest
always kept. One glob over the logs of every table a run looks at lists them all in one small job, through
Spark's ``binaryFile`` source (public, and the same on classic, Spark Connect and Databricks compute,
whatever the storage: local disk, ``abfss://`` or a Unity Catalog volume). A commit's metrics are the
``commitInfo`` action of its JSON file, and the files a run's commits added are their ``add`` actions.

Where the log folders cannot be listed (a storage that refuses it), ``DESCRIBE HISTORY`` answers instead.
Where the Spark driver is this very process (a classic session, not Spark Connect) and the table is on
its local disk, the log is listed and read directly: what the driver's listing would find, without a job.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from medallion import sessions

LOG = logging.getLogger(__name__)

COMMIT_INFO_SCHEMA = "commitInfo STRUCT<operation: STRING, operationMetrics: MAP<STRING, STRING>, userMetadata: STRING>"
GLOB_SPECIALS = "\\{}[]*?,"


def versions(spark: SparkSession, paths: list[str]) -> dict[str, int]:
    """Each table's current version (-1 where there is no Delta table), keyed by the paths given."""
    paths = list(dict.fromkeys(paths))
    found = {
        path: _local_version(folder) for path in paths if (folder := sessions.driver_disk_path(spark, path)) is not None
    }
    paths = [path for path in paths if path not in found]
    # A path holding glob characters cannot join the one pattern: its history answers (not our layout's names).
    globbed = [path for path in paths if not any(c in GLOB_SPECIALS for c in path.split("://")[-1])]
    found |= {path: _history_version(spark, path) for path in paths if path not in globbed}
    if not globbed:
        return found
    try:
        latest = _listed_versions(spark, globbed)
    except Exception as err:  # a storage that refuses the listing: one history lookup per table
        if _nothing_matched(err):
            return {**found, **dict.fromkeys(globbed, -1)}
        LOG.debug("listing Delta logs failed (%s): reading each table's history instead", err)
        return {**found, **{path: _history_version(spark, path) for path in globbed}}
    return {**found, **{path: latest.get(sessions.path_part(path), -1) for path in globbed}}


def version(spark: SparkSession, path: str) -> int:
    return versions(spark, [path])[path]


def commit(spark: SparkSession, path: str, version: int) -> dict:
    """Operation, metrics and user metadata of one commit, from its file in the log."""
    if (folder := sessions.driver_disk_path(spark, path)) is not None:
        commit_info = next((a["commitInfo"] for a in _local_actions(folder, version) if "commitInfo" in a), None)
    else:
        file = _commit_file(path, version)
        info = spark.read.schema(COMMIT_INFO_SCHEMA).json(file).where("commitInfo IS NOT NULL").first()
        commit_info = info["commitInfo"].asDict() if info is not None else None
    if commit_info is None:
        return {"version": version, "operation": None, "metrics": {}, "user_metadata": None}
    return {
        "version": version,
        "operation": commit_info.get("operation"),
        "metrics": dict(commit_info.get("operationMetrics") or {}),
        "user_metadata": commit_info.get("userMetadata"),
    }


def files_added(spark: SparkSession, path: str, after: int, through: int) -> list[str]:
    """Names of the data files the commits ``after`` (exclusive) to ``through`` added: the rows those
    commits wrote are in them (a MERGE rewrites the files it touches, so rows it kept may be there too)."""
    if through <= after:
        return []
    if (folder := sessions.driver_disk_path(spark, path)) is not None:
        actions = [a for version in range(after + 1, through + 1) for a in _local_actions(folder, version)]
        return sorted({unquote(a["add"]["path"]).rsplit("/", 1)[-1] for a in actions if "add" in a})
    commits = [_commit_file(path, version) for version in range(after + 1, through + 1)]
    added = spark.read.schema("add STRUCT<path: STRING>").json(commits).where("add IS NOT NULL")
    return sorted({unquote(row["path"]).rsplit("/", 1)[-1] for row in added.select("add.path").collect()})


SHORT_HISTORY = 10  # Delta checkpoints its log every 10 commits: a history this short is read commit by commit


def only_appended(spark: SparkSession, path: str, latest: int) -> bool:
    """Whether the table's whole history, versions 0 to ``latest``, is a short run of commits that only added
    files after the first: no file removed (nothing deleted, rewritten or compacted, so every file ever added
    is still there) and no change of schema or protocol. Reading such a table's commits from version 0 then
    gives exactly its rows. False when it is longer than ``SHORT_HISTORY`` commits or the log no longer holds
    them all: it cannot tell."""
    if not 0 <= latest <= SHORT_HISTORY:
        return False
    try:
        if (folder := sessions.driver_disk_path(spark, path)) is not None:
            commits = [(version, _local_actions(folder, version)) for version in range(latest + 1)]
        else:
            rows = (
                spark.read.schema(PARTITION_ACTIONS_SCHEMA)
                .json([_commit_file(path, version) for version in range(latest + 1)])
                .select("_metadata.file_name", "remove", "metaData", "protocol")
                .collect()
            )
            commits = [(int(row["file_name"].split(".", 1)[0]), [row.asDict(recursive=True)]) for row in rows]
    except FileNotFoundError:
        return False
    except Exception as err:
        if _nothing_matched(err):
            return False
        raise
    return not any(
        action.get("remove") is not None
        or (version > 0 and (action.get("metaData") is not None or action.get("protocol") is not None))
        for version, actions in commits
        for action in actions
    )


PARTITION_ACTIONS_SCHEMA = (
    "add STRUCT<partitionValues: MAP<STRING, STRING>>, remove STRUCT<partitionValues: MAP<STRING, STRING>>, "
    "metaData STRUCT<id: STRING>, protocol STRUCT<minReaderVersion: INT>"
)
LOOK_BACK = 1000  # commits read at most to find a partition's last change; beyond, the partition counts as changed
REMOTE_CHUNK = 25  # commits read by the first job where the log is read through Spark (then 50, 100, …)


def last_partition_change(spark: SparkSession, path: str, partition: dict[str, str], latest: int) -> int:
    """The newest version, up to ``latest``, whose commit added or removed files of ``partition`` (column →
    value, as Delta records partition values) or changed the table's metadata or protocol; -1 when no commit
    ever did. When the log cannot tell (a commit file already cleaned up, or more than ``LOOK_BACK`` commits
    back), ``latest``: the partition is taken as changed, never as unchanged."""
    oldest = max(0, latest - LOOK_BACK + 1)
    folder = sessions.driver_disk_path(spark, path)
    newest = latest
    size = 1 if folder is not None else REMOTE_CHUNK  # a local commit file costs a read; a remote chunk, a job
    while newest >= oldest:
        chunk = list(range(newest, max(oldest, newest - size + 1) - 1, -1))
        try:
            if folder is not None:
                touched = [version for version in chunk if _touches(_local_actions(folder, version), partition)]
            else:
                touched = _touching_versions(spark, path, chunk, partition)
        except FileNotFoundError:
            return latest  # a commit the log no longer holds: cannot tell
        except Exception as err:
            if _nothing_matched(err):
                return latest
            raise
        if touched:
            return max(touched)
        newest = chunk[-1] - 1
        if folder is None:  # the further back, the rarer a change: a long walk takes a few jobs, not forty
            size *= 2
    return -1 if oldest == 0 else latest


def _touches(actions: list[dict], partition: dict[str, str]) -> bool:
    for action in actions:
        if action.get("metaData") is not None or action.get("protocol") is not None:
            return True
        for kind in ("add", "remove"):
            if action.get(kind) is not None:
                values = action[kind].get("partitionValues") or {}
                # A file that does not record the column (a table not partitioned by it, or one whose log
                # names columns by their physical names) may hold the partition's rows: it counts.
                if all(values.get(column, value) == value for column, value in partition.items()):
                    return True
    return False


def _touching_versions(spark: SparkSession, path: str, versions: list[int], partition: dict[str, str]) -> list[int]:
    """Of ``versions``, those whose commit touched ``partition``: their commit files read in one job."""
    commits = spark.read.schema(PARTITION_ACTIONS_SCHEMA).json([_commit_file(path, v) for v in versions])
    actions = commits.select("_metadata.file_name", "add", "remove", "metaData", "protocol").collect()
    return sorted(
        {int(row["file_name"].split(".", 1)[0]) for row in actions if _touches([row.asDict(recursive=True)], partition)}
    )


CREATION_SCHEMA = "commitInfo STRUCT<operation: STRING>, metaData STRUCT<schemaString: STRING>"


def creation(spark: SparkSession, path: str) -> tuple[str | None, StructType | None]:
    """The operation of the table's first commit (version 0) and the schema it gave the table."""
    operation, schema = None, None
    if (folder := sessions.driver_disk_path(spark, path)) is not None:
        actions = _local_actions(folder, 0)
    else:
        actions = [
            row.asDict(recursive=True)
            for row in spark.read.schema(CREATION_SCHEMA).json(_commit_file(path, 0)).collect()
        ]
    for action in actions:
        if action.get("commitInfo") is not None:
            operation = action["commitInfo"].get("operation")
        if action.get("metaData") is not None and action["metaData"].get("schemaString"):
            schema = StructType.fromJson(json.loads(action["metaData"]["schemaString"]))
    return operation, schema


def _local_version(folder: str) -> int:
    """Greatest ``<n>.json`` of the folder's ``_delta_log`` (-1: no log, no Delta table)."""
    try:
        names = os.listdir(os.path.join(folder, "_delta_log"))
    except (FileNotFoundError, NotADirectoryError):
        return -1
    numbers = (name.split(".", 1)[0] for name in names if name.endswith(".json"))
    return max((int(number) for number in numbers if number.isdigit()), default=-1)


def _local_actions(folder: str, version: int) -> list[dict]:
    """The actions of one commit: its file holds one JSON action per line."""
    with open(os.path.join(folder, "_delta_log", f"{version:020d}.json"), encoding="utf-8") as commit_file:
        return [json.loads(line) for line in commit_file if line.strip()]


def _commit_file(path: str, version: int) -> str:
    """A commit's file in the table's log (the Delta protocol's name: the version in 20 digits)."""
    return f"{path.rstrip('/')}/_delta_log/{version:020d}.json"


def _listed_versions(spark: SparkSession, paths: list[str]) -> dict[str, int]:
    """Greatest ``<n>.json`` per log folder: one glob per storage location the paths share."""
    latest: dict[str, int] = {}
    for pattern in _globs(paths):
        listed = spark.read.format("binaryFile").load(pattern).select("path").collect()
        for row in listed:
            folder, _, name = row["path"].rpartition("/_delta_log/")
            number = name.split(".", 1)[0]
            if number.isdigit():
                key = sessions.path_part(folder)
                latest[key] = max(latest.get(key, -1), int(number))
    return latest


def _globs(paths: list[str]) -> list[str]:
    """``<common parent>/{a,b/c,...}/_delta_log/*.json`` for the paths under one parent (per scheme and
    authority); Hadoop's glob expands the braces, slashes included, and a folder without a log matches
    nothing rather than failing, as long as one of them matches."""
    groups: dict[str, list[list[str]]] = {}
    for path in paths:
        parts = path.rstrip("/").split("/")
        groups.setdefault(_location(path), []).append(parts)
    globs = []
    for members in groups.values():
        parents = [parts[:-1] for parts in members]
        common = parents[0]
        for parent in parents[1:]:
            size = next((i for i, (a, b) in enumerate(zip(common, parent)) if a != b), min(len(common), len(parent)))
            common = common[:size]
        prefix = "/".join(common)
        rests = ",".join("/".join(parts[len(common) :]) for parts in members)
        globs.append(f"{prefix}/{{{rests}}}/_delta_log/*.json")
    return globs


def _location(path: str) -> str:
    parsed = urlparse(path)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme else ""


def _nothing_matched(err: Exception) -> bool:
    return "PATH_NOT_FOUND" in str(err) or "Path does not exist" in str(err)


def _history_version(spark: SparkSession, path: str) -> int:
    from medallion.io import quoted

    try:
        last = spark.sql(f"DESCRIBE HISTORY {quoted(path)} LIMIT 1").select("version").first()
    except Exception as err:
        if _no_table(err):
            return -1
        raise
    return int(last["version"]) if last else -1


def _no_table(err: Exception) -> bool:
    text = str(err)
    return any(
        marker in text
        for marker in (
            "is not a Delta table",
            "DELTA_MISSING_DELTA_TABLE",
            "Path does not exist",
            "PATH_NOT_FOUND",
            "DELTA_TABLE_NOT_FOUND",
            "doesn't exist",
            "does not exist",
        )
    )
