"""Operational hooks (see medallion.declare.pipeline): the producer (notebook 10)."""
from __future__ import annotations

from medallion.declare.context import PipelineContext
from medallion.pipelines.commerce.producer import produce as produce_set


def produce(context: PipelineContext, set_number: int = 1, scale: int | None = None, seed: int | None = None,
            **_options) -> dict:
    """Land set N's files, publish its messages; returns the manifest of the sets produced so far."""
    defaults = context.conf["generator"]
    return produce_set(context.landing, context.conf, context.settings, context.secret, set_number,
                       int(scale or defaults["scale"]), int(defaults["seed"] if seed is None else seed), context.log)
