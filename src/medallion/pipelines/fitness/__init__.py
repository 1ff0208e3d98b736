"""The ``fitness`` pipeline (wearable devices): see the README's pipeline table for its tables and rules."""
from medallion.pipelines.fitness import bronze, gold, silver  # noqa: F401  (they declare the tables)
from medallion.pipelines.fitness.acceptance import expected_counts
from medallion.pipelines.fitness.hooks import history_loader, producer
from medallion.pipelines.fitness.pipeline import PIPELINE

PIPELINE.producer = producer
PIPELINE.history_loader = history_loader
PIPELINE.acceptance = expected_counts

__all__ = ["PIPELINE"]
