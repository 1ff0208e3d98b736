"""Where we run: the one place that knows local from Databricks.

Locally: an embedded Spark session with Delta Lake, tables stored under the storage root and registered
by name in ``<pipeline>_<layer>`` databases at session start (the storage folder is the metastore, so
several processes may share it). On Databricks: the cluster's session and Unity Catalog names
``<catalog>.<pipeline>_<layer>.<table>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from medallion.declare.tables import Layer
from medallion.errors import MedallionError
from medallion.platform import layout
from medallion.platform.config import Settings
from medallion.platform.secrets import SecretStore, secret_store

# The JVM's logging (errors only), set by configuration: no handle on the JVM from Python.
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")
# sc://host:port of a Spark Connect server (scripts/spark-connect.sh): every local session becomes a
# Connect session, as on Databricks' standard access mode, serverless and Databricks Connect.
REMOTE_ENV_VAR = "MEDALLION_SPARK_REMOTE"


@dataclass(frozen=True)
class TableLocation:
    """Where one table lives: its storage path, its catalog name, its streaming checkpoint."""

    pipeline: str
    layer: Layer
    table: str
    path: str
    name: str
    checkpoint: str


class Runtime:
    """Settings + Spark session + secret store, with the naming rules of the lakehouse."""

    def __init__(self, settings: Settings, spark=None, dbutils=None):
        self.settings = settings
        self._spark = spark
        self._dbutils = dbutils

    @cached_property
    def spark(self):
        if self._spark is not None:
            return self._spark
        if self.settings.is_databricks:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is None:
                raise MedallionError(
                    "runtime is databricks but no active Spark session: run inside a Databricks job or notebook."
                )
            return active
        remote = os.environ.get(REMOTE_ENV_VAR)
        if remote:
            return connect_session(self.settings, remote)
        return local_spark_session(self.settings)

    @property
    def dbutils(self):
        """The notebook's ``dbutils`` on Databricks (None locally, where files are reached directly)."""
        return self._dbutils

    @cached_property
    def secrets(self) -> SecretStore:
        return secret_store(self.settings, dbutils=self._dbutils)

    # ------------------------------------------------------------- naming (the rule itself: platform/layout.py)
    def database(self, pipeline: str, layer: Layer | str) -> str:
        return layout.schema(pipeline, layer, self.settings.schema_suffix, self.settings.catalog)

    def location(self, pipeline: str, layer: Layer, table: str) -> TableLocation:
        root = self.settings.root
        return TableLocation(
            pipeline=pipeline,
            layer=layer,
            table=table,
            path=layout.table_path(root, pipeline, layer, table),
            name=f"{self.database(pipeline, layer)}.{table}",
            checkpoint=layout.checkpoint(root, pipeline, table),
        )

    def quarantine_path(self, pipeline: str) -> str:
        return layout.quarantine(self.settings.root, pipeline)

    def system_path(self, name: str) -> str:
        return layout.system(self.settings.root, name)

    def staging_path(self, pipeline: str, table: str, purpose: str) -> str:
        """A staging Delta table: rows of one table's run computed once and read back (io.staged)."""
        return layout.staging(self.settings.root, pipeline, table, purpose)


# The parallel collector: a local run is many short queries whose garbage dies young, and on the few cores of
# a laptop or a CI machine its pauses cost less than G1's concurrent work (every step of `make bench` ran
# faster with it, the floor and the pipeline alike: docs/benchmarks.md). scripts/spark-connect.sh reads it too.
# Less inlining in the JIT's optimising compiler than HotSpot's defaults (2,500 bytes, 15 levels): a fresh run
# keeps both cores of a 2-core machine about 92% busy, a third to two fifths of it in the compiler threads,
# compiling Spark's planning code for runs of seconds. With these limits a fresh `make run` used 164 and 180
# CPU-seconds against 182 and 197 (94 and 103 s against 96 and 104 s), and SF10 in `make bench` lost nothing.
DRIVER_JVM_OPTIONS = "-XX:+UseParallelGC -XX:InlineSmallCode=1000 -XX:MaxInlineLevel=9"

# How Delta commits and streaming checkpoints write their files on the local disk (the Spark Connect server of
# scripts/spark-connect.sh takes these settings too). The defaults go through Hadoop's FileContext, whose rename
# on a local file system starts a `readlink` process for each path it checks (four per file: a fresh `make run`
# started 2,800 of them, one per commit, offset, commit mark and state file); the FileSystem API renames with
# one system call. Neither way is atomic across processes on a local disk (both check, then rename), which the
# run lock covers; within the process Delta's local log store serialises its commits. The log store is `file:`
# paths' alone; the FileSystem API is the one Spark's checkpoints use anyway on storage without FileContext.
LOCAL_FILE_WRITES = {
    "spark.delta.logStore.file.impl": "org.apache.spark.sql.delta.storage.LocalLogStore",
    "spark.sql.streaming.checkpointFileManagerClass": (
        "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager"
    ),
}

# Compiled generated code kept for the next query of the same shape. Spark keeps 100 classes, and in local mode
# a plan's code is compiled for the driver and again for the tasks' class loader (SPARK-44795): a run evicted
# code it needed again moments later (a fresh `make run` on a 2-core machine: 88 to 90 s against 98 s, one after
# the other). The classes are small: the driver's metaspace after that run was 188 MiB with 5,000 against
# 184 MiB with 100. Not on the Spark Connect server: Spark 3.5 compiles each of its queries under a class
# loader of the query's own, so code kept there is never found again.
CODEGEN_CACHE_ENTRIES = 5000


def local_spark_session(settings: Settings):
    """An embedded Spark session with Delta Lake and the project's jars; one per process."""
    from pyspark.sql import SparkSession

    from medallion.platform.jars import jar_paths

    jars = jar_paths("spark")
    os.environ.setdefault("PYSPARK_PYTHON", _python())
    builder = (
        SparkSession.builder.appName(settings.app_name)
        .master(os.environ.get("MEDALLION_SPARK_MASTER", "local[2]"))
        .config("spark.jars", ",".join(str(j) for j in jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.default.parallelism", str(max(2, settings.shuffle_partitions)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", layout.warehouse(settings.root))
        .config("spark.driver.memory", os.environ.get("MEDALLION_DRIVER_MEMORY", "4g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.streaming.schemaInference", "false")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.codegen.cache.maxEntries", str(CODEGEN_CACHE_ENTRIES))
        .config(
            "spark.driver.extraJavaOptions",
            f"{DRIVER_JVM_OPTIONS} -Dderby.system.home={layout.metastore(settings.root)} "
            f"-Dlog4j2.configurationFile={LOG4J2_PROPERTIES}",
        )
    )
    for key, value in LOCAL_FILE_WRITES.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def connect_session(settings: Settings, remote: str):
    """A Spark Connect session on the server at ``remote`` (Delta is configured on the server's side);
    the session settings a local run relies on are set per session."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(remote).getOrCreate()
    for key, value in {
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.streaming.schemaInference": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.databricks.delta.snapshotPartitions": "2",  # Delta's 50 by default: a small log read in 50 tasks
    }.items():
        spark.conf.set(key, value)
    return spark


def _python() -> str:
    import sys

    return sys.executable
