"""The vendor's CSV files, parsed record by record with the line each record starts on.

Why not Spark's CSV reader: silver must tell which of two rows with the same id came first, also within
one file, and Spark's CSV reader exposes no row position (``monotonically_increasing_id`` is not allowed
on a stream). So a file is read whole (the text source with ``wholetext``) and split into records here,
with Python's ``csv`` module: RFC 4180 (quoted fields may hold commas, line breaks and doubled quotes),
the dialect Python's and pandas' writers produce.

A record becomes a row of the declared columns plus ``source_line`` (the file line it starts on). It is
corrupt, and keeps its raw text in ``_corrupt_record`` for quarantine, when it has another number of fields
than declared or an INT field that is not a whole number in INT range (spaces around it allowed). Blank
lines are skipped; a first record equal to the header (case and spaces ignored, byte-order mark too) is
skipped; an empty field (or an INT field of spaces) is NULL.
"""
from __future__ import annotations

import csv
import re
from typing import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

INTEGER = re.compile(r"^[+-]?[0-9]+$")
INT_RANGE = (-(2**31), 2**31 - 1)
TYPES = ("int", "string")


def records(text: str | None, columns: Sequence[tuple[str, str]]) -> list[tuple]:
    """``(source_line, value…, corrupt_record)`` per record of ``text``; ``columns`` are (name, int|string)."""
    if text is None:
        return []
    lines = text.splitlines(keepends=True)
    reader = csv.reader(iter(lines), strict=False)
    header = [name.lower() for name, _ in columns]
    result = []
    consumed = 0
    first = True
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:  # unreadable from here on: keep the rest of the file as one corrupt record
            result.append((consumed + 1, *[None] * len(columns), "".join(lines[consumed:])))
            break
        start, consumed = consumed, reader.line_num
        if not fields:
            continue
        if first and [f.strip().lstrip("\ufeff").strip().lower() for f in fields] == header:
            first = False
            continue
        first = False
        raw = "".join(lines[start:consumed]).rstrip("\r\n")
        result.append((start + 1, *_typed(fields, columns, raw)))
    return result


def _typed(fields: list[str], columns: Sequence[tuple[str, str]], raw: str) -> tuple:
    if len(fields) != len(columns):
        return (*[None] * len(columns), raw)
    values = []
    for value, (_, kind) in zip(fields, columns):
        if value == "" or kind == "int" and not value.strip():
            values.append(None)
        elif kind == "int":
            text = value.strip()
            if not INTEGER.match(text) or not INT_RANGE[0] <= int(text) <= INT_RANGE[1]:
                return (*[None] * len(columns), raw)
            values.append(int(text))
        else:
            values.append(value)
    return (*values, None)


def record_type(columns: Sequence[tuple[str, str]]) -> str:
    fields = ", ".join(f"{name}: {kind}" for name, kind in columns)
    return f"array<struct<source_line: int, {fields}, _corrupt_record: string>>"


def parsed_rows(text: Column, columns: Sequence[tuple[str, str]]) -> Column:
    """An array of the file's records (``inline`` it into rows); ``columns`` are (name, int|string)."""
    unknown = [kind for _, kind in columns if kind not in TYPES]
    if unknown:
        raise ValueError(f"vendor CSV columns must be one of {TYPES}, got {unknown}")
    frozen = tuple(columns)
    parse = F.udf(lambda value: records(value, frozen), record_type(frozen))
    return parse(text)
