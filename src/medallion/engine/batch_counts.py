"""How the counts of a streaming table's batches reach the driver when the table runs once.

A ``foreachBatch`` function runs in the driver's own Python process on a classic session, and in a Python
worker of the server on a Spark Connect session (Databricks' standard access mode and serverless). Before it
starts the query the driver opens a mailbox in its process: a batch that finds it (it runs in the driver's
process) leaves its counts there; a batch that does not (it runs elsewhere) appends them to the batch log, a
Delta table the driver reads after the query. The same rows arrive either way; the mailbox spares a Delta
commit per batch and a read of the log per table.

The functions below are module functions on purpose: a ``foreachBatch`` closure is pickled by value when
it is shipped to a server, and a mailbox it captured would travel with it as a copy; a module function is
pickled by reference and, in another process, finds that process's own (empty) set of mailboxes.
"""

from __future__ import annotations

import threading
import uuid

from medallion.engine.eventlog import TableRun

_mailboxes: dict[str, list[dict]] = {}
_lock = threading.Lock()


def open_mailbox() -> str:
    """A new mailbox in this process; its token goes to the batches in their job."""
    token = uuid.uuid4().hex
    with _lock:
        _mailboxes[token] = []
    return token


def deliver(token: str | None, counts: TableRun, batch_id: int) -> bool:
    """Leave a batch's ``counts`` in mailbox ``token`` if this process holds it; False when it does not
    (the batch runs in another process, or its job has no mailbox). Beside the event-log columns, the
    row names its ``batch_id`` and how many times the batch read its source (``source_reads``)."""
    with _lock:
        mailbox = _mailboxes.get(token) if token else None
        if mailbox is None:
            return False
        mailbox.append({**counts.as_recorded(), "batch_id": batch_id, "source_reads": counts.source_reads})
        return True


def collect(token: str) -> list[dict]:
    """Close mailbox ``token`` and return what was delivered, in order of delivery."""
    with _lock:
        return _mailboxes.pop(token, [])
