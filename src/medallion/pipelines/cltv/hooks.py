"""Operational hooks: the producer lands the training file (set 1) or a batch of synthetic new customers
(set N ≥ 2); ``train`` trains, tracks and registers the two models (a run calls it before scoring)."""

from __future__ import annotations

from medallion.declare.context import PipelineContext
from medallion.declare.tables import ExpectedCount
from medallion.pipelines.cltv import generator
from medallion.pipelines.cltv.bronze import NEW_FOLDER, TRAIN_FOLDER

TRAINING_ROWS = 7043


def produce(context: PipelineContext, set_number: int = 1, **options) -> list[str]:
    """Set 1: the Telco training file, plus an empty new-customers file (its header) so that both landing
    folders exist. Set N ≥ 2: ``scale`` (default ``new_customers``) synthetic new customers, seeded by
    ``seed`` + N. A file already landed is left alone: producing a set twice changes nothing."""
    if set_number < 1:
        raise ValueError(f"cltv: data sets are numbered from 1, got {set_number}")
    if set_number == 1:
        training = generator.TRAINING_FILE.read_bytes()
        landed = [
            context.landing.write(TRAIN_FOLDER, generator.TRAINING_FILE.name, lambda out: out.write(training)),
            context.landing.write_text(NEW_FOLDER, "new_customers_0001.csv", generator.to_csv([])),
        ]
        context.log(f"[cltv] set 1: the training file ({TRAINING_ROWS:,} customers) landed")
        return landed
    count = int(options.get("scale") or context.conf["new_customers"])
    seed = int(options.get("seed") or context.conf["seed"]) + set_number
    rows = generator.sample(generator.fit(generator.read_training()), count, seed, f"NEW{set_number:04d}")
    landed = [context.landing.write_text(NEW_FOLDER, f"new_customers_{set_number:04d}.csv", generator.to_csv(rows))]
    context.log(f"[cltv] set {set_number}: {count:,} new customers landed")
    return landed


def train(context: PipelineContext, force: bool = False) -> list:
    """Train the CLTV regressor and the segmentation on ``customer_features`` as it is now (each skipped
    when it already learnt from this version of the table with these settings, unless ``force``)."""
    from medallion.pipelines.cltv import tracking
    from medallion.sources import models

    assert context.read_table is not None  # the engine gives every hook its tables
    features, version = context.read_table("customer_features")
    if version < 0:
        context.log("[cltv] nothing to train on yet: customer_features does not exist")
        return []
    registry = models.registry(context.settings, context.name)
    features = features.cache()
    try:
        data_tag = tracking.training_data_tag(features, version)
        return [
            tracking.train_regressor(registry, features, context.conf, data_tag, force=force, log=context.log),
            tracking.train_segmentation(registry, features, context.conf, data_tag, force=force, log=context.log),
        ]
    finally:
        features.unpersist()


def expected_counts(context: PipelineContext) -> dict[int, list[ExpectedCount]]:
    """Set 1: every training customer in bronze, silver and scored; set N adds ``new_customers`` each."""
    per_set = int(context.conf["new_customers"])
    counts = {}
    for set_number in (1, 2):
        new = per_set * (set_number - 1)
        counts[set_number] = [
            ExpectedCount("customers_train_raw", TRAINING_ROWS),
            ExpectedCount("customers_new_raw", new),
            ExpectedCount("customers", TRAINING_ROWS + new),
            ExpectedCount("customer_features", TRAINING_ROWS + new),
            ExpectedCount("cltv_predictions", TRAINING_ROWS + new),
            ExpectedCount("customer_segments", TRAINING_ROWS + new),
        ]
    return counts
