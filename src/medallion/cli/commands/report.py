"""report: a static HTML page of the gold tables, read without Spark."""

from __future__ import annotations

import argparse
from pathlib import Path

from medallion.cli.commands.tables import refuse_remote
from medallion.cli.common import add_environment_options
from medallion.declare.pipeline import pipeline_names
from medallion.platform.config import load_settings
from medallion.read import report
from medallion.read.lakehouse import Lakehouse


def register(commands) -> None:
    parser = commands.add_parser("report", help="write an HTML page with every gold table and a chart per table")
    parser.add_argument(
        "--pipeline",
        action="append",
        choices=pipeline_names(),
        help="only this pipeline (repeatable; default: every pipeline with gold tables written)",
    )
    parser.add_argument(
        "--out", default="reports/index.html", help="the HTML file to write (default reports/index.html)"
    )
    add_environment_options(parser)
    parser.set_defaults(handler=write_report)


def write_report(args: argparse.Namespace) -> int:
    settings = load_settings(args.env, root=args.root)
    refuse_remote(settings, "report")
    lake = Lakehouse(settings.root)
    pipelines = args.pipeline or sorted({name.split(".")[0] for name in lake.tables()}) or pipeline_names()
    out = report.write(lake, pipelines, settings.env, Path(args.out))
    print(f"report: {out.resolve()}")
    return 0
