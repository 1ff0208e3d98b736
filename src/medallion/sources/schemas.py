"""Declared schemas (DDL text such as ``"user_id BIGINT, address STRUCT<city: STRING>"``) as Spark types.

The session's own parser reads them through a public API (``createDataFrame`` with a DDL schema), so the
same code runs on classic Spark and over Spark Connect, where the parser lives on the server. A parsed
schema does not depend on the session, so each text is parsed once per process.
"""

from __future__ import annotations

import functools

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from medallion.errors import MedallionError


def struct_type(ddl: str) -> StructType:
    """The columns ``ddl`` declares, as a new StructType (callers may ``add`` to it)."""
    return StructType.fromJson(_parsed(ddl))


@functools.cache
def _parsed(ddl: str) -> dict:
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise MedallionError(f"A Spark session is needed to read the schema {ddl!r}; none is active.")
    return spark.createDataFrame([], ddl).schema.jsonValue()
