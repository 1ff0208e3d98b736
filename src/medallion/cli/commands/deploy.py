"""deploy, grants, export-sql: shipping the project to Azure Databricks and to the analysts.

``deploy`` and ``export-sql`` run from a checkout of the repository: their code lives in the top-level
``deployment/`` package, which is not part of the wheel they ship.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from medallion.errors import MedallionError, UsageError
from medallion.platform.config import PROJECT_DIR


def register(commands) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="deploy to Databricks: the wheel, notebooks and conf, and one job per pipeline",
        description="Plan, then apply: upload the wheel, notebooks/ and conf/ to the environment's workspace "
        "folder and create or update its jobs, all from conf/<env>.yml. Re-running changes nothing.",
    )
    deploy.add_argument("--env", required=True, help="the environment: conf/<env>.yml (dev, qa, prod)")
    deploy.add_argument(
        "--plan", action="store_true", help="show what would be created, changed or removed; write nothing"
    )
    deploy.add_argument(
        "--out",
        type=Path,
        metavar="PLAN.json",
        help="with --plan: save the plan there (the artifact an approver reads)",
    )
    deploy.add_argument(
        "--apply",
        type=Path,
        metavar="PLAN.json",
        help="apply only if the plan computed now is exactly this saved plan; else change nothing",
    )
    deploy.add_argument("--destroy", action="store_true", help="remove what this project deployed to the environment")
    deploy.add_argument("--yes", action="store_true", help="with --destroy: really remove")
    deploy.add_argument(
        "--run-tests",
        action="store_true",
        help="run the deployed integration-tests job (notebook 08-batch-test), wait, fail if a test fails",
    )
    deploy.add_argument("--poll", type=float, default=15.0, help="with --run-tests: seconds between status checks")
    deploy.add_argument("--wheel", type=Path, help="the wheel to deploy (default: build it from this checkout)")
    deploy.add_argument("--notebooks", type=Path, default=PROJECT_DIR / "notebooks", help="the notebooks folder")
    deploy.set_defaults(handler=run_deploy)

    grants = commands.add_parser("grants", help="print the Unity Catalog GRANT statements of an environment")
    grants.add_argument("--env", required=True, help="the environment: conf/<env>.yml (dev, qa, prod)")
    grants.set_defaults(handler=print_grants)

    bundle = commands.add_parser(
        "bundle",
        help="write databricks.yml and resources/ (Declarative Automation Bundles) from the same jobs",
        description="For `databricks bundle deploy`: the jobs `medallion deploy` creates, as bundle resources "
        "with dev (development mode), qa and prod (production mode) targets.",
    )
    bundle.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed files differ from what conf/ renders",
    )
    bundle.set_defaults(handler=write_bundle)

    export = commands.add_parser("export-sql", help="write the SQL that exposes the gold tables to another engine")
    export.add_argument("--target", choices=["synapse"], required=True, help="the engine the SQL is for")
    export.add_argument("--env", required=True, help="the environment: conf/<env>.yml (dev, qa, prod)")
    export.add_argument(
        "--schemas-from",
        metavar="ROOT",
        default=None,
        help="storage root whose gold tables give the views' column types (default: the local lakehouse)",
    )
    export.add_argument("--out", type=Path, help="file to write (default: dist/<target>-<env>.sql); '-' prints it")
    export.set_defaults(handler=export_sql)


def run_deploy(args: argparse.Namespace) -> int:
    commands = _deployment("commands")
    project = commands.Project(notebooks_dir=args.notebooks)
    if args.run_tests:  # the plan, the test outcomes: the command's own output, on stdout
        return commands.run_tests(args.env, project, poll_seconds=args.poll, progress=print)
    if args.destroy:
        commands.destroy(args.env, project, plan_only=args.plan, confirmed=args.yes, progress=print)
        return 0
    if args.out and not args.plan:
        raise UsageError("--out saves a plan: use it with --plan (then deploy with --apply PLAN.json).")
    if args.apply and args.plan:
        raise UsageError("--apply applies a saved plan: leave out --plan.")
    commands.deploy(
        args.env,
        project,
        wheel=args.wheel,
        plan_only=args.plan,
        progress=print,
        save_plan=args.out,
        approved_plan=args.apply,
    )
    return 0


def print_grants(args: argparse.Namespace) -> int:
    from medallion.platform import grants

    access = grants.access_for(args.env)
    print(grants.render(access, grants.gold_tables_of(list(access.pipelines))), end="")
    return 0


def export_sql(args: argparse.Namespace) -> int:
    from medallion.declare.pipeline import pipeline_names
    from medallion.platform.config import load_settings
    from medallion.platform.grants import gold_tables_of

    settings = _deployment("settings").load_deployment(args.env, known_pipelines=pipeline_names())
    gold = gold_tables_of(list(settings.pipelines))
    root = args.schemas_from or load_settings("local").root
    columns = _deployment("synapse_types").gold_columns(root, gold, settings.synapse.string_length)
    script = _deployment("synapse").render(settings, gold, columns)
    if str(args.out) == "-":
        print(script, end="")
        return 0
    out = args.out or PROJECT_DIR / "dist" / f"{args.target}-{args.env}.sql"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(script)
    print(f"{args.target} script for {args.env}: {out}")
    return 0


def write_bundle(args: argparse.Namespace) -> int:
    import os

    from medallion.declare.pipeline import pipeline_names
    from medallion.platform.config import CONF_DIR_ENV_VAR, DEFAULT_CONF_DIR

    bundle = _deployment("bundle")
    conf_dir = Path(os.environ.get(CONF_DIR_ENV_VAR) or DEFAULT_CONF_DIR)
    files = bundle.render(conf_dir, PROJECT_DIR / "notebooks", pipeline_names())
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (PROJECT_DIR / name).is_file() or (PROJECT_DIR / name).read_text() != text
        ]
        if stale:
            raise MedallionError(f"{', '.join(stale)} differ from conf/: run `medallion bundle` and commit them.")
        print("databricks.yml and resources/ match conf/")
        return 0
    for path in bundle.write(PROJECT_DIR, files):
        print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


def _has_deployment() -> bool:
    return (PROJECT_DIR / "deployment" / "__init__.py").exists()


def _deployment(module: str):
    """Import ``deployment.<module>`` from the checkout (it is not installed with the package)."""
    if not _has_deployment():
        raise MedallionError(
            "This command runs from a checkout of the repository: deployment/ is not in the installed package."
        )
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    try:
        return importlib.import_module(f"deployment.{module}")
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in ("databricks",):
            raise MedallionError(f"{err.name} is missing: pip install -r requirements.txt") from None
        raise
