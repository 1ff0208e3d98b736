"""Landed files a table will never read, so a run that takes "0 rows in" from them says why.

- A file or folder whose name starts with ``.`` or ``_``: Spark's file sources skip hidden names (Hadoop's
  rule), so such a file is never read, however long it stays.
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
from pathlib import Path
from urllib.parse import unquote

from medallion.declare.tables import FileSource, Table

HIDDEN = "ignored: its name starts with '.' or '_', which Spark never reads; land it under a visible name"
CHANGED = (
    "changed after it was read: re-landed under a name the stream has read, so its new content is never "
    "read; land it under a new name"
)


def unread_files(landing_path, table: Table, checkpoint: str | None) -> dict[str, str]:
    """``{file: reason}`` for the landing folders ``table`` reads; ``landing_path(folder)`` gives a folder's
    location, ``checkpoint`` the table's streaming checkpoint (None for a batch read, which reads every
    visible file each time)."""
    found: dict[str, str] = {}
    for read in table.inputs.values():
        if not isinstance(read, FileSource):
            continue
        folder = landing_path(read.folder)
        if "://" in folder and not folder.startswith("file:"):
            continue
        root = Path(folder.removeprefix("file:"))
        read_before = files_read(checkpoint) if read.stream and checkpoint else {}
        for path, reason in _unread_in(root, read_before):
            found[f"{read.folder}/{path.relative_to(root)}"] = reason
    return found


def _unread_in(root: Path, read_before: dict[str, int]):
    if not root.is_dir():
        return
    for directory, folders, files in os.walk(root):
        for name in sorted(folders):
            if name.startswith((".", "_")):
                yield Path(directory, name), HIDDEN
        folders[:] = sorted(f for f in folders if not f.startswith((".", "_")))
        for name in sorted(files):
            path = Path(directory, name)
            if name.startswith((".", "_")):
                yield path, HIDDEN
                continue
            recorded = read_before.get(os.path.abspath(path))
            if recorded is not None and recorded != path.stat().st_mtime_ns // 1_000_000:
                yield path, CHANGED


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
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
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
