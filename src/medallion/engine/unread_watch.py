"""Stream mode's report of landed files a streaming table will never read (see ``unread_files``).

A stream triggers a micro-batch only for files it will read, so a hidden file or a re-landed one never
reaches a batch: the driver checks instead, when the streams start and at every trigger interval. Each
check walks the table's landing folders once; the checkpoint's source log is read again only when their
listing changed since the previous check (a stream reading new files adds none it will not read). The
table gets a report (an event-log row of the run with no rows in, its ``unread_files``) at the start and
whenever what the check finds changes, and each newly found file is said in the progress.
"""

from __future__ import annotations

from medallion.declare.tables import Table
from medallion.engine import eventlog
from medallion.engine.context import RunContext
from medallion.engine.eventlog import TableRun
from medallion.engine.landing_scan import scan_inputs
from medallion.engine.unread_files import unread_files


class UnreadFilesWatch:
    """The checks of one stream-mode run, over its streaming tables that read landing folders."""

    def __init__(self, context: RunContext, tables: list[Table]):
        self.context = context
        self.tables = [t for t in tables if t.is_streaming and t.landing_input is not None]
        self.listings: dict[str, tuple] = {}  # table → the listing of its folders at the previous check
        self.reported: dict[str, dict[str, str]] = {}  # table → what its last report named

    def check(self) -> list[TableRun]:
        """Check every table; record (and return) a report for each whose findings changed."""
        reports = []
        for table in self.tables:
            found = self._unread(table)
            if self.reported.get(table.name) == found:
                continue
            for name in sorted(set(found) - set(self.reported.get(table.name, {}))):
                self.context.say(table, f": {name} {found[name]}")
            self.reported[table.name] = found
            context = self.context
            reports.append(
                TableRun(
                    context.run_id,
                    context.pipeline.name,
                    table.name,
                    table.layer.value,
                    "stream",
                    status="ok",
                    unread_files=found,
                )
            )
        eventlog.record(self.context.spark, self.context.runtime.system_path("event_log"), reports)
        return reports

    def _unread(self, table: Table) -> dict[str, str]:
        context = self.context

        def landing(folder: str) -> str:
            return context.runtime.settings.landing_path(context.pipeline.name, folder)

        scans = scan_inputs(landing, table)
        listing = tuple(sorted((folder, scan.listing if scan else None) for folder, scan in scans.items()))
        unchanged = self.listings.get(table.name) == listing and table.name in self.reported
        self.listings[table.name] = listing
        known = self.reported[table.name] if unchanged else None
        return unread_files(landing, table, context.location(table).checkpoint, scans, known)
