"""Readable console output: per-table counts, a table's rows, the last runs of the event log."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from medallion.declare.pipeline import get_pipeline
from medallion.io import table_exists
from medallion.platform.runtime import Runtime


def format_rows(header: list[str], rows: list[list]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    numeric = [
        all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) and rows for i in range(len(header))
    ]

    def line(values):
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


COUNTING_AT_ONCE = 4


def table_counts(runtime: Runtime, pipeline_name: str) -> list[list]:
    """Layer, name and row count (None: not created yet) of each of the pipeline's tables. The counts run a
    few at a time: counting a small table is mostly loading its log, not computing."""
    spark = runtime.spark
    locations = [runtime.location(pipeline_name, t.layer, t.name) for t in get_pipeline(pipeline_name).ordered()]

    def count(path: str) -> int | None:
        return spark.read.format("delta").load(path).count() if table_exists(spark, path) else None

    with ThreadPoolExecutor(max_workers=COUNTING_AT_ONCE) as pool:
        counts = list(pool.map(count, [location.path for location in locations]))
    return [[location.layer.value, location.name, n] for location, n in zip(locations, counts)]


def print_counts(runtime: Runtime, pipeline_name: str) -> None:
    print(format_rows(["layer", "table", "rows"], table_counts(runtime, pipeline_name)))


def print_dataframe(df, limit: int = 50) -> None:
    rows = [list(r) for r in df.limit(limit).collect()]
    print(format_rows(df.columns, rows))
