"""Incremental file ingestion: Auto Loader (``cloudFiles``) on Databricks, the file stream source locally.

Both read with an explicit schema and add ``source_file`` (the file's full path) and ``load_time``.
A record that does not fit the schema keeps its raw text in ``_corrupt_record`` instead of turning into
NULLs, so bronze can quarantine it with its reason.
"""
from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, _parse_datatype_string

from medallion.config import Settings
from medallion.errors import SourceError
from medallion.tables import FileSource

CORRUPT = "_corrupt_record"


def source_schema(source: FileSource) -> StructType:
    schema = _parse_datatype_string(source.schema)
    if source.format in ("csv", "json"):
        schema = StructType([*schema.fields, StructField(CORRUPT, StringType())])
    return schema


def read_files(spark: SparkSession, settings: Settings, source: FileSource, checkpoint: str) -> DataFrame:
    """A streaming DataFrame of the files in the source's landing folder."""
    folder = settings.landing_path(source.folder)
    if not settings.is_databricks:
        Path(folder).mkdir(parents=True, exist_ok=True) if not folder.startswith(("abfss:", "dbfs:")) else None
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, **source.options}
    if source.format == "csv":
        options.setdefault("header", "true")
    if source.name_glob:
        options["pathGlobFilter"] = source.name_glob
    if settings.is_databricks:
        reader = (spark.readStream.format("cloudFiles")
                  .option("cloudFiles.format", source.format)
                  .option("cloudFiles.schemaLocation", f"{checkpoint}/_schema")
                  .option("cloudFiles.maxFilesPerTrigger", settings.max_files_per_trigger))
    else:
        reader = spark.readStream.format(source.format).option("maxFilesPerTrigger", settings.max_files_per_trigger)
    stream = reader.options(**options).schema(source_schema(source)).load(folder)
    return stream.select(
        "*",
        F.col("_metadata.file_path").alias("source_file"),
        F.current_timestamp().alias("load_time"),
    )


def require_folder(settings: Settings, source: FileSource) -> None:
    folder = settings.landing_path(source.folder)
    if not settings.is_databricks and not Path(folder).is_dir():
        raise SourceError(f"Landing folder {folder} does not exist: run `medallion produce` or upload files there.")
