"""Checking a streaming checkpoint before a query starts from it.

A checkpoint is what makes a restart exactly-once: its offset log says which input a batch covered, its
commit log which batches finished, its state which join/dedupe rows are remembered. If it is damaged
(a file truncated, overwritten or lost by a bad copy or a disk fault), Spark either fails deep inside
the query with a JVM trace, or worse, silently starts over. We check it first and stop with one message
that names the folder and the recovery, before any table is touched.

What is checked (local storage; on cloud storage only Spark's own errors are translated):
- only what Spark reads: a hidden file (``.<name>``, e.g. the ``commits/.3.<uuid>.tmp`` a kill leaves
  while Spark writes a log entry before renaming it into place) or one named ``_…`` is never read by
  Spark, so it is ignored here too, its checksum file included;
- every file that has a Hadoop checksum (``.<name>.crc``, written beside each checkpoint file) matches it;
- ``metadata`` holds the query id; the newest ``offsets/<n>``, ``commits/<n>`` and source logs are the
  ``v1`` format followed by JSON lines; a commit never exists without its offsets.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from medallion.errors import CheckpointError

CRC_MAGIC = b"crc\x00"


def recovery_hint(pipeline: str) -> str:
    return (
        f"To recover, either restore the folder from a backup taken together with the table's own, or rebuild the "
        f"pipeline's tables from the landing files with `medallion reset {pipeline} --keep-landing` then "
        f"`medallion run {pipeline}`. Do not restore an older checkpoint than the table (it would replay batches "
        "the table holds, and their new input would be skipped as written), nor delete only the checkpoint (the "
        "table would keep its rows while the stream starts over)."
    )


def damaged(folder: str, table: str, pipeline: str, problem: str) -> CheckpointError:
    return CheckpointError(
        f"The streaming checkpoint of {pipeline}.{table} at {folder} is damaged: {problem}. Nothing was written. "
        + recovery_hint(pipeline)
    )


def verify(folder: str, table: str, pipeline: str) -> None:
    """Raise :class:`CheckpointError` if the local checkpoint ``folder`` is damaged; a missing folder is a
    first run and fine."""
    if "://" in folder and not folder.startswith("file:"):
        return
    root = Path(folder.removeprefix("file:"))
    if not root.is_dir():
        return
    problem = _first_problem(root)
    if problem:
        raise damaged(folder, table, pipeline, problem)


def ignored_by_spark(name: str) -> bool:
    """Hidden and ``_`` files: Hadoop's hidden-path rule, which Spark's checkpoint logs follow (a log entry
    is first written as ``.<batch>.<uuid>.tmp`` and renamed; only names that are batch numbers count)."""
    return name.startswith((".", "_"))


def has_progress(folder: str) -> bool | None:
    """Whether the checkpoint at ``folder`` remembers any batch (an offsets entry); None when it cannot
    tell (cloud storage)."""
    if "://" in folder and not folder.startswith("file:"):
        return None
    return bool(_batches(Path(folder.removeprefix("file:")) / "offsets"))


def lost(folder: str, table: str, pipeline: str) -> CheckpointError:
    """A table that holds rows (or whose quarantine does) but whose checkpoint is gone: a new stream would start over, and its batch ids
    0, 1, ... would match the idempotent-write ids of the batches the table already holds, so new rows would
    be skipped as replays (or, for merges, everything re-read). Nothing may run until it is rebuilt."""
    return CheckpointError(
        f"The streaming checkpoint of {pipeline}.{table} at {folder} is missing, but the table or its quarantine holds rows. "
        "Nothing was written: starting over would skip new input as already-written replays. To recover, "
        f"restore the folder from a backup taken together with the table's own, or rebuild the pipeline's tables "
        f"from the landing files with `medallion reset {pipeline} --keep-landing` then `medallion run {pipeline}`."
    )


def _first_problem(root: Path) -> str | None:
    for crc in sorted(root.rglob(".*.crc")):
        data_file = crc.with_name(crc.name[1 : -len(".crc")])
        if ignored_by_spark(data_file.name):  # the checksum of a temporary file: Spark never reads either
            continue
        if data_file.is_file() and not _checksum_matches(data_file, crc):
            return f"{data_file.relative_to(root)} does not match its checksum"
    offsets, commits = _batches(root / "offsets"), _batches(root / "commits")
    if (offsets or commits) and not (root / "metadata").is_file():
        return "the metadata file (the query id) is missing"
    if (root / "metadata").is_file():
        try:
            json.loads((root / "metadata").read_text())["id"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return "metadata does not hold a query id"
    if commits and (not offsets or max(commits) > max(offsets)):
        return f"commits/{max(commits)} has no offsets/{max(commits)}"
    for log in [root / "offsets", root / "commits", *sorted((root / "sources").glob("*"))]:
        newest = _batches(log)
        if newest:
            name = max(newest)
            problem = _log_problem(newest[name])
            if problem:
                return f"{newest[name].relative_to(root)} {problem}"
    return None


def _batches(log: Path) -> dict[int, Path]:
    if not log.is_dir():
        return {}
    found = {}
    for entry in log.iterdir():
        stem = entry.name.removesuffix(".compact")
        if entry.is_file() and stem.isdigit():
            found[int(stem)] = entry
    return found


def _log_problem(path: Path) -> str | None:
    try:
        # Spark's Kafka source writes its initial offsets after one zero byte (SPARK-19517, kept for logs
        # of Spark 2.1.0): part of the format, not damage.
        lines = path.read_text(encoding="utf-8").removeprefix("\x00").split("\n")
    except UnicodeDecodeError:
        return "is not text"
    if not lines or lines[0] != "v1":
        return "does not start with the log version 'v1'"
    for line in lines[1:]:
        if line and line != "-":
            try:
                json.loads(line)
            except ValueError:
                return "holds a line that is not JSON"
    if len(lines) < 2 or not lines[1]:
        return "is truncated"
    return None


def _checksum_matches(data_file: Path, crc_file: Path) -> bool:
    """Hadoop's ChecksumFileSystem format: 'crc\\0', bytes per checksum, then one CRC32 per chunk."""
    checksums = crc_file.read_bytes()
    if len(checksums) < 8 or checksums[:4] != CRC_MAGIC:
        return False
    chunk = struct.unpack(">i", checksums[4:8])[0]
    data = data_file.read_bytes()
    expected = checksums[8:]
    actual = b"".join(struct.pack(">I", zlib.crc32(data[i : i + chunk])) for i in range(0, len(data), chunk))
    return chunk > 0 and expected == actual
