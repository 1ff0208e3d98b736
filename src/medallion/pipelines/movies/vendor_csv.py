"""The vendor's CSV files, parsed record by record with the line each record starts on.

Why not Spark's CSV reader: silver must tell which of two rows with the same id came first, also within
one file, and Spark's CSV reader exposes no row position (``monotonically_increasing_id`` is not allowed
on a stream). So a file is read whole (the text source with ``wholetext``) and split into records here,
with Python's ``csv`` module: RFC 4180 (quoted fields may hold commas, line breaks and doubled quotes),
the dialect Python's and pandas' writers produce. Records end only at CR, LF or CR LF: the physical lines
come from ``io.StringIO(newline="")``, never ``str.splitlines``, which would also break text at U+0085,
U+2028, form feeds and the like.

The first non-blank record is the header, and columns are mapped **by name** (case, spaces and a byte-order
mark ignored), so a file whose header orders the declared columns differently loads correctly. A file
whose header is not the declared set of columns (one missing, one unknown, a repeated one, no header at
all) is not read by guessing: the whole file becomes one record with defect ``declared_header``.

Every other record becomes a row of the declared columns plus ``source_line`` (the file line it starts
on). A record is corrupt, and keeps its raw text in ``_corrupt_record`` with its ``_defect`` (the name of
the bronze rule it breaks), when:

- ``valid_utf8``: the file is not valid UTF-8 and the record holds a character the decoder replaced
  (U+FFFD); loading it would turn "Cali\\xe9fornia" into a new value downstream;
- ``parsed``: it has another number of fields than declared, or an INT field that is not a whole number
  in INT range (spaces around it allowed).

Blank lines are skipped; an empty field (or an INT field of spaces) is NULL.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

INTEGER = re.compile(r"^[+-]?[0-9]+$")
INT_RANGE = (-(2**31), 2**31 - 1)
TYPES = ("int", "string")
REPLACEMENT_CHARACTER = "\ufffd"
# Defects, named after the bronze rule that quarantines them.
UNPARSED, NOT_UTF8, WRONG_HEADER = "parsed", "valid_utf8", "declared_header"
DEFECTS = (UNPARSED, NOT_UTF8, WRONG_HEADER)


def physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their ends, split at CR LF, LF or CR only (RFC 4180's line breaks)."""
    return list(io.StringIO(text, newline=""))


def records(text: str | None, columns: Sequence[tuple[str, str]], valid_utf8: bool = True) -> list[tuple]:
    """``(source_line, value…, corrupt_record, defect)`` per record of ``text``; ``columns`` are
    (name, int|string); ``valid_utf8`` is false when the file's bytes were not UTF-8."""
    if text is None:
        return []
    lines = physical_lines(text)
    reader = csv.reader(iter(lines), strict=False)
    order = None  # for each declared column, its position in the file (from the header)
    result = []
    consumed = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:  # unreadable from here on: keep the rest of the file as one corrupt record
            result.append(_corrupt(consumed + 1, columns, "".join(lines[consumed:]), UNPARSED))
            break
        start, consumed = consumed, reader.line_num
        if not fields:
            continue
        if order is None:
            order = header_order(fields, columns)
            if order is None:  # not the declared header: the file is not read by guessing
                return [_corrupt(1, columns, text, WRONG_HEADER)]
            continue
        raw = "".join(lines[start:consumed]).rstrip("\r\n")
        if not valid_utf8 and REPLACEMENT_CHARACTER in raw:
            result.append(_corrupt(start + 1, columns, raw, NOT_UTF8))
            continue
        result.append((start + 1, *_typed(fields, columns, order, raw)))
    return result


def header_order(header: list[str], columns: Sequence[tuple[str, str]]) -> list[int] | None:
    """Position in the file of each declared column, or None when the header is not the declared set."""
    names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    declared = [name.lower() for name, _ in columns]
    if sorted(names) != sorted(declared) or len(set(names)) != len(names):
        return None
    return [names.index(name) for name in declared]


def _corrupt(line: int, columns: Sequence[tuple[str, str]], raw: str, defect: str) -> tuple:
    return (line, *[None] * len(columns), raw, defect)


def _typed(fields: list[str], columns: Sequence[tuple[str, str]], order: list[int], raw: str) -> tuple:
    if len(fields) != len(columns):
        return (*[None] * len(columns), raw, UNPARSED)
    values: list[int | str | None] = []
    for position, (_, kind) in zip(order, columns):
        value = fields[position]
        if value == "" or kind == "int" and not value.strip():
            values.append(None)
        elif kind == "int":
            text = value.strip()
            if not INTEGER.match(text) or not INT_RANGE[0] <= int(text) <= INT_RANGE[1]:
                return (*[None] * len(columns), raw, UNPARSED)
            values.append(int(text))
        else:
            values.append(value)
    return (*values, None, None)


def record_type(columns: Sequence[tuple[str, str]]) -> str:
    fields = ", ".join(f"{name}: {kind}" for name, kind in columns)
    return f"array<struct<source_line: int, {fields}, _corrupt_record: string, _defect: string>>"


def is_valid_utf8(text: Column) -> Column:
    """True when the text's bytes are UTF-8 (decoding and encoding again gives the same bytes)."""
    raw = text.cast("binary")
    return F.coalesce(raw == F.encode(F.decode(raw, "UTF-8"), "UTF-8"), F.lit(True))


def parsed_rows(text: Column, columns: Sequence[tuple[str, str]]) -> Column:
    """An array of the file's records (``inline`` it into rows); ``columns`` are (name, int|string)."""
    unknown = [kind for _, kind in columns if kind not in TYPES]
    if unknown:
        raise ValueError(f"vendor CSV columns must be one of {TYPES}, got {unknown}")
    frozen = tuple(columns)
    parse = F.udf(lambda value, valid: records(value, frozen, valid), record_type(frozen))
    return parse(text, is_valid_utf8(text))
