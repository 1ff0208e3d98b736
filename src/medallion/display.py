"""Readable console output: per-table counts, a table's rows, the last runs of the event log."""

from __future__ import annotations

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


def table_counts(runtime: Runtime, pipeline_name: str) -> list[list]:
    spark = runtime.spark
    rows = []
    for table in get_pipeline(pipeline_name).ordered():
        location = runtime.location(pipeline_name, table.layer, table.name)
        count = spark.read.format("delta").load(location.path).count() if table_exists(spark, location.path) else None
        rows.append([table.layer.value, location.name, count])
    return rows


def print_counts(runtime: Runtime, pipeline_name: str) -> None:
    print(format_rows(["layer", "table", "rows"], table_counts(runtime, pipeline_name)))


def print_dataframe(df, limit: int = 50) -> None:
    rows = [list(r) for r in df.limit(limit).collect()]
    print(format_rows(df.columns, rows))
