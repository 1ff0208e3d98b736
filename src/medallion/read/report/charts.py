"""Small, dependency-free SVG charts: vertical bars over time, ranked horizontal bars (optionally as
min–max ranges with the mean marked), a line for long series, a histogram. Inline SVG means the report
is one self-contained file that opens anywhere, with no script fetched from the network."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9")
WIDTH = 900
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """What to draw. ``kind``: columns | bars | ranges | line | histogram."""

    kind: str
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    low: tuple[float, ...] = field(default=())  # ranges: the minimum per label
    high: tuple[float, ...] = field(default=())  # ranges: the maximum per label
    value_label: str = ""


def render(chart: Chart) -> str:
    return {"columns": _columns, "bars": _bars, "ranges": _ranges, "line": _line, "histogram": _columns}[chart.kind](
        chart
    )


# ------------------------------------------------------------------------------------------- columns
def _columns(chart: Chart) -> str:
    height, left, right, top, bottom = 300, 56, 16, 28, 56
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((v for s in chart.series for v in s.values), default=0)
    ticks = nice_ticks(0, peak)
    scale = plot_h / (ticks[-1] or 1)
    n, groups = len(chart.labels), len(chart.series)
    slot = plot_w / max(n, 1)
    bar_w = min(48, slot * 0.8 / groups)
    parts = _frame(chart, height) + _y_axis(ticks, scale, left, top, plot_w, plot_h)
    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(chart.labels):
        x0 = left + i * slot + (slot - bar_w * groups) / 2
        for g, series in enumerate(chart.series):
            value = series.values[i]
            h = value * scale
            x, y = x0 + g * bar_w, top + plot_h - h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" rx="2" '
                f'fill="{PALETTE[g % len(PALETTE)]}"><title>{escape(label)} · {escape(series.name)}: {fmt(value)}</title></rect>'
            )
            if n * groups <= 16:
                parts.append(
                    f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="11" '
                    f'fill="#374151" {FONT}>{fmt(value)}</text>'
                )
        if i % every == 0:
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                f'font-size="11" fill="#4b5563" {FONT}>{escape(_short(label))}</text>'
            )
    parts += _legend(chart, top + plot_h + 40, left)
    return "".join(parts) + "</svg>"


# ---------------------------------------------------------------------------------------------- bars
def _bars(chart: Chart) -> str:
    row, left, right, top = 30, 150, 70, 12
    height = top + row * len(chart.labels) + 34
    plot_w = WIDTH - left - right
    values = chart.series[0].values
    ticks = nice_ticks(0, max(values, default=0))
    scale = plot_w / (ticks[-1] or 1)
    parts = _frame(chart, height) + _x_axis(ticks, scale, left, top, row * len(chart.labels))
    for i, (label, value) in enumerate(zip(chart.labels, values)):
        y = top + i * row + 5
        w = value * scale
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="#374151" {FONT}>{escape(_short(label, 20))}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{row - 10}" rx="3" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {fmt(value)}</title></rect>"
        )
        parts.append(
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#111827" {FONT}>{fmt(value)}</text>'
        )
    return "".join(parts) + "</svg>"


def _ranges(chart: Chart) -> str:
    row, left, right, top = 30, 150, 40, 12
    height = top + row * len(chart.labels) + 56
    plot_w = WIDTH - left - right
    lo, hi = min(chart.low, default=0), max(chart.high, default=1)
    ticks = nice_ticks(lo, hi, floor_at_zero=False)
    span = (ticks[-1] - ticks[0]) or 1

    def x_of(v):
        return left + (v - ticks[0]) / span * plot_w

    parts = _frame(chart, height) + _x_axis(ticks, plot_w / span, left, top, row * len(chart.labels), origin=ticks[0])
    means = chart.series[0].values
    for i, label in enumerate(chart.labels):
        y = top + i * row + row / 2
        x1, x2, xm = x_of(chart.low[i]), x_of(chart.high[i]), x_of(means[i])
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#374151" {FONT}>'
            f"{escape(_short(label, 20))}</text>"
        )
        parts.append(
            f'<rect class="bar" x="{x1:.1f}" y="{y - 6:.1f}" width="{max(x2 - x1, 2):.1f}" height="12" rx="6" fill="#bfdbfe">'
            f"<title>{escape(label)}: {fmt(chart.low[i])} to {fmt(chart.high[i])}, mean {fmt(means[i])}</title></rect>"
        )
        parts.append(f'<circle cx="{xm:.1f}" cy="{y:.1f}" r="6" fill="{PALETTE[0]}" stroke="white" stroke-width="2"/>')
    legend_y = top + row * len(chart.labels) + 44
    parts.append(
        f'<rect x="{left}" y="{legend_y - 9}" width="22" height="10" rx="5" fill="#bfdbfe"/>'
        f'<text x="{left + 28}" y="{legend_y}" font-size="12" fill="#4b5563" {FONT}>lowest to highest</text>'
        f'<circle cx="{left + 170}" cy="{legend_y - 4}" r="5" fill="{PALETTE[0]}"/>'
        f'<text x="{left + 180}" y="{legend_y}" font-size="12" fill="#4b5563" {FONT}>{escape(chart.series[0].name)}</text>'
    )
    return "".join(parts) + "</svg>"


# ---------------------------------------------------------------------------------------------- line
def _line(chart: Chart) -> str:
    height, left, right, top, bottom = 300, 56, 16, 28, 56
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((v for s in chart.series for v in s.values), default=0)
    ticks = nice_ticks(0, peak)
    scale = plot_h / (ticks[-1] or 1)
    n = len(chart.labels)
    step = plot_w / max(n - 1, 1)
    parts = _frame(chart, height) + _y_axis(ticks, scale, left, top, plot_w, plot_h)
    for g, series in enumerate(chart.series):
        points = " ".join(f"{left + i * step:.1f},{top + plot_h - v * scale:.1f}" for i, v in enumerate(series.values))
        parts.append(
            f'<polyline class="line" points="{points}" fill="none" stroke="{PALETTE[g % len(PALETTE)]}" stroke-width="2.5"/>'
        )
    every = max(1, math.ceil(n / 8))
    for i in range(0, n, every):
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="11" '
            f'fill="#4b5563" {FONT}>{escape(_short(chart.labels[i]))}</text>'
        )
    parts += _legend(chart, top + plot_h + 40, left)
    return "".join(parts) + "</svg>"


# ------------------------------------------------------------------------------------------- helpers
def _frame(chart: Chart, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(chart.title)}"><title>{escape(chart.title)}</title>'
    ]


def _y_axis(ticks, scale, left, top, plot_w, plot_h) -> list[str]:
    parts = []
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280" {FONT}>{fmt(tick)}</text>'
        )
    return parts


def _x_axis(ticks, scale, left, top, plot_h, origin: float = 0) -> list[str]:
    parts = []
    for tick in ticks:
        x = left + (tick - origin) * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" fill="#6b7280" {FONT}>{fmt(tick)}</text>'
        )
    return parts


def _legend(chart: Chart, y: float, left: float) -> list[str]:
    if len(chart.series) < 2:
        return []
    parts, x = [], left
    for g, series in enumerate(chart.series):
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" rx="2" fill="{PALETTE[g % len(PALETTE)]}"/>'
            f'<text x="{x + 18}" y="{y}" font-size="12" fill="#374151" {FONT}>{escape(series.name)}</text>'
        )
        x += 30 + 7 * len(series.name)
    return parts


def nice_ticks(low: float, high: float, count: int = 5, floor_at_zero: bool = True) -> list[float]:
    """Round axis ticks covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    if floor_at_zero:
        low = min(0.0, low)
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{int(value):,}"


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
