"""Options every command shares (environment, storage root) and the runtime they select."""

from __future__ import annotations

import argparse

from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime


def add_environment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="local", help="configuration environment: conf/<env>.yml (default: local)")
    parser.add_argument(
        "--root", default=None, help="local storage root (default: $MEDALLION_ROOT, else .lakehouse/ in the project)"
    )


def runtime_from(args: argparse.Namespace) -> Runtime:
    return Runtime(load_settings(args.env, root=args.root))
