"""upload: send a data set to the landing zone (ADLS Gen2 on Azure, the local landing folder locally)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from medallion.cli.common import add_environment_options
from medallion.declare.pipeline import get_pipeline, pipeline_names
from medallion.errors import MedallionError, UsageError
from medallion.platform.azure_identity import checked_credential
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime
from medallion.sources.landing import files_under, landing_for, single_file, upload


def register(commands) -> None:
    parser = commands.add_parser(
        "upload", help="send a pipeline's data set (or your own files) to the environment's landing zone"
    )
    parser.add_argument("pipeline", nargs="?", choices=pipeline_names(), help="land this pipeline's data set --set N")
    parser.add_argument("--set", dest="set_number", type=int, default=1, help="which data set (default 1)")
    parser.add_argument("--path", type=Path, help="instead: a local file or folder to upload")
    parser.add_argument(
        "--to",
        dest="folder",
        default="",
        help="with --path: the landing folder to put it in (inside the pipeline's zone when one is named)",
    )
    add_environment_options(parser)
    parser.set_defaults(handler=upload_data_set)


def upload_data_set(args: argparse.Namespace) -> int:
    settings = load_settings(args.env, root=args.root)
    credential = None
    if "://" in settings.landing:  # ADLS: find the identity first (seconds), not after producing the data set
        credential = checked_credential(f"the landing zone {settings.landing}")
    landing = landing_for(settings, credential=credential)
    if args.path:
        if not args.path.exists():
            raise UsageError(f"{args.path} does not exist.")
        # Landing zones are namespaced per pipeline (<landing>/<pipeline>/<folder>/).
        folder = "/".join(part for part in (args.pipeline, args.folder.strip("/")) if part)
        files = files_under(args.path, folder) if args.path.is_dir() else single_file(args.path, folder)
        upload(landing, files)
        return 0
    if not args.pipeline:
        raise UsageError("Name a pipeline (with --set N) or give --path FILE_OR_FOLDER.")
    with tempfile.TemporaryDirectory(prefix="medallion-upload-") as scratch:
        staged = _produce_locally(args.env, args.pipeline, args.set_number, Path(scratch))
        upload(landing, files_under(staged))
    return 0


def _produce_locally(env: str, pipeline_name: str, set_number: int, scratch: Path) -> Path:
    """Run the pipeline's producer against a scratch landing folder, with the target environment's
    pipeline settings, so exactly the files it would land are uploaded."""
    pipeline = get_pipeline(pipeline_name)
    if pipeline.hook("produce") is None:
        raise MedallionError(f"{pipeline_name} has no producer: upload its files with --path.")
    staged = scratch / "landing"
    settings = load_settings(
        env,
        root=str(scratch / "root"),
        overrides={
            "runtime": "local",
            "storage": {"root": str(scratch / "root"), "landing": str(staged)},
            "secrets": {"provider": "env"},
        },
    )
    from medallion.engine import hooks

    hooks.produce(Runtime(settings), pipeline, set_number=set_number)
    return staged
