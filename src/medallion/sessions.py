"""What kind of Spark session the code runs on."""

from __future__ import annotations

from pyspark.sql import SparkSession


def is_connect(spark: SparkSession) -> bool:
    """A Spark Connect session: the driver is a server elsewhere (Databricks serverless and standard access
    mode, or the project's own server), so nothing of its JVM or its disk is at hand here."""
    return type(spark).__module__.startswith("pyspark.sql.connect")
