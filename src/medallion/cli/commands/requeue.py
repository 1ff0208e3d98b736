"""requeue: release quarantined rows whose late-arriving reference has arrived (see engine.requeue)."""

from __future__ import annotations

import argparse

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import get_pipeline, pipeline_names
from medallion.engine import eventlog, requeue, runlock
from medallion.engine.context import RunContext


def register(commands) -> None:
    parser = commands.add_parser(
        "requeue", help="release quarantined rows whose reference arrived (tables with a retry policy)"
    )
    parser.add_argument("pipeline", choices=pipeline_names(), help="the pipeline whose quarantined rows to release")
    parser.add_argument("--rule", default=None, help="only rows waiting on this rule (default: every retried rule)")
    add_environment_options(parser)
    parser.set_defaults(handler=requeue_pipeline)


def requeue_pipeline(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    context = RunContext(runtime, get_pipeline(args.pipeline))
    requeue.tables_with_retries(context, args.rule)  # an unknown rule fails before the lock is taken
    with runlock.hold(runtime.settings, args.pipeline, context.run_id):
        released = requeue.release_all(context, args.rule)
        eventlog.record(runtime.spark, runtime.system_path("event_log"), [r for r in released if r.rows_in])
    for stats in released:
        print(
            f"{args.pipeline}.{stats.table}: {stats.rows_in:,} of {stats.rows_read:,} waiting rows released "
            f"({stats.rows_inserted:,} inserted, {stats.rows_updated:,} updated, {stats.rows_unchanged:,} already there)"
        )
    if not released:
        print(f"{args.pipeline}: no quarantined row is waiting for a reference")
    return 0
