"""notebook: run one of the Databricks notebooks locally, through the same code path as the workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from medallion.errors import UsageError
from medallion.notebook import NOTEBOOK_HEADER, run_notebook


def register(commands) -> None:
    parser = commands.add_parser("notebook", help="run a Databricks source notebook locally")
    parser.add_argument("path", help="e.g. notebooks/04-bronze.py")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a widget value, e.g. --param pipeline=fitness (env defaults to local)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        near = sorted(p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else []
        raise UsageError(
            f"{path} is not a file." + (f" Notebooks in {path.parent}: {', '.join(near)}." if near else "")
        )
    with path.open(encoding="utf-8", errors="replace") as source:
        if not source.readline().startswith(NOTEBOOK_HEADER):
            raise UsageError(f"{path} is not a Databricks source notebook: its first line must be '{NOTEBOOK_HEADER}'.")
    params = {"env": "local"}
    for item in args.param:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise UsageError(f"--param expects NAME=VALUE, got '{item}'.")
        params[name] = value
    result = run_notebook(args.path, params)
    print(result if result is not None else "")
    return 0
