"""Operational hooks (see medallion.declare.pipeline): the producer (notebook 10) and the acceptance
counts (notebooks 08, 09)."""

from __future__ import annotations

from medallion.declare.context import PipelineContext
from medallion.declare.tables import ExpectedCount
from medallion.pipelines.commerce.manifest import manifest
from medallion.pipelines.commerce.producer import produce as produce_set


def produce(
    context: PipelineContext, set_number: int = 1, scale: int | None = None, seed: int | None = None, **_options
) -> dict:
    """Land set N's files, publish its messages; returns the manifest of the sets produced so far."""
    defaults = context.conf["generator"]
    return produce_set(
        context.landing,
        context.conf,
        context.settings,
        context.secret,
        set_number,
        int(scale or defaults["scale"]),
        int(defaults["seed"] if seed is None else seed),
        context.log,
        topic_suffix=context.settings.schema_suffix,  # an isolated run publishes into topics of its own
    )


def expected_counts(context: PipelineContext) -> dict[int, list[ExpectedCount]]:
    """Rows of every silver and gold table after sets 1 and 2 (default scale and seed), from the manifest."""
    defaults = context.conf["generator"]
    counts = {}
    for set_number in (1, 2):
        truths = manifest(range(1, set_number + 1), int(defaults["scale"]), int(defaults["seed"]), context.conf)
        silver = truths["silver"]
        counts[set_number] = [
            ExpectedCount("sales", silver["sales"]),
            ExpectedCount("customers", silver["customers"]),
            ExpectedCount("customers", silver["customers_current"], "is_current"),
            ExpectedCount("clicks", silver["clicks"]),
            ExpectedCount("iot_readings", silver["iot_readings"]),
            *[ExpectedCount(table, len(rows)) for table, rows in truths["gold"].items()],
        ]
    return counts
