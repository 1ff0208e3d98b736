"""The I/O floor: what reading every landing file and writing bronze and typed silver costs with no rules.

A plain PySpark job over the same landing files and the same schemas as the fitness declarations: each
file folder is read once and written as a bronze Delta table, then each silver table is typed from its
bronze table (the multiplexed topics parsed from JSON) and written as Delta. No expectations, no
quarantine, no deduplication, no merges, no event log: any pipeline must do at least this much I/O, so
the pipeline's time over this one is the price of its guarantees.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.pipelines.fitness import bronze, silver

SOURCES = (bronze.REGISTERED_USERS, bronze.GYM_LOGINS, bronze.KAFKA_MULTIPLEX, bronze.DATE_LOOKUP)
TOPICS = {"user_info": silver.PROFILE_SCHEMA, "workout": silver.WORKOUT_SCHEMA, "bpm": silver.BPM_SCHEMA}


def read_source(spark: SparkSession, landing: str, source) -> DataFrame:
    reader = spark.read.schema(source.schema)
    path = f"{landing}/{source.folder}"
    return reader.option("header", True).csv(path) if source.format == "csv" else reader.json(path)


def write(frame: DataFrame, path: str) -> None:
    frame.write.format("delta").mode("overwrite").save(path)


def run_floor(spark: SparkSession, landing: str, out: str) -> None:
    """Bronze: every landing folder as Delta. Silver: each table typed from its bronze table."""
    for source in SOURCES:
        write(
            read_source(spark, landing, source).withColumn("source_file", F.input_file_name()),
            f"{out}/bronze/{source.folder}",
        )
    read = spark.read.format("delta").load
    users = read(f"{out}/bronze/{bronze.REGISTERED_USERS.folder}")
    write(
        users.select(
            "user_id",
            "device_id",
            "mac_address",
            F.timestamp_seconds("registration_timestamp").alias("registration_timestamp"),
        ),
        f"{out}/silver/users",
    )
    logins = read(f"{out}/bronze/{bronze.GYM_LOGINS.folder}")
    write(
        logins.select(
            "mac_address",
            "gym",
            F.timestamp_seconds("login").alias("login"),
            F.timestamp_seconds("logout").alias("logout"),
        ),
        f"{out}/silver/gym_logs",
    )
    multiplex = read(f"{out}/bronze/{bronze.KAFKA_MULTIPLEX.folder}")
    for topic, schema in TOPICS.items():
        values = multiplex.where(F.col("topic") == topic).select(F.from_json("value", schema).alias("v"), "offset")
        write(values.select("v.*", "offset"), f"{out}/silver/{topic}")
