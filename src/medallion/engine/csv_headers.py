"""A CSV file's header compared with the columns its source declares.

Spark reads a CSV file with an explicit schema by position and skips its header line unread: a file whose
header swaps two columns of one type would load each value into the other's column, unseen. So the header
of every file of a CSV source (with ``header`` on, the default) is read here, from the file itself, and
compared with the declared one: the source's ``header`` when it names the columns otherwise (cltv's
'Zip Code' for ``zip_code``), else the declared column names; case and spaces around a name aside, as Spark
compares. A batch's rows from a file whose header differs carry the reason in ``_declared_header``, and the
source rule ``declared_header`` quarantines them: nothing of such a file is loaded by guessing.

Each file's header is read once per process (again when its size or modification time changes). Local and
volume landing folders only: a cloud URL is read by Auto Loader and not opened here.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import threading

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import FileSource
from medallion.engine.landing_scan import scan_folder
from medallion.errors import MedallionError
from medallion.sources.schemas import struct_type

HEADER_COLUMN = "_declared_header"  # working column: why a row's file is not read as declared (NULL: it is)

_headers: dict[tuple, tuple[str, ...] | None] = {}  # (path, size, mtime ns, reader options) → header read
_headers_lock = threading.Lock()


def checks_header(source: FileSource | None) -> bool:
    """Whether the files of ``source`` start with a header to compare (a CSV source, ``header`` not off)."""
    if source is None or source.format != "csv":
        return False
    options = {key.lower(): str(value).lower() for key, value in source.options.items()}
    return options.get("header", "true") == "true"


def declared_header(source: FileSource) -> tuple[str, ...]:
    """The header the source's files must have (needs a Spark session to read the schema: the driver's)."""
    return tuple(source.header) if source.header else tuple(f.name for f in struct_type(source.schema).fields)


def file_header(path: str, source: FileSource) -> tuple[str, ...] | None:
    """The fields of the first non-blank line of the file (None when it has none), split as Spark splits a
    line of the source (its ``sep`` and ``quote`` options), a byte-order mark left out."""
    options = {key.lower(): str(value) for key, value in source.options.items()}
    encoding = options.get("encoding", options.get("charset", "utf-8"))
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"
    with open(path, encoding=encoding, errors="replace", newline="") as text:
        for line in text:
            if line.strip():
                reader = csv.reader(
                    [line],
                    delimiter=options.get("sep", options.get("delimiter", ",")),
                    quotechar=options.get("quote", '"'),
                )
                return tuple(next(reader, []))
    return None


def same_header(found: tuple[str, ...] | None, declared: tuple[str, ...]) -> bool:
    """A file with no line at all has no header to differ."""
    if found is None:
        return True
    return len(found) == len(declared) and all(
        a.strip().casefold() == b.strip().casefold() for a, b in zip(found, declared, strict=True)
    )


def unfit_files(folder: str, source: FileSource, declared: tuple[str, ...]) -> dict[str, str]:
    """The files of ``folder`` the source reads whose header is not ``declared``: local path → the reason."""
    scan = scan_folder(folder)
    if scan is None:
        return {}
    unfit = {}
    for path in scan.modified_ms:
        if source.name_glob and not fnmatch.fnmatchcase(os.path.basename(path), source.name_glob):
            continue
        found = _header_of(path, source)
        if not same_header(found, declared):
            unfit[path] = f"header {','.join(found or ())!r} is not the declared {','.join(declared)!r}"
    return unfit


def mark_unfit_rows(batch: DataFrame, source: FileSource, folder: str, declared: tuple[str, ...]) -> DataFrame:
    """``batch`` with ``_declared_header``: the reason for the rows of a file whose header is not ``declared``
    (known by their ``source_file``), NULL for every other row."""
    if "source_file" not in batch.columns:
        raise MedallionError(
            f"A table reading the CSV files of {source.folder} must keep 'source_file' (the engine compares each "
            "file's header with the declared columns by it)."
        )
    unfit = unfit_files(folder, source, declared)
    reason: Column = F.lit(None).cast("string")
    if unfit:
        path = local_path(F.col("source_file"))
        for file, why in sorted(unfit.items()):
            reason = F.when(path == file, F.lit(why)).otherwise(reason)
    return batch.withColumn(HEADER_COLUMN, reason)


def local_path(uri: Column) -> Column:
    """A file URI as Spark gives it (``file:///a/b%20c``, ``dbfs:/Volumes/…``) as its path (``/a/b c``)."""
    without_scheme = F.regexp_replace(uri, r"^(file|dbfs):/*", "/")
    return F.url_decode(F.regexp_replace(without_scheme, r"\+", "%2B"))  # a '+' is a '+', not a space


def _header_of(path: str, source: FileSource) -> tuple[str, ...] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns, tuple(sorted(source.options.items())))
    with _headers_lock:
        if key in _headers:
            return _headers[key]
    try:
        found = file_header(path, source)
    except FileNotFoundError:
        return None
    with _headers_lock:
        _headers[key] = found
    return found
