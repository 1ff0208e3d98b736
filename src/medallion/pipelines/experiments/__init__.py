"""The ``experiments`` pipeline (A/B tests, seed 000): see the README's pipeline table and spec."""
from medallion.pipelines.experiments import bronze, gold, gold_quality, silver  # noqa: F401  (they declare the tables)
from medallion.pipelines.experiments.hooks import producer, setup
from medallion.pipelines.experiments.pipeline import PIPELINE

PIPELINE.producer = producer
PIPELINE.setup = setup

__all__ = ["PIPELINE"]
