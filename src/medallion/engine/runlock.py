"""One run of a pipeline at a time: a lock file under the storage root.

Two runs of one pipeline over the same tables would race for the same checkpoints. Delta's optimistic
concurrency already keeps the tables free of duplicates (a conflicting commit fails, an idempotent
append is committed once), but the loser would stop half-way with a JVM error. The lock turns that
into one clear message before anything starts.

Locally the lock is ``<root>/_system/locks/<pipeline>.lock``, created atomically (``O_CREAT|O_EXCL``)
and holding the pid, host and run id of its owner. A lock whose process no longer exists on this host
is stale (the run crashed): the next run takes it over and reports which run it replaces. On
Databricks there is no shared local disk; the deployment configures every job with
``max_concurrent_runs: 1``, which gives the same guarantee, and the lock is not used.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medallion.errors import MedallionError
from medallion.platform import layout
from medallion.platform.config import Settings


class ConcurrentRunError(MedallionError):
    """Another run of the same pipeline holds the lock."""


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    run_id: str
    started: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {since})"


@dataclass
class RunLock:
    path: Path | None
    owner: Owner | None = None
    replaced: Owner | None = None  # the crashed run whose stale lock this run took over

    def release(self) -> None:
        if self.path is None or self.owner is None:
            return
        current = _read(self.path)
        if current is not None and current.run_id == self.owner.run_id:
            self.path.unlink(missing_ok=True)
        self.owner = None


def lock_path(settings: Settings, pipeline: str) -> Path | None:
    if settings.is_databricks:
        return None
    return Path(layout.lock(settings.root, pipeline))


def acquire(settings: Settings, pipeline: str, run_id: str) -> RunLock:
    """Take the pipeline's lock or raise :class:`ConcurrentRunError` naming the run that holds it."""
    path = lock_path(settings, pipeline)
    if path is None:
        return RunLock(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = Owner(os.getpid(), socket.gethostname(), run_id, time.time())
    replaced = None
    for _attempt in range(3):
        if _create(path, me):
            return RunLock(path, me, replaced)
        holder = _read(path)
        if holder is None:  # vanished or half-written by its creator this instant: look again
            time.sleep(0.05)
            continue
        if not _is_stale(holder):
            raise ConcurrentRunError(
                f"Pipeline '{pipeline}' is already running: {holder.describe()}. Wait for it to finish "
                f"(`medallion runs {pipeline}`), or if that process no longer exists delete {path}."
            )
        if _take_away(path, holder):
            replaced = holder
    raise ConcurrentRunError(f"Pipeline '{pipeline}': could not take the run lock {path}; another run is starting.")


@contextmanager
def hold(settings: Settings, pipeline: str, run_id: str) -> Iterator[RunLock]:
    lock = acquire(settings, pipeline, run_id)
    try:
        yield lock
    finally:
        lock.release()


def _create(path: Path, owner: Owner) -> bool:
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as out:
        json.dump(owner.__dict__, out)
    return True


def read_owner(path: Path) -> Owner | None:
    """Who holds the lock at ``path`` (None when nobody does)."""
    return _read(path)


def is_stale(owner: Owner) -> bool:
    """The lock's process is gone from this host: the run ended without releasing it (killed, crashed)."""
    return _is_stale(owner)


def _read(path: Path) -> Owner | None:
    try:
        return Owner(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _is_stale(owner: Owner) -> bool:
    if owner.host != socket.gethostname():
        return False  # cannot see that process: never steal a lock from another machine
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(owner.pid)


def _is_zombie(pid: int) -> bool:
    """A child that exited but was not reaped yet still has a pid; it holds nothing."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _take_away(path: Path, stale: Owner) -> bool:
    """Move the stale lock aside atomically; of two runs doing this at once only one succeeds. If what
    was moved is not the stale lock we inspected (a live run took the lock in between), put it back."""
    moved = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, moved)
    except FileNotFoundError:
        return False
    taken = _read(moved)
    if taken is not None and taken.run_id != stale.run_id:
        try:
            os.link(moved, path)
        except FileExistsError:
            pass
        moved.unlink(missing_ok=True)
        return False
    moved.unlink(missing_ok=True)
    return True
