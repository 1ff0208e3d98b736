"""One walk of each landing folder a table reads, serving both the skip fingerprint (``changes``) and the
report of files the table will never read (``unread_files``), so a run lists a folder once.

Spark's file sources skip hidden names (a file or folder whose name starts with ``.`` or ``_``, Hadoop's
rule, with the exceptions of :func:`is_hidden`): the walk keeps them apart. Only local (and volume) folders
are walked; a cloud URL, read through Auto Loader, has no scan (None).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from medallion.declare.tables import FileSource, Table
from medallion.sources.landing import is_hidden


@dataclass(frozen=True)
class FolderScan:
    """What one walk of a landing folder found."""

    listing: str  # digest of the visible files (name, size, modification time); '' when there is no folder
    hidden: tuple[Path, ...] = ()  # hidden files and folders (a hidden folder is not entered)
    modified_ms: Mapping[str, int] = field(default_factory=dict)  # absolute path of each visible file → mtime (ms)
    root: Path | None = None


def scan_folder(folder: str) -> FolderScan | None:
    """Walk ``folder`` once (None for a cloud URL, which is not walked)."""
    if "://" in folder and not folder.startswith("file:"):
        return None
    root = Path(folder.removeprefix("file:"))
    if not root.is_dir():
        return FolderScan("")
    entries: list[str] = []
    hidden: list[Path] = []
    modified: dict[str, int] = {}
    for directory, folders, files in os.walk(root):
        hidden += [Path(directory, name) for name in sorted(folders) if is_hidden(name)]
        folders[:] = sorted(f for f in folders if not is_hidden(f))
        for name in sorted(files):
            path = Path(directory, name)
            if is_hidden(name):
                hidden.append(path)
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while the folder was walked: not there any more
                continue
            entries.append(f"{os.path.relpath(path, root)}\t{stat.st_size}\t{stat.st_mtime_ns}")
            modified[os.path.abspath(path)] = stat.st_mtime_ns // 1_000_000
    digest = hashlib.sha256("\n".join(entries).encode()).hexdigest()
    return FolderScan(digest, tuple(hidden), modified, root)


def scan_inputs(landing_path: Callable[[str], str], table: Table) -> dict[str, FolderScan | None]:
    """Each landing folder ``table`` reads (by its declared folder name), walked once;
    ``landing_path(folder)`` gives a folder's location."""
    return {
        read.folder: scan_folder(landing_path(read.folder))
        for read in table.inputs.values()
        if isinstance(read, FileSource)
    }
