"""query: run a pipeline's saved SQL query (its analysts' questions) and print the result."""

from __future__ import annotations

import argparse

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import pipeline_names
from medallion.display import print_dataframe
from medallion.errors import UsageError
from medallion.read.queries import query_names, run_query


def register(commands) -> None:
    query = commands.add_parser("query", help="run a saved SQL query of a pipeline (no name: list them)")
    query.add_argument("pipeline", choices=pipeline_names(), help="the pipeline whose saved queries to use")
    query.add_argument("name", nargs="?", help="the query (a file name in the pipeline's queries/ folder)")
    query.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for a :NAME marker of the query (repeatable); whole numbers are passed as numbers",
    )
    query.add_argument("--limit", type=int, default=100, help="print at most this many rows (default 100)")
    add_environment_options(query)
    query.set_defaults(handler=run_saved_query)


def run_saved_query(args: argparse.Namespace) -> int:
    if not args.name:
        for name in query_names(args.pipeline):
            print(name)
        return 0
    parameters = dict(parse_parameter(text) for text in args.param)
    result = run_query(runtime_from(args), args.pipeline, args.name, **parameters)
    print_dataframe(result, args.limit)
    return 0


def parse_parameter(text: str) -> tuple[str, object]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise UsageError(f"--param expects NAME=VALUE, got '{text}'.")
    return name, int(value) if value.lstrip("-").isdigit() else value
