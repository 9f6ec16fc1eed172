"""A report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no network — it opens
offline from an email attachment and prints as an A4 通报 (print stylesheet).

Named html_page, not html: Airflow imports every file of the plugins folder as a top-level module, and an html.py
would shadow the standard library's html."""

from __future__ import annotations

import math
from datetime import date
from html import escape

import jinja2

from credit_platform.reports.model import Column, Report, Section

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       color: #1a1a1a; margin: 24px auto; max-width: 1100px; padding: 0 16px; line-height: 1.6; }
h1 { font-family: "Noto Serif CJK SC", "SimSun", serif; text-align: center; color: #b00000; font-size: 26px;
     border-bottom: 3px solid #b00000; padding-bottom: 8px; margin-bottom: 4px; }
.meta { text-align: center; color: #555; font-size: 13px; margin-bottom: 16px; }
.headline p { text-indent: 2em; margin: 6px 0; font-size: 15px; }
h2 { font-size: 18px; border-left: 5px solid #2f5597; padding-left: 8px; margin-top: 28px; }
.note { color: #555; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 8px 0 4px; }
th { background: #dce6f1; font-weight: 600; }
th, td { border: 1px solid #9aa9bd; padding: 3px 6px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.nw { white-space: nowrap; }
tr:nth-child(even) td { background: #f6f8fb; }
.up { color: #1e7b34; } .down { color: #b00000; } td.none { color: #888; }
figure { margin: 8px 0 12px; } figcaption { font-size: 13px; color: #333; text-align: center; }
svg text { font-family: inherit; }
footer { margin-top: 32px; font-size: 12px; color: #666; border-top: 1px solid #ccc; padding-top: 6px; }
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 9pt; } tr:nth-child(even) td { background: none; }
}
"""

PAGE = jinja2.Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title_zh }}（{{ r.period_zh }}）</title>
<style>{{ css | safe }}</style></head>
<body>
<h1>{{ r.title_zh }}</h1>
<div class="meta">{{ r.office_name }}　{{ r.period_zh }}<br>{{ r.cutoff_zh }}</div>
<section class="headline">{% for line in r.headline %}<p>{{ line }}</p>{% endfor %}</section>
{% for s in sections %}
<section id="{{ s.key }}">
<h2>{{ s.title }}</h2>
{% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
{% if s.svg %}<figure>{{ s.svg | safe }}<figcaption>{{ s.chart_title }}</figcaption></figure>{% endif %}
{% if s.rows %}
<table><thead><tr>{% for h in s.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in s.rows %}<tr>{% for cell, numeric, cls in row -%}
<td class="{{ 'n' if numeric }} {{ cls }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>{{ s.empty }}</p>{% endif %}
</section>
{% endfor %}
<footer>公共信用信息平台自动生成。各项指标的分子、分母可在平台按（指标、单位或城市、月份）追溯到对应批次与记录。</footer>
</body></html>
""")

PALETTE = ["#2f5597", "#c55a11", "#548235", "#7f6000"]


def cell(col: Column, v) -> tuple[str, bool, str]:
    if v is None:
        return (col.none_zh or "—", col.fmt != "text", "none")
    match col.fmt:
        case "pct":
            return (f"{v * 100:.1f}%", True, "")
        case "int":
            return (f"{int(v):,}", True, "")
        case "num":
            return (f"{v:,.2f}", True, "")
        case "score":
            return (f"{v:.1f}", True, "")
        case "change_score":
            return (f"{v:+.1f}", True, "up" if v > 0 else "down" if v < 0 else "")
        case "change_pct":
            return (f"{v * 100:+.1f}%", True, "up" if v > 0 else "down" if v < 0 else "")
        case "date":
            return (v.isoformat() if isinstance(v, date) else str(v), True, "")
    return (str(v), False, "")


def _short(label: str, n: int = 13) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def nice_axis(vmax: float, ticks: int = 5, whole: bool = False) -> tuple[float, int]:
    """(tick step, number of steps) for an axis from 0 past vmax in at most `ticks` steps of 1, 2, 2.5 or 5 × 10^k,
    so the ticks read 0, 20, 40 … and never 0, 16, 33, 49 …; `whole`: counts, whole-number steps only."""
    if vmax <= 0:
        return 1.0, 1
    raw = vmax / ticks
    mag = 10 ** math.floor(math.log10(raw))
    steps = [m * mag for m in (1, 2, 2.5, 5, 10)]
    if whole:
        steps = [max(1, round(x)) for x in steps if x >= 1 and float(x).is_integer()] or [1]
    step = next((x for x in steps if x >= raw * (1 - 1e-9)), steps[-1])
    return step, max(1, math.ceil(vmax / step - 1e-9))


def svg_chart(section: Section) -> str:
    """A bar (grouped) or line chart as inline SVG, sized for an A4 page."""
    spec = section.chart
    frame = section.frame.head(section.chart_count())
    labels = [str(v) for v in frame.get_column(spec.category).to_list()]
    series = [[float(x or 0) for x in frame.get_column(v).to_list()] for v in spec.values]
    pct = {c.name for c in section.columns if c.fmt == "pct"}
    width, height, left, bottom, top = 1000, 350, 60, 100, 30
    plot_w, plot_h = width - left - 20, height - bottom - top
    step, ticks = nice_axis(max([max(s) for s in series if s] + [0]),
                            whole=all(v.is_integer() for s in series for v in s))
    vmax = step * ticks
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img"'
           f' aria-label="{escape(spec.title_zh)}">']
    for t in range(ticks + 1):
        y = top + plot_h - plot_h * t / ticks
        val = step * t
        val = round(val * 100, 6) / 100 if spec.values[0] in pct else round(val, 6)  # 0.2 × 3 is 0.6000…01
        text = (f"{val * 100:.{0 if round(val * 100, 6).is_integer() else 1}f}%" if spec.values[0] in pct
                else f"{val:,.0f}" if float(val).is_integer() else f"{val:g}")
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 20}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#555">{text}</text>')
    n = max(len(labels), 1)
    slot = plot_w / n
    for i, label in enumerate(labels):
        x = left + slot * (i + 0.5)
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" font-size="11" text-anchor="end" fill="#333"'
                   f' transform="rotate(-35 {x:.1f} {top + plot_h + 14})">{escape(_short(label))}</text>')
    if spec.kind == "bar":
        bar_w = min(slot * 0.8 / len(series), 64)  # a few bars stay bars, not slabs
        pad = (slot - bar_w * len(series)) / 2
        for k, s in enumerate(series):
            for i, v in enumerate(s):
                h = plot_h * v / vmax
                x = left + slot * i + pad + bar_w * k
                out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
                           f' fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(labels[i])}: {v:g}</title></rect>')
    else:
        for k, s in enumerate(series):
            pts = " ".join(f"{left + slot * (i + 0.5):.1f},{top + plot_h - plot_h * v / vmax:.1f}"
                           for i, v in enumerate(s))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{PALETTE[k % len(PALETTE)]}"'
                       f' stroke-width="2.5"/>')
            for i, v in enumerate(s):
                out.append(f'<circle cx="{left + slot * (i + 0.5):.1f}" cy="{top + plot_h - plot_h * v / vmax:.1f}"'
                           f' r="3.5" fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(labels[i])}: {v:g}'
                           f'</title></circle>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" stroke="#333"/>')
    for k, v in enumerate(spec.values):  # legend
        x = left + 10 + k * 190
        out.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{PALETTE[k % len(PALETTE)]}"/>'
                   f'<text x="{x + 20}" y="18" font-size="13" fill="#333">{escape(section.header(v))}</text>')
    out.append("</svg>")
    return "".join(out)


def _short_cell(c: tuple[str, bool, str]) -> tuple[str, bool, str]:
    """A short text (a city, 是/否) never wraps: squeezed in a printed table it would break mid-word (辽宁 / 省)."""
    text, numeric, cls = c
    return (text, numeric, f"{cls} nw".strip()) if not numeric and len(text) <= 4 else c


def render(report: Report) -> bytes:
    sections = []
    for s in report.sections:
        rows = [[_short_cell(cell(c, row.get(c.name))) for c in s.columns] for row in s.frame.iter_rows(named=True)]
        sections.append({"key": s.key, "title": s.title_zh, "note": s.note_zh,
                         "headers": [c.header_zh for c in s.columns], "rows": rows, "empty": s.empty_zh,
                         "svg": svg_chart(s) if s.chart_count() else "",
                         "chart_title": s.chart.title_zh if s.chart else ""})
    return PAGE.render(r=report, sections=sections, css=CSS).encode("utf-8")
