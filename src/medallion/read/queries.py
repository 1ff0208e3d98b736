"""Saved SQL queries of a pipeline: ``medallion/pipelines/<name>/queries/*.sql``, the analysts' questions.

A query is plain Spark SQL over the pipeline's gold tables by their bare names (``fact_movie_analytics``),
as an analyst writes it with the gold schema as the default; named parameters are ``:name`` markers.
``run_query`` binds each bare name to the table's current version, wherever the runtime stores it, as a
common table expression around the query: no view is registered in the session, so the result can be
analysed again later (as a Spark Connect server does each time a result is used) and still reads the
versions the call found.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from pyspark.sql import DataFrame

from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import Layer
from medallion.errors import MedallionError
from medallion.io import quoted, table_version
from medallion.platform.runtime import Runtime


def query_names(pipeline_name: str) -> list[str]:
    folder = resources.files(f"medallion.pipelines.{get_pipeline(pipeline_name).name}") / "queries"
    if not folder.is_dir():
        return []
    return sorted(entry.name[:-4] for entry in folder.iterdir() if entry.name.endswith(".sql"))


def query_text(pipeline_name: str, name: str) -> str:
    names = query_names(pipeline_name)
    if name not in names:
        raise MedallionError(
            f"{pipeline_name} has no saved query '{name}'. Saved queries: {', '.join(names) or 'none'}."
        )
    return (resources.files(f"medallion.pipelines.{pipeline_name}") / "queries" / f"{name}.sql").read_text("utf-8")


def run_query(runtime: Runtime, pipeline_name: str, name: str, **parameters: Any) -> DataFrame:
    """The result of a saved query over the current gold tables; ``parameters`` fill its ``:name`` markers."""
    text = query_text(pipeline_name, name)
    spark = runtime.spark
    bound = []
    for table in get_pipeline(pipeline_name).ordered(Layer.GOLD):
        location = runtime.location(pipeline_name, table.layer, table.name)
        version = table_version(spark, location.path)
        if version < 0:
            raise MedallionError(f"{location.name} does not exist yet: run `medallion run {pipeline_name}` first.")
        bound.append(f"{table.name} AS (SELECT * FROM {quoted(location.path)} VERSION AS OF {version})")
    # The saved query may have CTEs of its own: it stays whole, as a subquery (its ORDER BY holds).
    body = text.strip().rstrip(";")
    return spark.sql(f"WITH {', '.join(bound)}\nSELECT * FROM (\n{body}\n) AS saved_query", args=parameters or None)
