"""Declared schemas parsed by the session (medallion.sources.schemas)."""

from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType

from medallion.sources.schemas import struct_type


def test_a_declared_schema_becomes_its_struct_type(spark):
    assert struct_type("id BIGINT, amount DECIMAL(20,6), address STRUCT<city: STRING>") == StructType(
        [
            StructField("id", LongType()),
            StructField("amount", DecimalType(20, 6)),
            StructField("address", StructType([StructField("city", StringType())])),
        ]
    )


def test_each_caller_gets_its_own_copy(spark):
    first = struct_type("value STRING").add("source_file", "string")
    assert first.fieldNames() == ["value", "source_file"]
    assert struct_type("value STRING").fieldNames() == ["value"]
