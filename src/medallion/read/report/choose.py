"""Which chart tells a gold table's story, decided from its schema and a few aggregate queries.

- a date or timestamp column and a measure → the measure per day (columns; a line past 40 days);
- else a category with a handful of values → the measure per category, ranked; when the measure is
  ``avg_X`` and ``min_X``/``max_X`` exist, the full range per category with the mean marked;
- else a measure → its histogram; else no chart.

A table whose schema would mislead the choice declares its chart (``report_chart=chart(measure, by=…,
where=…)``): e.g. ``cltv_by_dimension`` stacks city, contract and payment method as (dimension, value)
rows, where "the measure per dimension" would average unrelated groups; it declares the measure per value
for the contract rows.

Measures are numeric columns that are not identifiers. Additive ones (minutes, counts, amounts) are
summed, the others (averages, rates, prices) averaged. All aggregation runs in the query engine, so a
large table costs no more than a small one.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pyarrow as pa

from medallion.declare.tables import ReportChart
from medallion.errors import MedallionError
from medallion.read.lakehouse import query as run_query
from medallion.read.lakehouse import read_table
from medallion.read.report.charts import Chart, Series

ADDITIVE = (
    "minutes",
    "seconds",
    "hours",
    "count",
    "num_",
    "total",
    "sum_",
    "amount",
    "revenue",
    "qty",
    "quantity",
    "sales",
    "orders",
    "visits",
    "clicks",
    "spend",
)
STATISTICS = ("avg_", "mean_", "min_", "max_", "median_")
MEAN_HINTS = ("rate", "ratio", "pct", "percent", "price", "score", "bpm", "value")
IDENTIFIER = re.compile(r"(^id$|_id$|_key$|^mac|_number$|^year$|^month$|^week$|^day|^partition$|^offset$)")
MAX_DAYS_AS_COLUMNS = 40


def choose_chart(path: str, storage_options=None, declared: ReportChart | None = None) -> Chart | None:
    schema = read_table(path, limit=0, storage_options=storage_options).schema
    if declared is not None:
        return _declared(_Query(path, storage_options), declared, schema)
    measures = measures_of(schema)
    if not measures:
        return None
    query = _Query(path, storage_options)
    time_column = next((f.name for f in schema if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type)), None)
    if time_column:
        return _over_time(query, time_column, measures)
    category = _category(query, schema, measures)
    if category:
        return _by_category(query, category, measures, schema)
    return _histogram(query, measures[0])


def _over_time(query, time_column: str, measures: list[str]) -> Chart:
    shown = [m for m in measures if is_additive(m) == is_additive(measures[0])][:2]
    aggregates = ", ".join(f"{_agg(m)}({_q(m)}) AS {_q(m)}" for m in shown)
    rows = query.rows(
        f"SELECT CAST({_q(time_column)} AS DATE) AS label, {aggregates} FROM t "
        f"WHERE {_q(time_column)} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    how = "total" if is_additive(shown[0]) else "mean"
    return Chart(
        kind="columns" if len(rows) <= MAX_DAYS_AS_COLUMNS else "line",
        title=f"{' and '.join([humanize(shown[0])] + [humanize(m).lower() for m in shown[1:]])} per day ({how})",
        labels=tuple(str(r["label"]) for r in rows),
        series=tuple(Series(humanize(m), tuple(float(r[m] or 0) for r in rows)) for m in shown),
    )


def _by_category(query, category: str, measures: list[str], schema: pa.Schema, where: str | None = None) -> Chart:
    measure = measures[0]
    names = set(schema.names)
    stem = measure[4:] if measure.startswith("avg_") else None
    rows_wanted = f"{_q(category)} IS NOT NULL" + (f" AND ({where})" if where else "")
    if stem and f"min_{stem}" in names and f"max_{stem}" in names:
        rows = query.rows(
            f"SELECT CAST({_q(category)} AS VARCHAR) AS label, MIN({_q('min_' + stem)}) AS low, "
            f"AVG({_q(measure)}) AS mean, MAX({_q('max_' + stem)}) AS high FROM t "
            f"WHERE {rows_wanted} GROUP BY 1"
        )
        rows.sort(key=lambda r: natural_key(r["label"]))
        return Chart(
            kind="ranges",
            title=f"{humanize(stem)} by {humanize(category).lower()}: lowest to highest, mean marked",
            labels=tuple(r["label"] for r in rows),
            series=(Series(f"mean {humanize(stem).lower()}", tuple(float(r["mean"]) for r in rows)),),
            low=tuple(float(r["low"]) for r in rows),
            high=tuple(float(r["high"]) for r in rows),
        )
    rows = query.rows(
        f"SELECT CAST({_q(category)} AS VARCHAR) AS label, {_agg(measure)}({_q(measure)}) AS value "
        f"FROM t WHERE {rows_wanted} GROUP BY 1 ORDER BY 2 DESC LIMIT 12"
    )
    how = "total" if is_additive(measure) else "mean"
    return Chart(
        kind="bars",
        title=f"{humanize(measure)} by {humanize(category).lower()} ({how})",
        labels=tuple(r["label"] for r in rows),
        series=(Series(humanize(measure), tuple(float(r["value"] or 0) for r in rows)),),
    )


def _declared(query, declared: ReportChart, schema: pa.Schema) -> Chart:
    missing = [c for c in (declared.measure, declared.category) if c not in schema.names]
    if missing:
        raise MedallionError(
            f"report_chart names {', '.join(missing)}, not columns of the table ({', '.join(schema.names)})"
        )
    chart = _by_category(query, declared.category, [declared.measure], schema, where=declared.where)
    return replace(chart, title=declared.title) if declared.title else chart


def _histogram(query, measure: str) -> Chart | None:
    bounds = query.rows(f"SELECT MIN({_q(measure)}) AS lo, MAX({_q(measure)}) AS hi FROM t")[0]
    if bounds["lo"] is None:
        return None
    lo, hi = float(bounds["lo"]), float(bounds["hi"])
    width = (hi - lo) / 10 or 1
    rows = query.rows(
        f"SELECT LEAST(CAST(FLOOR(({_q(measure)} - {lo}) / {width}) AS BIGINT), 9) AS bin, COUNT(*) AS n "
        f"FROM t WHERE {_q(measure)} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    counts = {int(r["bin"]): int(r["n"]) for r in rows}
    return Chart(
        kind="histogram",
        title=f"How {humanize(measure).lower()} is distributed (rows per range)",
        labels=tuple(f"{lo + i * width:,.0f}–{lo + (i + 1) * width:,.0f}" for i in range(10)),
        series=(Series("rows", tuple(float(counts.get(i, 0)) for i in range(10))),),
    )


def measures_of(schema: pa.Schema) -> list[str]:
    """Numeric, not identifiers; floats always, integers only when named like a measure (an integer such
    as ``gym`` is a category). Averages first, then additive measures, then the rest."""

    def named_like_measure(name: str) -> bool:
        return name.startswith(STATISTICS) or any(hint in name for hint in ADDITIVE + MEAN_HINTS)

    chosen = [
        f
        for f in schema
        if not IDENTIFIER.search(f.name)
        and (
            pa.types.is_floating(f.type)
            or pa.types.is_decimal(f.type)
            or (pa.types.is_integer(f.type) and named_like_measure(f.name))
        )
    ]
    rank = {name: i for i, name in enumerate(schema.names)}
    return [
        f.name
        for f in sorted(
            chosen, key=lambda f: (not f.name.startswith(("avg_", "mean_")), not is_additive(f.name), rank[f.name])
        )
    ]


def _category(query, schema: pa.Schema, measures: list[str]) -> str | None:
    candidates = [
        f.name
        for f in schema
        if f.name not in measures
        and not IDENTIFIER.search(f.name)
        and (is_text(f.type) or pa.types.is_integer(f.type) or pa.types.is_boolean(f.type))
    ]
    for low, high in ((3, 15), (2, 20)):
        for name in candidates:
            distinct = query.rows(f"SELECT COUNT(DISTINCT {_q(name)}) AS n FROM t")[0]["n"]
            if low <= distinct <= high:
                return name
    return None


def is_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type)


def is_identifier(column: str) -> bool:
    return bool(IDENTIFIER.search(column))


def is_additive(measure: str) -> bool:
    return not measure.startswith(("avg_", "mean_")) and any(h in measure for h in ADDITIVE)


def _agg(measure: str) -> str:
    return "SUM" if is_additive(measure) else "AVG"


def humanize(column: str) -> str:
    words = column.replace("_", " ").strip()
    words = re.sub(r"\bavg\b", "average", words)
    words = re.sub(r"\bbpm\b", "heart rate (bpm)", words)
    words = re.sub(r"\bnum\b", "number of", words)
    words = re.sub(r"\bcltv\b", "CLTV", words)  # customer lifetime value: an acronym analysts read as such
    return words[:1].upper() + words[1:]


def natural_key(label: str) -> tuple:
    """'<18' < '18-25' < '25-35' < '95+': by the first number, a leading '<' just below it."""
    match = re.search(r"\d+(\.\d+)?", label or "")
    number = float(match.group()) if match else float("inf")
    return (number - (0.5 if (label or "").startswith("<") else 0), label)


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


class _Query:
    def __init__(self, path: str, storage_options):
        self.path = path
        self.storage_options = storage_options

    def rows(self, sql: str) -> list[dict]:
        return run_query(self.path, sql, self.storage_options).to_pylist()
