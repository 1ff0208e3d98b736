"""Opening a table's declared inputs and calling its pure build function."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion import io
from medallion.declare.tables import FileSource, JdbcSource, KafkaSource, Model, Read, Table
from medallion.engine.context import RunContext
from medallion.sources import jdbc, kafka, models
from medallion.sources.files import read_files, read_files_once


def build(context: RunContext, table: Table) -> DataFrame:
    """Open the declared inputs and call the table's pure build function."""
    arguments: dict[str, Any] = {param: open_input(context, table, read) for param, read in table.inputs.items()}
    if table.wants_conf():
        arguments["conf"] = context.runtime.settings.pipeline(context.pipeline.name)
    return table.build(**arguments)


def open_input(context: RunContext, table: Table, read: Read | FileSource | JdbcSource | KafkaSource | Model) -> Any:
    spark = context.spark
    if isinstance(read, Model):
        return models.load(models.registry(context.runtime.settings, context.pipeline.name), read.name, read.alias)
    if isinstance(read, KafkaSource):
        return _open_kafka(context, read)
    if isinstance(read, JdbcSource):
        return _open_jdbc(context, table, read)
    if isinstance(read, FileSource):
        settings = context.runtime.settings
        if read.stream:
            return read_files(spark, settings, read, context.location(table).checkpoint, context.pipeline.name)
        return read_files_once(spark, settings, read, context.pipeline.name)
    path = context.location(context.pipeline.get(read.table)).path
    if read.stream:
        frame = spark.readStream.format("delta").load(path)
    elif table.is_streaming:  # the static side of a stream-static join: each micro-batch sees the table as it is
        frame = spark.read.format("delta").load(path)
    else:
        frame = pinned_snapshot(context, path)
    for column, value in read.partition:
        frame = frame.where(F.col(column) == value)
    if read.watermark:
        frame = frame.withWatermark(*read.watermark)
    return frame


def pinned_snapshot(context: RunContext, path: str) -> DataFrame:
    """The table at its current version, pinned: a view's refresh reads each input as it was when the
    refresh began, one consistent state, even while other streams of the run keep writing them."""
    version = io.table_version(context.spark, path)
    reader = context.spark.read.format("delta")
    return (reader.option("versionAsOf", version) if version >= 0 else reader).load(path)


def _open_jdbc(context: RunContext, table: Table, source: JdbcSource) -> DataFrame:
    """The rows of a database table changed since this table's high-water mark (see sources.jdbc)."""
    database = context.runtime.settings.database(source.database)
    password = context.runtime.secrets.get(database.password_secret)
    return jdbc.read_changes(
        context.spark,
        source,
        database,
        password,
        context.location(table).path,
        context.runtime.staging_path(context.pipeline.name, table.name, "jdbc_slice"),
        progress=lambda message: context.say(table, f": {message}"),
    )


def _open_kafka(context: RunContext, source: KafkaSource) -> DataFrame:
    """The topic as a stream: its offsets live in the reading table's checkpoint (see sources.kafka)."""
    settings = context.runtime.settings
    kafka_settings = kafka.require_settings(settings)
    secret = (
        context.runtime.secrets.get(kafka_settings.connection_string_secret).reveal()
        if kafka_settings.security == "eventhubs"
        else None
    )
    options = kafka.reader_options(settings, source, settings.pipeline(context.pipeline.name), secret)
    return context.spark.readStream.format("kafka").options(**options).load()
