"""setup, produce, run, reset, history: operating a pipeline."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import get_pipeline, pipeline_names
from medallion.declare.tables import Layer
from medallion.display import print_counts
from medallion.engine import hooks, runner
from medallion.errors import MedallionError
from medallion.platform import layout


def register(commands) -> None:
    listing = commands.add_parser("pipelines", help="list the pipelines and their tables")
    listing.set_defaults(handler=list_pipelines)

    setup = commands.add_parser("setup", help="create the pipeline's sources, tables and reference data (idempotent)")
    setup.add_argument("pipeline", choices=pipeline_names(), help="the pipeline to set up")
    add_environment_options(setup)
    setup.set_defaults(handler=setup_pipeline)

    history = commands.add_parser("history", help="load the pipeline's reference data (the history loader)")
    history.add_argument("pipeline", choices=pipeline_names(), help="the pipeline whose reference data to load")
    add_environment_options(history)
    history.set_defaults(handler=load_history)

    produce = commands.add_parser("produce", help="drop a data set into the landing zone (the producer)")
    produce.add_argument("pipeline", choices=pipeline_names(), help="the pipeline whose data set to land")
    produce.add_argument("--set", dest="set_number", type=int, default=1, help="which data set to land (default 1)")
    produce.add_argument("--scale", type=int, default=None, help="generators: how much to generate (e.g. users)")
    produce.add_argument("--seed", type=int, default=None, help="generators: the random seed (same seed, same data)")
    add_environment_options(produce)
    produce.set_defaults(handler=produce_set)

    run = commands.add_parser("run", help="process what is new: once (then stop) or as streams")
    run.add_argument("pipeline", choices=pipeline_names(), help="the pipeline to run")
    run.add_argument("--layer", choices=[layer.value for layer in Layer], help="only this layer (default: all)")
    run.add_argument("--table", action="append", help="only this table (repeatable)")
    run.add_argument(
        "--mode",
        choices=["once", "stream"],
        default="once",
        help="once: incremental availableNow run; stream: processingTime triggers until stopped",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="stream mode: stop after this many seconds (default: run until stopped)",
    )
    add_environment_options(run)
    run.set_defaults(handler=run_pipeline)

    train = commands.add_parser(
        "train", help="train the pipeline's models (its train hook); a run trains before scoring"
    )
    train.add_argument("pipeline", choices=pipeline_names(), help="the pipeline whose models to train")
    train.add_argument("--force", action="store_true", help="retrain even when the training data did not change")
    add_environment_options(train)
    train.set_defaults(handler=train_models)

    reset = commands.add_parser("reset", help="delete the pipeline's tables, checkpoints and landing files")
    reset.add_argument("pipeline", choices=pipeline_names(), help="the pipeline to reset (local only)")
    reset.add_argument("--keep-landing", action="store_true", help="keep the landing zone files")
    add_environment_options(reset)
    reset.set_defaults(handler=reset_pipeline)


def train_models(args: argparse.Namespace) -> int:
    pipeline = get_pipeline(args.pipeline)
    if pipeline.hook("train") is None:
        raise MedallionError(f"{args.pipeline} has no models to train (no train() in its hooks.py).")
    hooks.train(runtime_from(args), pipeline, force=args.force)
    return 0


def list_pipelines(args: argparse.Namespace) -> int:
    for name in pipeline_names():
        pipeline = get_pipeline(name)
        print(f"{name}: {pipeline.description}")
        for table in pipeline.ordered():
            print(f"  {table.layer.value:<6} {table.name:<28} {type(table.write).__name__:<14} {table.comment}")
    return 0


def setup_pipeline(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    pipeline = get_pipeline(args.pipeline)
    granted = runner.prepare(runtime, pipeline)  # grants: Unity Catalog only; nothing locally
    print(
        f"{args.pipeline}: {len(pipeline.tables)} tables ready under {runtime.settings.root}"
        + (f", {len(granted)} grants applied" if granted else "")
    )
    return 0


def load_history(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    pipeline = get_pipeline(args.pipeline)
    if not any(t.history for t in pipeline.tables.values()):
        print(f"{args.pipeline} has no reference data to load")
        return 0
    runner.load_history(runtime, pipeline)
    return 0


def produce_set(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    pipeline = get_pipeline(args.pipeline)
    options = {name: getattr(args, name) for name in ("scale", "seed") if getattr(args, name) is not None}
    hooks.produce(runtime, pipeline, set_number=args.set_number, **options)
    return 0


def run_pipeline(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    layers = [Layer(args.layer)] if args.layer else None
    if args.mode == "stream":
        streams = runner.start_streams(runtime, args.pipeline, layers=layers)
        try:
            streams.wait(args.timeout)
        finally:
            streams.stop()
    else:
        runner.run(runtime, args.pipeline, layers=layers, tables=args.table)
    print_counts(runtime, args.pipeline)
    return 0


def reset_pipeline(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    if runtime.settings.is_databricks:
        raise MedallionError("reset deletes data: it only runs locally. On Databricks drop the schemas explicitly.")
    root = runtime.settings.root
    targets = [Path(layout.pipeline_folder(root, args.pipeline)), Path(layout.checkpoints(root, args.pipeline))]
    if not args.keep_landing:
        targets.append(Path(runtime.settings.landing_path(args.pipeline)))
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
    print(f"{args.pipeline}: reset ({', '.join(str(t) for t in targets)})")
    return 0
