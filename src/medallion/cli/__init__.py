"""The ``medallion`` command line. Each command lives in its own module under ``medallion.cli.commands``
and registers itself; this module only assembles them and turns errors into one clear line.

Exit codes: 0 success; 1 a runtime failure (a failing check or test, an unreachable service, bad data,
a wrong setting in conf/); 2 a usage error (unknown command, option or value, a missing confirmation,
a file that does not exist); 130 interrupted. A traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from medallion import __version__
from medallion.errors import MedallionError, UsageError

EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
log = logging.getLogger("medallion")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion",
        description="Bronze → silver → gold pipelines on Spark + Delta Lake, locally or on Databricks.",
        epilog="Exit codes: 0 success, 1 runtime failure, 2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "--version", action="version", version=f"medallion {__version__}", help="print the version and exit"
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="log debug detail (and the traceback of an unexpected error)"
    )
    loudness.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    import medallion.cli.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        module.register(commands)
    return parser


def configure_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Library progress goes through ``logging`` to stderr; results a command prints go to stdout."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    # What the libraries we use log (Spark's gateway, Azure, the SDK) shows only when it is an error; verbose,
    # from INFO up, never their debug lines: Spark's gateway logs every command it sends to the JVM, the options
    # of a JDBC or Kafka source (a password) included, and HTTP clients their requests.
    least = logging.INFO if verbose else logging.ERROR
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.name.startswith("medallion") or record.levelno >= least)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse exits 2 on a usage error, 0 after --help/--version
    configure_logging(args.verbose, args.quiet)
    try:
        result = args.handler(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except MedallionError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # a defect, not a user mistake: one line, the traceback under --verbose
        log.debug("traceback of the unexpected error:", exc_info=True)
        first_line = str(err).strip().splitlines()[0][:500] if str(err).strip() else ""
        print(
            f"error: unexpected {type(err).__name__}: {first_line} (run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    return int(result or 0)
