"""Operational hooks (see medallion.declare.pipeline): setup (notebook 02) and the producer (notebook 10)."""

from __future__ import annotations

from medallion.declare.context import PipelineContext
from medallion.errors import MedallionError
from medallion.pipelines.experiments import operational
from medallion.pipelines.experiments.landing import produce as produce_data_set


def setup(context: PipelineContext) -> dict[str, int]:
    """Create and seed the operational database's schema (idempotent)."""
    return operational.setup(context)


def produce(
    context: PipelineContext,
    set_number: int = 1,
    scale: int | None = None,
    seed: int | None = None,
    planted: bool = True,
    **_options,
) -> dict:
    """Land the generated data set (``scale`` users, ``seed``; defaults from conf ``generator``).

    There is one data set per (scale, seed): ``set_number`` must be 1."""
    if set_number != 1:
        raise MedallionError("experiments lands one data set per --scale and --seed: use --set 1 (the default).")
    defaults = context.conf["generator"]
    return produce_data_set(
        context.landing,
        int(scale or defaults["scale"]),
        int(defaults["seed"] if seed is None else seed),
        planted=planted,
        progress=context.log,
    )
