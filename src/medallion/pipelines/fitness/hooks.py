"""Operational hooks (see medallion.declare.pipeline): the producer (notebook 10), the calendar lookup
(notebook 03) and the acceptance counts (notebooks 08, 09)."""

from __future__ import annotations

from medallion.declare.context import PipelineContext
from medallion.declare.tables import ExpectedCount
from medallion.pipelines.fitness.acceptance import expected_counts_for
from medallion.pipelines.fitness.producer import land_date_lookup
from medallion.pipelines.fitness.producer import produce as produce_set


def produce(context: PipelineContext, set_number: int = 1, scale: int | None = None, **_options) -> list[str]:
    return produce_set(context.landing, context.conf, set_number, context.log, scale=scale or 1)


def load_history(context: PipelineContext) -> list[str]:
    """Land the calendar lookup; the engine then loads ``date_lookup`` (skipped when the file is unchanged)."""
    return [land_date_lookup(context.landing)]


def expected_counts(context: PipelineContext) -> dict[int, list[ExpectedCount]]:
    return expected_counts_for(context.conf)
