"""``medallion report``: a static HTML page of the gold tables, with a chart per table where one helps.

It reads through :mod:`medallion.read.lakehouse` (delta-rs), so it needs no Spark session and runs wherever the
lakehouse is reachable. The page depends only on the data: the same tables give the same file.
"""

from __future__ import annotations

from pathlib import Path

from medallion.declare.tables import ReportChart
from medallion.errors import MedallionError
from medallion.read.lakehouse import Lakehouse, is_table, query, read_table, table_info
from medallion.read.report.charts import fmt
from medallion.read.report.choose import choose_chart, humanize, is_additive, measures_of
from medallion.read.report.page import TableSection, page

PREVIEW_ROWS = 10


def build(lake: Lakehouse, pipelines: list[str], env: str) -> str:
    """The report's HTML for ``pipelines`` (the registry gives their gold tables, in dependency order)."""
    from medallion.declare.pipeline import get_pipeline
    from medallion.declare.tables import Layer

    sections, descriptions = [], {}
    for name in pipelines:
        pipeline = get_pipeline(name)
        descriptions[name] = pipeline.description
        for table in pipeline.ordered(Layer.GOLD):
            sections.append(_section(lake, name, table.name, table.comment, table.report_chart))
    written = [s.info for s in sections if s.info is not None]
    if not written:
        raise MedallionError(
            f"No gold table has been written under {lake.root} yet: run a pipeline first "
            f"(`medallion run {pipelines[0] if pipelines else 'PIPELINE'}`)."
        )
    as_of = max(info.updated_at for info in written).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"{len(written)} gold tables · environment {env} · {lake.root} · data as of {as_of}"
    return page("medallion · gold tables", subtitle, descriptions, sections)


def write(lake: Lakehouse, pipelines: list[str], env: str, out: Path) -> Path:
    html = build(lake, pipelines, env)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)
    return out


def _section(
    lake: Lakehouse, pipeline: str, table: str, comment: str, declared: ReportChart | None = None
) -> TableSection:
    name = f"{pipeline}.{table}"
    path = lake.path(name)
    if not is_table(path, lake.storage_options):
        return TableSection(pipeline, table, comment, None)
    info = table_info(name, path, lake.storage_options)
    preview = read_table(path, limit=PREVIEW_ROWS, storage_options=lake.storage_options)
    chart = choose_chart(path, lake.storage_options, declared) if info.num_rows else None
    headline = _headline(path, lake, preview.schema) if info.num_rows else None
    return TableSection(pipeline, table, comment, info, chart, preview, headline)


def _headline(path: str, lake: Lakehouse, schema) -> tuple[str, str] | None:
    """The one number a reader looks for first: the total of the main additive measure, or its mean."""
    measures = measures_of(schema)
    if not measures:
        return None
    measure = measures[0]
    additive = is_additive(measure)
    sql = f'SELECT {"SUM" if additive else "AVG"}("{measure}") AS v FROM t'
    value = query(path, sql, lake.storage_options).column("v")[0].as_py()
    label = f"{'total' if additive else 'mean'} {humanize(measure).lower()}"
    return (fmt(float(value)) if value is not None else "–", label)
