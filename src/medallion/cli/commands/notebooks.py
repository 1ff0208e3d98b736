"""notebook: run one of the Databricks notebooks locally, through the same code path as the workspace."""
from __future__ import annotations

import argparse

from medallion.notebook import run_notebook


def register(commands) -> None:
    parser = commands.add_parser("notebook", help="run a Databricks source notebook locally")
    parser.add_argument("path", help="e.g. notebooks/04-bronze.py")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a widget value, e.g. --param pipeline=fitness (env defaults to local)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    params = {"env": "local"}
    for item in args.param:
        name, _, value = item.partition("=")
        params[name] = value
    result = run_notebook(args.path, params)
    print(result if result is not None else "")
    return 0
