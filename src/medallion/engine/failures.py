"""Spark and Delta errors a user can act on, as one clear message; anything else unchanged."""

from __future__ import annotations

from medallion.declare.tables import Table
from medallion.engine import checkpoints, runlock
from medallion.engine.context import RunContext
from medallion.errors import MedallionError

CHECKPOINT_ERRORS = (
    "checkpoint",
    "Checkpoint",
    "HDFSMetadataLog",
    "Incomplete log file",
    "ChecksumException",
    "StateStore",
    "STATE_STORE",
    "state store",
    "offset log",
    "commit log",
)

CONCURRENT_WRITE_ERRORS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "ConcurrentWriteException",
    "Multiple streaming queries are concurrently using",
)


def checkpoint_error(err: Exception, checkpoint: str, context: RunContext, table: Table) -> Exception:
    text = str(err)
    if checkpoint.removeprefix("file:") in text or any(marker in text for marker in CHECKPOINT_ERRORS):
        return checkpoints.damaged(
            checkpoint, table.name, context.pipeline.name, f"Spark cannot read it ({text.splitlines()[0][:200]})"
        )
    return err


def translate(err: Exception, context: RunContext, table: Table) -> Exception:
    if isinstance(err, MedallionError):
        return err
    text = str(err)
    found = next((name for name in CONCURRENT_WRITE_ERRORS if name in text), None)
    if found:
        return runlock.ConcurrentRunError(
            f"{context.pipeline.name}.{table.name}: another run wrote the table at the same time ({found}); Delta "
            "kept the table consistent and this run stopped. Run one pipeline run at a time, then run again."
        )
    if table.is_streaming:
        return checkpoint_error(err, context.location(table).checkpoint, context, table)
    return err


def safe_message(err: BaseException) -> str:
    """One line for the event log: the error's type and first line, never a stack of JVM frames."""
    return f"{type(err).__name__}: {str(err).splitlines()[0][:500] if str(err) else ''}"
