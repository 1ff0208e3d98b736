"""Landed files a table will never read, so a run that takes "0 rows in" from them says why.

- A file or folder whose name starts with ``.`` or ``_`` (``sources.landing.is_hidden``: a ``_`` name holding ``=``
  is read): Spark's file sources skip hidden names (Hadoop's rule), so such a file is never read, however
  long it stays.
- A file re-landed under a name a stream already read, with other content: the stream's checkpoint keeps
  every file it read by path (and the file's modification time then) and never reads a path twice, so
  the new content is never read. A modification time that differs from the one the checkpoint recorded
  tells it apart from the file that was read.

Only local (and volume) folders are listed; on cloud storage Auto Loader keeps its own file state and
nothing is reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

from medallion.declare.tables import FileSource, Table
from medallion.engine.landing_scan import FolderScan, scan_inputs

HIDDEN = (
    "ignored: its name starts with '.' or '_' (or ends with '._COPYING_'), which Spark never reads; land it under "
    "a visible name"
)
CHANGED = (
    "changed after it was read: re-landed under a name the stream has read, so its new content is never "
    "read; land it under a new name"
)


def unread_files(
    landing_path,
    table: Table,
    checkpoint: str | None,
    scans: Mapping[str, FolderScan | None] | None = None,
    known_changed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``{file: reason}`` for the landing folders ``table`` reads; ``landing_path(folder)`` gives a folder's
    location, ``checkpoint`` the table's streaming checkpoint (None for a batch read, which reads every
    visible file each time).

    ``scans`` are the table's folders already walked this run (walked here when not given).
    ``known_changed`` are the re-landed files the table's last report named, given when no folder's listing
    changed since: hidden names still come from the walk, but the checkpoint's source log, which grows with
    every batch the stream ever ran, is not read again for a result that cannot have changed."""
    scans = scans if scans is not None else scan_inputs(landing_path, table)
    found: dict[str, str] = {}
    read_before: Mapping[str, int] | None = None
    for read in table.inputs.values():
        if not isinstance(read, FileSource):
            continue
        scan = scans.get(read.folder)
        if scan is None or scan.root is None:
            continue
        for path in scan.hidden:
            found[f"{read.folder}/{path.relative_to(scan.root)}"] = HIDDEN
        if not read.stream or not checkpoint:
            continue
        if known_changed is not None:
            found.update(
                {name: reason for name, reason in known_changed.items() if reason == CHANGED and _in(name, read)}
            )
            continue
        if read_before is None:
            read_before = files_read(checkpoint)
        for file, modified in scan.modified_ms.items():
            recorded = read_before.get(file)
            if recorded is not None and recorded != modified:
                found[f"{read.folder}/{os.path.relpath(file, os.path.abspath(scan.root))}"] = CHANGED
    return dict(sorted(found.items()))


def _in(name: str, read: FileSource) -> bool:
    return name.startswith(f"{read.folder}/")


def files_read(checkpoint: str) -> dict[str, int]:
    """Every file a file stream of this checkpoint has read: local path → modification time (ms) then,
    from the source logs ``sources/<n>/<batch>`` (JSON lines ``{"path", "timestamp", "batchId"}``)."""
    root = Path(checkpoint.removeprefix("file:")) / "sources"
    if "://" in checkpoint and not checkpoint.startswith("file:") or not root.is_dir():
        return {}
    read: dict[str, int] = {}
    for log in sorted(root.glob("*/*")):
        if log.name.startswith((".", "_")) or not log.is_file():
            continue
        try:
            text = log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:  # removed since the listing: Spark deletes the logs it has compacted
            continue
        for line in text.splitlines()[1:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                read[_local_path(entry["path"])] = int(entry.get("timestamp") or 0)
    return read


def _local_path(uri: str) -> str:
    """``file:///a/b%20c`` or ``file:/a/b`` → ``/a/b c``."""
    path = unquote(uri.removeprefix("file:"))
    return os.path.normpath("/" + path.lstrip("/"))
