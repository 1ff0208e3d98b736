"""What kind of Spark session the code runs on."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession


def is_connect(spark: SparkSession) -> bool:
    """A Spark Connect session: the driver is a server elsewhere (Databricks serverless and standard access
    mode, or the project's own server), so nothing of its JVM or its disk is at hand here."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def driver_disk_path(spark: SparkSession, path: str) -> str | None:
    """``path`` on this machine's disk when Spark's driver is this very process (a classic session) and the
    path names local storage (no scheme, or ``file:``); else None: it is read and written through Spark."""
    if is_connect(spark):  # the driver is a server elsewhere
        return None
    return path_part(path) if urlparse(path).scheme in ("", "file") else None


def path_part(path: str) -> str:
    """The path without scheme and authority, decoded: Spark hands back ``file:/x`` for ``/x`` and
    ``dbfs:/Volumes/...`` for ``/Volumes/...``."""
    return unquote(urlparse(path).path).rstrip("/") if ":" in path else path.rstrip("/")
