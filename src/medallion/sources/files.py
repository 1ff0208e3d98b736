"""Incremental file ingestion: Auto Loader (``cloudFiles``) on Databricks, the file stream source locally.

Both read with an explicit schema and add ``source_file`` (the file's full path) and ``load_time``.
Nothing that arrives is silently dropped, nulled or changed:

- a record that does not fit the schema (malformed JSON, a CSV line with extra or missing fields, a
  value of the wrong type, a decimal with more digits or places than its type, which Spark's parser would
  round (in JSON lines: at the top or nested, a DECIMAL(38,s) aside), bytes that are not UTF-8) keeps its raw
  text in ``_corrupt_record``; the
  runner quarantines it (rule ``parsed``, plus ``valid_utf8`` for bad bytes) or stops, as the source's
  ``on_type_change`` says;
- JSON lines are read as text and parsed here, so fields the schema does not declare are kept as JSON in
  ``_rescued_data`` (like Auto Loader's rescued data column) instead of being ignored; the runner records
  them as schema drift, or stops when the source's ``on_new_column`` is ``fail``.

Blank lines are not records (as in Spark's own JSON and CSV readers) and an empty file adds no rows.
A CSV file carries no field names per value and is read by position, so a file whose header adds a column
has more fields per line than the schema: its lines are quarantined whole (rule ``parsed``) until the schema
declares it. The engine compares every file's header with the declared one (``medallion.engine.csv_headers``):
the rows of a file with another header are quarantined too (rule ``declared_header``).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, DecimalType, MapType, StringType, StructField, StructType

from medallion.declare.conversions import number_as_written
from medallion.declare.tables import FileSource
from medallion.errors import SourceError
from medallion.platform.config import Settings
from medallion.sources.schemas import struct_type

CORRUPT = "_corrupt_record"
RESCUED = "_rescued_data"
SOURCE = "_source"  # optional lineage of a row (file, topic/partition/offset) for its quarantine entry; never stored
REPLACEMENT_CHARACTER = "\ufffd"


def source_schema(source: FileSource) -> StructType:
    """The columns a source yields before ``source_file`` and ``load_time``."""
    schema = struct_type(source.schema)
    if source.format in ("csv", "json"):
        schema = StructType([*schema.fields, StructField(CORRUPT, StringType())])
    if _reads_json_as_text(source):
        schema = StructType([*schema.fields, StructField(RESCUED, StringType())])
    return schema


def read_files(
    spark: SparkSession, settings: Settings, source: FileSource, checkpoint: str, pipeline: str
) -> DataFrame:
    """A streaming DataFrame of the files in the source's landing folder (``<landing>/<pipeline>/<folder>``)."""
    folder = settings.landing_path(pipeline, source.folder)
    if not settings.is_databricks and not folder.startswith(("abfss:", "dbfs:")):
        Path(folder).mkdir(parents=True, exist_ok=True)
    format_name, options = _reader_format(source)
    if settings.is_databricks:
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", format_name)
            .option("cloudFiles.schemaLocation", f"{checkpoint}/_schema")
            .option("cloudFiles.maxFilesPerTrigger", settings.max_files_per_trigger)
        )
    else:
        reader = spark.readStream.format(format_name).option("maxFilesPerTrigger", settings.max_files_per_trigger)
    return _typed(reader.options(**options).schema(_read_schema(source)).load(folder), source)


def read_files_once(spark: SparkSession, settings: Settings, source: FileSource, pipeline: str) -> DataFrame:
    """Every file of the source's landing folder, as one batch (sources declared with ``stream=False``)."""
    require_folder(settings, source, pipeline)
    format_name, options = _reader_format(source)
    folder = settings.landing_path(pipeline, source.folder)
    return _typed(spark.read.format(format_name).options(**options).schema(_read_schema(source)).load(folder), source)


def require_folder(settings: Settings, source: FileSource, pipeline: str) -> None:
    folder = settings.landing_path(pipeline, source.folder)
    if not settings.is_databricks and "://" not in folder and not Path(folder).is_dir():
        raise SourceError(
            f"Landing folder {folder} does not exist: run `medallion produce {pipeline}` or put the source's "
            f"files there (check storage.landing in conf/{settings.env}.yml)."
        )


@dataclass(frozen=True)
class ParsedJson:
    """What :func:`parse_json` gives: ``frame`` (the input with the parse in working columns) and, to select
    from it, ``value`` (the parsed struct), ``corrupt`` and ``rescued``."""

    frame: DataFrame
    value: Column
    corrupt: Column
    rescued: Column


def parse_json(frame: DataFrame, text: Column | str, schema: str, options: dict | None = None) -> ParsedJson:
    """Parse the JSON text ``text`` of ``frame`` against a DDL ``schema`` without losing anything: ``value``
    is the parsed struct, ``corrupt`` the raw text when it is not JSON, not an object, has a value of the
    wrong type, a decimal (at the top or nested) with more places than its type, which a parse would round,
    or bytes that are not UTF-8 (NULL otherwise), and ``rescued`` a JSON object of the top-level fields the
    schema does not declare (NULL when there are none).

    Pipelines use it for JSON inside a column (e.g. a Kafka message value), so a changed type is
    quarantined instead of becoming NULL.

    Each line is parsed once: the parse is a column of a projection of its own, which Spark does not merge
    into the expressions reading it (it would parse once per reference: a third of the cost)."""
    text = F.col(text) if isinstance(text, str) else text
    declared = struct_type(schema)
    with_corrupt = StructType([*[_parsed_wide(f) for f in declared.fields], StructField(CORRUPT, StringType())])
    raw = text.cast("binary")
    parsed = frame.select(
        "*",
        text.alias(_JSON_TEXT),
        F.from_json(
            text, with_corrupt, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, **(options or {})}
        ).alias(_JSON),
        (raw != F.encode(F.decode(raw, "UTF-8"), "UTF-8")).alias(_JSON_NOT_UTF8),
    )
    line, json, not_utf8 = F.col(_JSON_TEXT), F.col(_JSON), F.col(_JSON_NOT_UTF8)
    rounded = [_rounded(json[f.name], f.dataType) for f in declared.fields if _holds_decimal(f.dataType)]
    unfit = functools.reduce(operator.or_, rounded, F.lit(False))
    corrupt = F.when(line.isNull(), F.lit(None)).when(json.isNull() | not_utf8 | unfit, line).otherwise(json[CORRUPT])
    value = F.struct(*[_declared_value(json[f.name], f.dataType).alias(f.name) for f in declared.fields])
    known = F.array(*[F.lit(f.name) for f in declared.fields])
    # The keys alone tell whether a line has undeclared fields: only such a line is parsed as a map.
    has_extra = F.size(F.array_except(F.json_object_keys(line), known)) > 0
    extra = F.map_filter(F.from_json(line, "map<string,string>"), lambda key, _value: ~F.array_contains(known, key))
    rescued = F.when(corrupt.isNull() & has_extra, F.to_json(extra))
    return ParsedJson(parsed, value, corrupt, rescued)


# Working columns of a parse (names starting with "_" never reach a table; see engine.batch.final_columns).
_JSON_TEXT, _JSON, _JSON_NOT_UTF8 = "_json_text", "_json", "_json_not_utf8"


# --------------------------------------------------------------------------------------------- helpers
def _parsed_wide(field: StructField) -> StructField:
    """A field parsed with its decimals wide (:func:`_wide`), so a number a parse would round is seen."""
    return StructField(field.name, _wide(field.dataType), field.nullable, field.metadata)


def _wide(data_type: DataType) -> DataType:
    """``data_type`` with each DECIMAL(p, s) in it (at the top, or in a struct, an array or a map's values) as
    DECIMAL(38, 38 - (p - s)): the same whole digits and all the places a decimal holds, so a number with more
    places than ``s`` (up to 38 - (p - s) of them) is seen (:func:`_rounded`) where Spark's parser would round
    it to ``s``; a number with more whole digits still does not parse (a corrupt record). A DECIMAL(38, s) has
    no wider type: Spark's parser rounds it."""
    if isinstance(data_type, DecimalType):
        return DecimalType(38, 38 - (data_type.precision - data_type.scale))
    if isinstance(data_type, StructType):
        return StructType([_parsed_wide(f) for f in data_type.fields])
    if isinstance(data_type, ArrayType):
        return ArrayType(_wide(data_type.elementType), data_type.containsNull)
    if isinstance(data_type, MapType):
        return MapType(data_type.keyType, _wide(data_type.valueType), data_type.valueContainsNull)
    return data_type


def _holds_decimal(data_type: DataType) -> bool:
    return _wide(data_type) != data_type


def _declared_value(parsed: Column, data_type: DataType) -> Column:
    """A field as its declared type: one holding decimals parsed wide when the cast keeps every one of them
    whole (else NULL: the record is corrupt), any other as parsed. The wide type has the declared whole
    digits, so the cast of a value that is not rounded cannot overflow. Every field of the cast's type may be
    NULL, as in what ``from_json`` gives (Spark casts no nullable field to a NOT NULL one)."""
    if _holds_decimal(data_type):
        return F.when(~_rounded(parsed, data_type), parsed.cast(_nullable(data_type)))
    return parsed


def _nullable(data_type: DataType) -> DataType:
    """``data_type`` with every nested field, array element and map value allowed to be NULL."""
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, _nullable(f.dataType), True, f.metadata) for f in data_type.fields])
    if isinstance(data_type, ArrayType):
        return ArrayType(_nullable(data_type.elementType), True)
    if isinstance(data_type, MapType):
        return MapType(data_type.keyType, _nullable(data_type.valueType), True)
    return data_type


def _rounded(wide: Column, data_type: DataType) -> Column:
    """Whether a value parsed wide holds a number with more places than its declared type keeps: it differs
    from itself rounded to those places. Rounding may need one whole digit more (999.999 → 1000.00), so neither
    a cast to the declared type nor a comparison (which casts both sides to the wide type) is used: either
    would overflow (NULL, or an error under ANSI mode). The difference's type holds both. Never NULL itself."""
    if isinstance(data_type, DecimalType):
        return wide.isNotNull() & ((wide - F.round(wide, data_type.scale)) != 0)
    if isinstance(data_type, StructType):
        parts = [_rounded(wide[f.name], f.dataType) for f in data_type.fields if _holds_decimal(f.dataType)]
        return functools.reduce(operator.or_, parts, F.lit(False))
    if isinstance(data_type, ArrayType):
        return F.coalesce(F.exists(wide, lambda element: _rounded(element, data_type.elementType)), F.lit(False))
    if isinstance(data_type, MapType):
        found = F.exists(F.map_values(wide), lambda value: _rounded(value, data_type.valueType))
        return F.coalesce(found, F.lit(False))
    return F.lit(False)


def _as_text(field: StructField) -> StructField:
    """A decimal column of a CSV file read as its text (typed by ``number_as_written``, which Spark's parser
    would round); any other as declared. (A JSON number cannot be read so, since Spark's parser gives a number
    read as text in its own notation: a JSON decimal is parsed wide instead, see :func:`_parsed_wide`.)"""
    return StructField(field.name, StringType(), field.nullable) if isinstance(field.dataType, DecimalType) else field


def _reads_json_as_text(source: FileSource) -> bool:
    """JSON lines (UTF-8) are read as text and parsed by :func:`parse_json`; multi-line JSON or another
    declared encoding keeps Spark's JSON reader (without rescued fields)."""
    options = {key.lower(): str(value).lower() for key, value in source.options.items()}
    return (
        source.format == "json"
        and options.get("multiline", "false") != "true"
        and options.get("encoding", options.get("charset", "utf-8")) in ("utf-8", "utf8")
    )


def _reader_format(source: FileSource) -> tuple[str, dict]:
    if _reads_json_as_text(source):
        options = dict(source.options)  # reader options (globs, recursion) apply; the text reader ignores the rest
    else:
        options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, **source.options}
        if source.format == "csv":
            options.setdefault("header", "true")
    if source.name_glob:
        options["pathGlobFilter"] = source.name_glob
    return ("text" if _reads_json_as_text(source) else source.format), options


def _read_schema(source: FileSource) -> StructType:
    if _reads_json_as_text(source):
        return StructType([StructField("value", StringType())])
    schema = struct_type(source.schema)
    if source.format == "csv":  # decimals as their text, checked and cast by _typed
        return StructType([*[_as_text(f) for f in schema.fields], StructField(CORRUPT, StringType())])
    return schema


def _typed(frame: DataFrame, source: FileSource) -> DataFrame:
    """The source's declared columns (+ corrupt/rescued), ``source_file`` and ``load_time``."""
    metadata = [F.col("_metadata.file_path").alias("source_file"), F.current_timestamp().alias("load_time")]
    if _reads_json_as_text(source):
        lines = parse_json(frame.where(F.trim("value") != ""), "value", source.schema, dict(source.options))
        columns = [_field_or_folder_value(lines.value, f) for f in struct_type(source.schema).fields]
        return lines.frame.select(*columns, lines.corrupt.alias(CORRUPT), lines.rescued.alias(RESCUED), *metadata)
    if source.format == "csv":
        typed, unfit = [], []
        for field in struct_type(source.schema).fields:
            if isinstance(field.dataType, DecimalType):
                value = number_as_written(field.name, field.dataType)
                typed.append(value.alias(field.name))
                unfit.append(F.col(field.name).isNotNull() & value.isNull())
            else:
                typed.append(F.col(field.name))
        any_unfit = functools.reduce(operator.or_, unfit) if unfit else F.lit(False)
        return frame.select(*typed, _csv_corrupt(frame, any_unfit).alias(CORRUPT), *metadata)
    return frame.select("*", *metadata)


def _field_or_folder_value(value: Column, field: StructField) -> Column:
    """A declared field from the JSON line or, when the line lacks it, from a Hive-style folder of the
    path (``…/arrival_date=2024-03-01/…``): the partition discovery the text reader does not do. A folder
    names a value of an atomic type only: a struct, an array or a map comes from the line alone."""
    if isinstance(field.dataType, (StructType, ArrayType, MapType)):
        return value[field.name].alias(field.name)
    from_folder = F.regexp_extract(F.col("_metadata.file_path"), f"/{field.name}=([^/]+)/", 1)
    folder_value = F.when(from_folder != "", from_folder).cast(field.dataType)
    return F.coalesce(value[field.name], folder_value).alias(field.name)


def _csv_corrupt(frame: DataFrame, unfit: Column) -> Column:
    """Spark's CSV reader decodes bytes that are not UTF-8 as U+FFFD and keeps the row; a decimal is read as its
    text, ``unfit`` when it is not one as written: mark such a row corrupt, its fields joined as its line."""
    texts = [F.col(f.name) for f in frame.schema.fields if f.name != CORRUPT and isinstance(f.dataType, StringType)]
    if not texts:
        return F.col(CORRUPT)
    replaced = F.exists(F.array(*texts), lambda text: F.instr(text, REPLACEMENT_CHARACTER) > 0)
    fields = [F.coalesce(F.col(f.name).cast("string"), F.lit("")) for f in frame.schema.fields if f.name != CORRUPT]
    return F.coalesce(F.col(CORRUPT), F.when(replaced | unfit, F.concat_ws(",", *fields)))
