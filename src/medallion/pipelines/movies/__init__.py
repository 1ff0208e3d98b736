"""The ``movies`` pipeline (movie review analytics): see the README's pipeline table for its tables and rules."""
from medallion.pipelines.movies import bronze, gold, silver  # noqa: F401  (they declare the tables)
from medallion.pipelines.movies.acceptance import expected_counts
from medallion.pipelines.movies.hooks import producer, setup
from medallion.pipelines.movies.pipeline import PIPELINE

PIPELINE.producer = producer
PIPELINE.setup = setup
PIPELINE.acceptance = expected_counts

__all__ = ["PIPELINE"]
