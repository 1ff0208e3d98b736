"""A CSV file's header compared with the columns its source declares.

Spark reads a CSV file with an explicit schema by position and skips its header line unread: a file whose
header swaps two columns of one type would load each value into the other's column, unseen. So the header
of every file of a CSV source (with ``header`` on, the default) is read here, from the file itself, and
compared with the declared one: the source's ``header`` when it names the columns otherwise (cltv's
'Zip Code' for ``zip_code``), else the declared column names; case aside (as Spark compares names) and
spaces around a name too. A batch's rows from a file whose header differs carry the reason in
``_declared_header`` and the source rule ``declared_header`` quarantines them: nothing of such a file is
loaded by guessing. (A file landed without a header loses its first line to Spark as the header: the
reason quotes that line, so the quarantine still holds it.)

Each file's header is read once per process (again when its size or modification time changes). Only a
folder the batch's process can walk (local, or a Unity Catalog volume on a cluster) is checked; a cloud URL,
read by Auto Loader, or a folder this process does not see, is not opened here, and its batches get no
``declared_header`` rule rather than a rule that could never break.
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
_TRIMMED = "".join(map(chr, range(33)))  # what Java's String.trim removes: how Spark tells a blank line

# Per landing folder and reader options, the header of each file its last walk found, by (path, size, mtime ns):
# a file is opened once while it stays as it is, and a walk keeps only the files it found, so a file removed or
# rewritten leaves nothing behind however long a stream-mode run lasts.
_headers: dict[tuple[str, tuple], dict[tuple, tuple[str, ...] | None]] = {}
_headers_lock = threading.Lock()


def checks_header(source: FileSource | None) -> bool:
    """Whether the files of ``source`` start with a header to compare (a CSV source, ``header`` not off)."""
    if source is None or source.format != "csv":
        return False
    options = {key.lower(): str(value).lower() for key, value in source.options.items()}
    return options.get("header", "true") == "true"


def declared_header(source: FileSource) -> tuple[str, ...]:
    """The header the source's files must have (reads the schema with the driver's Spark session)."""
    columns = [field.name for field in struct_type(source.schema).fields]
    if not source.header:
        return tuple(columns)
    if len(source.header) != len(columns):
        raise MedallionError(
            f"FileSource {source.folder}: header names {len(source.header)} columns, its schema declares "
            f"{len(columns)}: give one heading per declared column, in file order."
        )
    return tuple(source.header)


def file_header(path: str, source: FileSource) -> tuple[str, ...] | None:
    """The fields of the first line of the file that is neither blank nor a comment (None when there is
    none), split with the source's ``sep``, ``quote``, ``escape`` and ``comment`` options as Spark reads them;
    a byte-order mark left out."""
    options = {key.lower(): str(value) for key, value in source.options.items()}
    encoding = options.get("encoding", options.get("charset", "utf-8"))
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"
    comment = _spark_char(options["comment"]) if options.get("comment") else None
    with open(path, encoding=encoding, errors="replace", newline="") as text:
        for line in text:
            if not line.strip(_TRIMMED) or (comment and line.startswith(comment)):
                continue
            return _split(line.rstrip("\r\n"), options)
    return None


def same_header(found: tuple[str, ...] | None, declared: tuple[str, ...]) -> bool:
    """A file with no line at all has no header to differ."""
    if found is None:
        return True
    return len(found) == len(declared) and all(
        a.strip().casefold() == b.strip().casefold() for a, b in zip(found, declared, strict=True)
    )


def unfit_files(folder: str, source: FileSource, declared: tuple[str, ...]) -> dict[str, str] | None:
    """The files of ``folder`` the source reads whose header is not ``declared``: local path → the reason
    (None when the folder cannot be walked from here)."""
    scan = scan_folder(folder.removeprefix("dbfs:"))
    if scan is None or scan.root is None:  # a cloud URL, or no such folder here (one this process cannot see)
        return None
    cached = (folder, tuple(sorted(source.options.items())))
    with _headers_lock:
        known = _headers.get(cached, {})
    seen: dict[tuple, tuple[str, ...] | None] = {}
    unfit = {}
    for path in scan.modified_ms:
        if not _named(os.path.basename(path), source.name_glob):
            continue
        try:
            found = _header_of(path, source, known, seen)
        except (OSError, csv.Error, LookupError, UnicodeError, ValueError) as err:
            unfit[path] = f"the file's header could not be read with the source's options ({err})"
            continue
        if not same_header(found, declared):
            unfit[path] = (
                f"the file's first line, read as its header, is {','.join(found or ())!r}, not the declared "
                f"{','.join(declared)!r} (columns are read by position)"
            )
    with _headers_lock:
        _headers[cached] = seen
    return unfit


def mark_unfit_rows(batch: DataFrame, source: FileSource, folder: str, declared: tuple[str, ...]) -> DataFrame:
    """``batch`` with ``_declared_header``: the reason for the rows of a file whose header is not ``declared``
    (known by their ``source_file``), NULL for every other row; ``batch`` unchanged when the folder cannot be
    walked from this process."""
    unfit = unfit_files(folder, source, declared)
    if unfit is None:
        return batch
    if not unfit:
        return batch.withColumn(HEADER_COLUMN, F.lit(None).cast("string"))
    if "source_file" not in batch.columns:
        raise MedallionError(
            f"{', '.join(sorted(unfit))}: {next(iter(unfit.values()))}. The table reading {source.folder} drops "
            "'source_file', so its rows cannot be told apart: keep the column in its build, or move the file out."
        )
    path = local_path(F.col("source_file"))
    files = sorted(unfit.items())
    reason = F.when(path == files[0][0], F.lit(files[0][1]))
    for file, why in files[1:]:
        reason = reason.when(path == file, F.lit(why))  # one CASE with a branch per file, not nested CASEs
    return batch.withColumn(HEADER_COLUMN, reason)


def local_path(uri: Column) -> Column:
    """A file URI as Spark gives it (``file:///a/b%20c``, ``dbfs:/Volumes/…``) as its path (``/a/b c``)."""
    without_scheme = F.regexp_replace(uri, r"^(file|dbfs):/*", "/")
    return F.url_decode(F.regexp_replace(without_scheme, r"\+", "%2B"))  # a '+' is a '+', not a space


def _named(name: str, glob: str | None) -> bool:
    """Whether Spark reads a file of this name (its ``pathGlobFilter``). A Hadoop glob with alternatives
    (``*.{csv,txt}``) is not an fnmatch pattern: every file is checked then (a file Spark skips has no rows)."""
    return glob is None or "{" in glob or fnmatch.fnmatchcase(name, glob)


def _split(line: str, options: dict[str, str]) -> tuple[str, ...]:
    separator = _spark_char(options.get("sep", options.get("delimiter", ",")))
    quote = _spark_char(options["quote"]) if "quote" in options else '"'
    escape = _spark_char(options["escape"]) if "escape" in options else "\\"
    if len(separator) != 1 or not quote or len(quote) != 1:  # what Python's csv cannot split: plain fields
        return tuple(line.split(separator))
    reader = csv.reader(
        [line],
        delimiter=separator,
        quotechar=quote,
        # Spark's escape applies inside quoted fields only; Python's csv would apply it everywhere
        escapechar=escape if len(escape) == 1 and escape != quote and quote in line else None,
    )
    return tuple(next(reader, []))


def _spark_char(text: str) -> str:
    """A separator, quote or comment option as Spark reads it: ``\\t`` is a tab, ``\\u0001`` that character."""
    if text == "\\t":
        return "\t"
    if text.startswith("\\u") and len(text) == 6:
        return chr(int(text[2:], 16))
    if text == "\\\\":
        return "\\"
    return text


def _header_of(path: str, source: FileSource, known: dict, seen: dict) -> tuple[str, ...] | None:
    """The file's header: from ``known`` (the folder's last walk) while the file is as it was, else read;
    recorded in ``seen`` (this walk's)."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    seen[key] = known[key] if key in known else file_header(path, source)
    return seen[key]
