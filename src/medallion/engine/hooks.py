"""Calling a pipeline's hooks (see medallion.declare.pipeline) with the context they are owed."""

from __future__ import annotations

import logging
from typing import Any

from medallion import io
from medallion.declare.context import PipelineContext
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import ExpectedCount
from medallion.errors import MedallionError
from medallion.platform.runtime import Runtime
from medallion.sources.landing import LandingZone

log = logging.getLogger("medallion")


def pipeline_context(runtime: Runtime, pipeline: Pipeline) -> PipelineContext:
    return PipelineContext(
        name=pipeline.name,
        conf=runtime.settings.pipeline(pipeline.name),
        landing=LandingZone(runtime.settings.landing, pipeline.name, upload_root=runtime.settings.landing_upload),
        settings=runtime.settings,
        secret=runtime.secrets.get,
        spark=lambda: runtime.spark,
        log=log.info,
        read_table=lambda table_name: read_table(runtime, pipeline, table_name),
    )


def read_table(runtime: Runtime, pipeline: Pipeline, table_name: str) -> tuple[Any, int]:
    """A table of the pipeline at its current version, pinned, and that version (None, -1: no table yet)."""
    location = runtime.location(pipeline.name, pipeline.get(table_name).layer, table_name)
    version = io.table_version(runtime.spark, location.path)
    if version < 0:
        return None, -1
    return runtime.spark.read.format("delta").option("versionAsOf", version).load(location.path), version


def train(runtime: Runtime, pipeline: Pipeline, force: bool = False) -> Any:
    """Train the pipeline's models (its ``train`` hook; None when it has none). ``force`` retrains even
    when the hook finds nothing changed since its last training."""
    hook = pipeline.hook("train")
    return hook(pipeline_context(runtime, pipeline), force=force) if hook else None


def produce(runtime: Runtime, pipeline: Pipeline, set_number: int = 1, **options: Any) -> Any:
    """Land data set ``set_number`` (notebook 10, ``medallion produce``)."""
    hook = pipeline.hook("produce")
    if hook is None:
        raise MedallionError(f"{pipeline.name} has no producer (no produce() in its hooks.py).")
    return hook(pipeline_context(runtime, pipeline), set_number=set_number, **options)


def setup(runtime: Runtime, pipeline: Pipeline) -> Any:
    hook = pipeline.hook("setup")
    return hook(pipeline_context(runtime, pipeline)) if hook else None


def land_history(runtime: Runtime, pipeline: Pipeline) -> Any:
    hook = pipeline.hook("load_history")
    return hook(pipeline_context(runtime, pipeline)) if hook else None


def expected_counts(runtime: Runtime, pipeline: Pipeline) -> dict[int, list[ExpectedCount]] | None:
    hook = pipeline.hook("expected_counts")
    return hook(pipeline_context(runtime, pipeline)) if hook else None
