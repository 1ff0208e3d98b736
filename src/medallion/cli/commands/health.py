"""health: per table of a pipeline, the last run's status and counts, failing checks, quarantine."""

from __future__ import annotations

import argparse

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import pipeline_names
from medallion.display import format_rows
from medallion.read.health import HEADER, pipeline_health


def register(commands) -> None:
    health = commands.add_parser(
        "health", help="a pipeline's health: last run per table, rows, quarantined, dropped, failing checks"
    )
    health.add_argument("pipeline", choices=pipeline_names(), help="the pipeline to check")
    add_environment_options(health)
    health.set_defaults(handler=show_health)


def show_health(args: argparse.Namespace) -> int:
    """Prints the table; exit code 1 when a table's last run failed or one of its checks fails (for alerts)."""
    report = pipeline_health(runtime_from(args), args.pipeline)
    print(report.summary())
    print(format_rows(HEADER, [t.as_list() for t in report.tables]))
    return 0 if report.healthy else 1
