"""Opening a table's declared inputs and calling its pure build function."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion import delta_log, io
from medallion.declare.tables import FileSource, JdbcSource, KafkaSource, Model, Read, Table
from medallion.engine import checkpoints
from medallion.engine.context import RunContext
from medallion.sources import jdbc, kafka, models
from medallion.sources.files import read_files, read_files_once

LOG = logging.getLogger(__name__)


def build(
    context: RunContext, table: Table, since: Mapping[str, int] | None = None, pinned: Pinned | None = None
) -> DataFrame:
    """Open the declared inputs and call the table's pure build function. For a view: ``since``, the input
    versions its last refresh consumed (where its ``added`` inputs start; None: from the beginning);
    ``pinned`` receives the versions it reads."""
    pinned = pinned if pinned is not None else Pinned(context)
    arguments: dict[str, Any] = {
        param: _open_added(context, read, pinned, since)
        if isinstance(read, Read) and read.added
        else open_input(context, table, read, pinned)
        for param, read in table.inputs.items()
    }
    if table.wants_conf():
        arguments["conf"] = context.runtime.settings.pipeline(context.pipeline.name)
    return table.build(**arguments)


def open_input(
    context: RunContext,
    table: Table,
    read: Read | FileSource | JdbcSource | KafkaSource | Model,
    pinned: Pinned | None = None,
) -> Any:
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
        frame = _stream_of(context, table, read, path)
    elif table.is_streaming:  # the static side of a stream-static join: each micro-batch sees the table as it is
        frame = spark.read.format("delta").load(path)
    else:
        frame = _snapshot(context, path, (pinned or Pinned(context)).version(read.table))
    for column, value in read.partition:
        frame = frame.where(F.col(column) == value)
    if read.watermark:
        frame = frame.withWatermark(*read.watermark)
    return frame


def _stream_of(context: RunContext, table: Table, read: Read, path: str) -> DataFrame:
    """A stream of the input's rows. A table's first stream over an input whose short history only appended
    reads its commits from version 0, the same rows as its snapshot: Delta then reads the few commit files
    instead of listing and sorting the snapshot's files in several jobs (about half a second per input on a
    small machine, paid by every table of a first run). Once the stream has a checkpoint, Delta resumes
    from it whatever the option says. The input's version is looked up afresh: a commit the run's cached
    version does not know of yet (another stream's, in stream mode) is checked too."""
    reader = context.spark.readStream.format("delta")
    first_start = checkpoints.has_progress(context.location(table).checkpoint) is False
    if first_start and delta_log.only_appended(context.spark, path, delta_log.version(context.spark, path)):
        reader = reader.option("startingVersion", "0")
    return reader.load(path)


class Pinned:
    """The version of each input table a view's refresh reads, looked up once when first read: a view reads
    each input as it was then, one consistent state (its snapshot and its added rows alike), even while
    other streams of the run keep writing them. They are the versions recorded as consumed."""

    def __init__(self, context: RunContext):
        self.context = context
        self.versions: dict[str, int] = {}

    def version(self, table_name: str) -> int:
        if table_name not in self.versions:
            path = self.context.location(self.context.pipeline.get(table_name)).path
            self.versions[table_name] = io.table_version(self.context.spark, path)
        return self.versions[table_name]


def _snapshot(context: RunContext, path: str, version: int) -> DataFrame:
    reader = context.spark.read.format("delta")
    return (reader.option("versionAsOf", version) if version >= 0 else reader).load(path)


def _open_added(context: RunContext, read: Read, pinned: Pinned, since: Mapping[str, int] | None) -> DataFrame:
    """The rows added to ``read.table`` after the version the view last consumed, through the pinned one.
    Every row when that version is not known, or not a version of the table as it is now (a table reset
    or recreated since starts its versions again)."""
    path = context.location(context.pipeline.get(read.table)).path
    version = pinned.version(read.table)
    before = (since or {}).get(read.table)
    if before is None or not 0 <= before <= version:
        return _snapshot(context, path, version)
    try:
        return io.rows_written(context.spark, path, before, version, as_of=version)
    except Exception as err:  # a commit file of the range already cleaned up: every row, never fewer
        LOG.info("%s: rows since version %s unreadable (%s); reading the whole table", read.table, before, err)
        return _snapshot(context, path, version)


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
