"""Everything a pipeline needs before its first run (notebook 02, ``medallion setup``), idempotent."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from medallion import io
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import FileSource, JdbcSource, KafkaSource, Model, Scd2, Table
from medallion.engine import hooks, personal_data
from medallion.engine.batch import final_columns
from medallion.engine.context import Progress, print_progress
from medallion.engine.eventlog import TableRun
from medallion.platform.runtime import Runtime
from medallion.sources import jdbc, kafka, models
from medallion.sources.files import source_schema


def prepare(runtime: Runtime, pipeline: Pipeline) -> list[str]:
    """Its external sources, its tables, its reference data, and on Databricks its Unity Catalog grants.
    Returns the grants applied."""
    from medallion.platform import grants

    hooks.setup(runtime, pipeline)
    ensure_tables(runtime, pipeline)
    load_history(runtime, pipeline)
    return grants.apply_grants(runtime, pipeline.name)


def load_history(runtime: Runtime, pipeline: Pipeline, progress: Progress = print_progress) -> list[TableRun]:
    """Notebook 03: the pipeline lands its reference files, then its history tables are loaded (each is
    skipped when its reference files did not change)."""
    from medallion.engine.pipeline import run

    hooks.land_history(runtime, pipeline)
    history = [t.name for t in pipeline.ordered() if t.history]
    return run(runtime, pipeline.name, tables=history, progress=progress) if history else []


def ensure_tables(runtime: Runtime, pipeline: Pipeline, existing: set[str] | None = None) -> list[str]:
    """Create every declared table that does not exist yet, empty, with the schema its build function gives
    on empty inputs, and register it by name. A table that reads a model with no version under its alias
    yet (nothing trained), and the tables downstream of it, wait: the run that trains creates them. Tables
    that exist are neither read nor registered again
    (``existing`` names them when the caller already knows). Returns the tables created."""
    spark = runtime.spark
    schemas: dict[str, StructType] = {}
    waiting: set[str] = set()  # tables whose model is not trained yet, and what reads them

    def schema_of(table: Table) -> StructType:
        if table.name not in schemas:
            path = runtime.location(pipeline.name, table.layer, table.name).path
            schemas[table.name] = spark.read.format("delta").load(path).schema
        return schemas[table.name]

    with _Creations(runtime, pipeline) as creations:
        for table in pipeline.ordered():
            location = runtime.location(pipeline.name, table.layer, table.name)
            if (existing is not None and table.name in existing) or (
                existing is None and io.table_exists(spark, location.path)
            ):
                continue
            if waiting.intersection(table.upstream):
                waiting.add(table.name)
                continue
            upstream = {name: schema_of(pipeline.get(name)) for name in table.upstream}
            try:
                schemas[table.name] = output_schema(runtime, pipeline, table, upstream)
            except models.NoModelVersion:
                waiting.add(table.name)
                continue
            creations.create(table, schemas[table.name])
    return creations.created


class _Creations:
    """Empty tables created a few at a time while the next tables' schemas are worked out (a creation is
    mostly waiting for its storage and its commit, not computing), then registered by name one by one:
    every table whose creation committed, even when another one or a schema failed, so none is left
    existing but unnamed."""

    AT_ONCE = 4

    def __init__(self, runtime: Runtime, pipeline: Pipeline) -> None:
        self.runtime, self.pipeline = runtime, pipeline
        self.pending: list[tuple[Table, Future]] = []
        self.created: list[str] = []

    def __enter__(self) -> _Creations:
        self.pool = ThreadPoolExecutor(max_workers=self.AT_ONCE)
        return self

    def create(self, table: Table, schema: StructType) -> None:
        location = self.runtime.location(self.pipeline.name, table.layer, table.name)
        submitted = self.pool.submit(
            io.create_if_missing, self.runtime.spark, location, schema, table.partition_by, table.comment
        )
        self.pending.append((table, submitted))

    def __exit__(self, *failure) -> None:
        self.pool.shutdown(wait=True)
        errors = []
        for table, done in self.pending:
            if (error := done.exception()) is not None:
                errors.append(error)
                continue
            io.register(self.runtime.spark, self.runtime.location(self.pipeline.name, table.layer, table.name))
            self.created.append(table.name)
        if errors and failure[0] is None:  # a schema's failure, raised already, tells more than a creation's
            raise errors[0]


def output_schema(runtime: Runtime, pipeline: Pipeline, table: Table, upstream: dict):
    """The schema ``table``'s build gives on empty inputs (after its personal-data drops and working columns)."""
    spark = runtime.spark
    empty_inputs: dict[str, Any] = {}
    for param, read in table.inputs.items():
        if isinstance(read, FileSource):
            schema: StructType | str = source_schema(read).add("source_file", "string").add("load_time", "timestamp")
        elif isinstance(read, JdbcSource):
            schema = jdbc.source_schema(read)
        elif isinstance(read, Model):  # the build needs the model itself (its output columns may depend on it)
            empty_inputs[param] = models.load(models.registry(runtime.settings, pipeline.name), read.name, read.alias)
            continue
        elif isinstance(read, KafkaSource):
            schema = kafka.SOURCE_SCHEMA
        else:
            schema = upstream[read.table]
        # Known empty to the optimizer (a filter that is always false becomes an empty local relation), so
        # what a build computes eagerly on its inputs (an aggregate it collects) is answered without a job.
        empty_inputs[param] = spark.createDataFrame([], schema).where(F.lit(False))
    if table.wants_conf():
        empty_inputs["conf"] = runtime.settings.pipeline(pipeline.name)
    output = table.build(**empty_inputs)
    output = personal_data.apply_policy(output, {c: r for c, r in table.personal_data.items() if r == "drop"}, None)
    if isinstance(table.write, Scd2):  # the write adds valid_from, valid_to, is_current
        output = io.scd2_history(output, None, table.write)
    return final_columns(output, keep_rescued=table.landing_input is not None).schema
