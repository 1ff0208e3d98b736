"""The report page: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

import pyarrow as pa

from medallion.read.lakehouse import TableInfo
from medallion.read.report.charts import Chart, fmt, render
from medallion.read.report.choose import is_identifier

STYLE = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --card:#ffffff; --bg:#f3f4f6; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif; }
header { background:#0f172a; color:#f8fafc; padding:28px 40px 22px; }
header h1 { margin:0 0 4px; font-size:26px; letter-spacing:-0.01em; }
header p { margin:0; color:#cbd5e1; font-size:14px; }
nav { margin-top:14px; display:flex; flex-wrap:wrap; gap:8px; }
nav a { color:#e2e8f0; background:#1e293b; padding:4px 10px; border-radius:999px; text-decoration:none; font-size:13px; }
main { max-width:1180px; margin:0 auto; padding:24px 40px 40px; }
section.pipeline > h2 { font-size:20px; margin:18px 0 2px; }
section.pipeline > p { margin:0 0 14px; color:var(--muted); }
article { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:20px 24px; margin:0 0 22px;
          box-shadow:0 1px 2px rgba(0,0,0,.04); }
article h3 { margin:0; font-size:18px; }
article h3 code { font-size:13px; color:var(--muted); font-weight:400; margin-left:8px; }
article .comment { margin:2px 0 14px; color:var(--muted); }
.kpis { display:flex; gap:14px; flex-wrap:wrap; margin-bottom:16px; }
.kpi { border:1px solid var(--line); border-radius:10px; padding:8px 14px; min-width:130px; }
.kpi .value { display:block; font-size:22px; font-weight:650; }
.kpi .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
figure { margin:0 0 16px; }
figcaption { font-weight:600; margin-bottom:6px; }
svg.chart { max-width:100%; height:auto; }
.scroll { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { background:#f9fafb; text-align:left; position:sticky; top:0; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
tr:nth-child(even) td { background:#fafafa; }
.missing { color:#92400e; background:#fffbeb; border:1px solid #fde68a; border-radius:8px; padding:10px 14px; }
.caption { color:var(--muted); font-size:12px; margin:6px 0 0; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 28px; }
"""


LONGEST_CELL = 24


@dataclass(frozen=True)
class TableSection:
    pipeline: str
    name: str
    comment: str
    info: TableInfo | None  # None: not written yet
    chart: Chart | None = None
    preview: pa.Table | None = None
    headline: tuple[str, str] | None = None  # (value, label)


def page(title: str, subtitle: str, descriptions: dict[str, str], sections: list[TableSection]) -> str:
    nav = "".join(f'<a href="#{_anchor(s)}">{escape(s.pipeline)}.{escape(s.name)}</a>' for s in sections)
    body = []
    for pipeline in dict.fromkeys(s.pipeline for s in sections):
        body.append(
            f'<section class="pipeline" id="{escape(pipeline)}"><h2>{escape(pipeline)}</h2>'
            f"<p>{escape(descriptions.get(pipeline, ''))}</p>"
        )
        body += [_article(s) for s in sections if s.pipeline == pipeline]
        body.append("</section>")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p><nav>{nav}</nav></header>"
        f"<main>{''.join(body)}</main>"
        f"<footer>Made by <code>medallion report</code> from the Delta tables themselves "
        f"(read with delta-rs, no Spark). Each table shows its latest version.</footer></body></html>\n"
    )


def _article(section: TableSection) -> str:
    head = (
        f'<article id="{_anchor(section)}"><h3>{escape(section.name)}<code>{escape(section.pipeline)}.gold</code></h3>'
        f'<p class="comment">{escape(section.comment)}</p>'
    )
    if section.info is None:
        return head + (
            f'<p class="missing">Not written yet: run <code>medallion run {escape(section.pipeline)}</code>.</p>'
            "</article>"
        )
    info = section.info
    kpis = [
        (f"{info.num_rows:,}", "rows"),
        (f"{len(info.columns)}", "columns"),
        (info.updated_at.strftime("%Y-%m-%d %H:%M"), "updated (UTC)"),
        (str(info.version), "Delta version"),
    ]
    if section.headline:
        kpis.insert(1, section.headline)
    parts = [head, '<div class="kpis">']
    parts += [
        f'<div class="kpi"><span class="value">{escape(v)}</span><span class="label">{escape(k)}</span></div>'
        for v, k in kpis
    ]
    parts.append("</div>")
    if section.chart is not None and section.chart.labels:
        parts.append(f"<figure><figcaption>{escape(section.chart.title)}</figcaption>{render(section.chart)}</figure>")
    if section.preview is not None:
        parts.append(_preview(section.preview, info.num_rows))
    parts.append("</article>")
    return "".join(parts)


def _preview(rows: pa.Table, total: int) -> str:
    if total == 0:
        return '<p class="missing">No rows yet: the table exists and is empty.</p>'
    numeric = [
        pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type) for f in rows.schema
    ]
    plain = [is_identifier(name) for name in rows.column_names]  # ids read as written: 10042, not 10,042
    header = "".join(f"<th>{escape(name)}</th>" for name in rows.column_names)
    body = []
    for record in rows.to_pylist():
        cells = []
        for is_number, is_plain, value in zip(numeric, plain, record.values()):
            formatted = is_number and not is_plain and not isinstance(value, bool)
            text = "NULL" if value is None else (fmt(value) if formatted else _text(value))
            if is_number:
                cells.append(f'<td class="num">{escape(text)}</td>')
            elif len(text) > LONGEST_CELL:  # tokens and hashes: the start is enough, the rest on hover
                cells.append(f'<td title="{escape(text)}">{escape(text[: LONGEST_CELL - 1])}…</td>')
            else:
                cells.append(f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"First {rows.num_rows} of {total:,} rows." if total > rows.num_rows else f"All {total:,} rows."
    return (
        f'<div class="scroll"><table><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
        f'<p class="caption">{caption}</p>'
    )


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _anchor(section: TableSection) -> str:
    return f"{section.pipeline}-{section.name}"
