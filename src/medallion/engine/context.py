"""What one run of a pipeline carries from table to table: where we run, what runs, how it reports."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Table
from medallion.platform.runtime import Runtime, TableLocation

Progress = Callable[[str], None]
log = logging.getLogger("medallion")


def print_progress(message: str) -> None:
    log.info(message)


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class RunContext:
    runtime: Runtime
    pipeline: Pipeline
    mode: str = "once"  # once | stream
    run_id: str = field(default_factory=new_run_id)
    progress: Progress = print_progress
    # Versions of the tables this run has read or written, so a table's inputs are looked up once.
    versions: dict[str, int] = field(default_factory=dict, repr=False)
    # Event-log rows of the run's tables, written together when the run ends (None: each row at once).
    finished: list | None = None
    # In stream mode several queries run batches at once in this process; one at a time writes (see batch.py).
    write_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def spark(self):
        return self.runtime.spark

    def location(self, table: Table) -> TableLocation:
        return self.runtime.location(self.pipeline.name, table.layer, table.name)

    def query_name(self, table: Table) -> str:
        """The name of the table's streaming query (its table again: ``table_of_query``)."""
        return f"{self.pipeline.name}.{table.name}"

    def say(self, table: Table, message: str) -> None:
        self.progress(f"[{self.pipeline.name}] {table.layer.value}.{table.name}{message}")


def table_of_query(query) -> str:
    """The name of the table a streaming query of a run writes (``RunContext.query_name``)."""
    return query.name.split(".", 1)[1]
