"""show, runs: reading tables and the event log."""

from __future__ import annotations

import argparse

from pyspark.sql import functions as F

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import get_pipeline, pipeline_names
from medallion.display import format_rows, print_dataframe
from medallion.errors import UnknownTableError, UsageError
from medallion.io import table_exists
from medallion.read import lakehouse as gold


def register(commands) -> None:
    show = commands.add_parser("show", help="print a table: PIPELINE.TABLE, or TABLE when the name is unique")
    show.add_argument("table", help="PIPELINE.TABLE, or TABLE when only one pipeline has it")
    show.add_argument("--limit", type=int, default=50, help="print at most this many rows (default 50)")
    show.add_argument("--where", help='a SQL filter, e.g. "user_id = 12474" (read without Spark, by delta-rs)')
    add_environment_options(show)
    show.set_defaults(handler=show_table)

    runs = commands.add_parser("runs", help="the last runs from the event log")
    runs.add_argument("pipeline", nargs="?", choices=pipeline_names(), help="only this pipeline's runs (default: all)")
    runs.add_argument("--limit", type=int, default=30, help="print at most this many runs (default 30)")
    add_environment_options(runs)
    runs.set_defaults(handler=show_runs)


def resolve_table(name: str):
    """``pipeline.table`` or a table name unique across pipelines → (pipeline, table declaration)."""
    if "." in name:
        pipeline_name, table_name = name.split(".", 1)
        return pipeline_name, get_pipeline(pipeline_name).get(table_name)
    found = [(p, get_pipeline(p).tables[name]) for p in pipeline_names() if name in get_pipeline(p).tables]
    if len(found) != 1:
        where = ", ".join(f"{p}.{name}" for p, _ in found) or "no pipeline"
        raise UnknownTableError(f"'{name}' is in {where}: name it as PIPELINE.TABLE.")
    return found[0]


def show_table(args: argparse.Namespace) -> int:
    """Read through ``medallion.read.lakehouse`` (delta-rs): no Spark session starts, so this answers at once."""
    pipeline_name, table = resolve_table(args.table)
    runtime = runtime_from(args)
    refuse_remote(runtime.settings, "show")
    location = runtime.location(pipeline_name, table.layer, table.name)
    if not gold.is_table(location.path):
        raise UnknownTableError(f"{location.name} has not been created yet: run `medallion run {pipeline_name}`.")
    rows = gold.read_table(location.path, where=args.where, limit=args.limit)
    print(f"{location.name}: {gold.count_rows(location.path, where=args.where):,} rows")
    print(format_rows(rows.column_names, [list(row.values()) for row in rows.to_pylist()]))
    return 0


def refuse_remote(settings, command: str) -> None:
    """show and report read a local storage root without Spark; a Databricks environment's tables are read
    where they live."""
    if settings.is_databricks:
        raise UsageError(
            f"`medallion {command}` reads a local storage root; conf/{settings.env}.yml is a Databricks environment "
            f"({settings.root}). Query {settings.catalog or 'the catalog'}.<pipeline>_<layer>.<table> in the "
            f"workspace (SQL editor or a notebook), or the gold views from Synapse (`medallion export-sql`)."
        )


def show_runs(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    refuse_remote(runtime.settings, "runs")
    path = runtime.system_path("event_log")
    if not table_exists(runtime.spark, path):
        print("no runs recorded yet")
        return 0
    log = runtime.spark.read.format("delta").load(path)
    if args.pipeline:
        log = log.where(F.col("pipeline") == args.pipeline)
    print_dataframe(
        log.orderBy(F.col("started_at").desc()).select(
            "started_at",
            "pipeline",
            "table",
            "mode",
            "status",
            "rows_in",
            "rows_inserted",
            "rows_updated",
            "rows_quarantined",
            "rows_duplicate",
            "rows_late",
            F.round("duration_s", 1).alias("seconds"),
            "error",
        ),
        args.limit,
    )
    return 0
