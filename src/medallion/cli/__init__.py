"""The ``medallion`` command line. Each command lives in its own module under ``medallion.cli.commands``
and registers itself; this module only assembles them and turns expected errors into one clear line."""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from medallion.errors import MedallionError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion",
        description="Bronze → silver → gold pipelines on Spark + Delta Lake, locally or on Databricks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    import medallion.cli.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        result = args.handler(args)
    except MedallionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    return int(result or 0)
