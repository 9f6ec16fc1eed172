"""A report as an Excel workbook: a cover sheet with the headline, then one sheet per section with Chinese headers,
number / percent formats, frozen header rows, fitting column widths and a native Excel chart."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime

import xlsxwriter

from credit_platform.reports.gate import neutralise
from credit_platform.reports.model import Report, Section

HEADER_ROW = 2  # title, note, then the header; data from row 3


def display_width(text: str) -> int:
    """Columns a text needs: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_name(section: Section, used: set[str]) -> str:
    # Excel: ≤ 31 characters, no []:*?/\ ; the section title without its 一、 numbering
    name = section.title_zh.split("、", 1)[-1]
    for ch in "[]:*?/\\":
        name = name.replace(ch, "")
    name = name[:28]
    base, i = name, 2
    while name in used:
        name, i = f"{base[:26]}{i}", i + 1
    used.add(name)
    return name


def render(report: Report) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    # reproducible bytes: the document's creation time is the period's end, not the moment of the run
    y, m = map(int, report.period.split("-"))
    wb.set_properties({"title": f"{report.title_zh}（{report.period_zh}）", "author": report.office_name,
                       "company": "公共信用信息平台", "created": datetime(y, m, 1)})
    font = {"font_name": "等线", "font_size": 11}
    f_title = wb.add_format({**font, "bold": True, "font_size": 16})
    f_note = wb.add_format({**font, "font_color": "#555555", "text_wrap": False})
    f_head = wb.add_format({**font, "bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                            "valign": "vcenter", "align": "center"})
    fmts = {
        "text": wb.add_format({**font, "border": 1}),
        "int": wb.add_format({**font, "border": 1, "num_format": "#,##0"}),
        "num": wb.add_format({**font, "border": 1, "num_format": "#,##0.00"}),
        "pct": wb.add_format({**font, "border": 1, "num_format": "0.0%"}),
        "score": wb.add_format({**font, "border": 1, "num_format": "0.0"}),
        "change_pct": wb.add_format({**font, "border": 1, "num_format": "+0.0%;-0.0%;0.0%"}),
        "change_score": wb.add_format({**font, "border": 1, "num_format": "+0.0;-0.0;0.0"}),
        "date": wb.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd"}),
    }
    # a said absence (无数据) in a number column: right-aligned and grey, where the number would be
    f_none = wb.add_format({**font, "border": 1, "align": "right", "font_color": "#888888"})

    cover = wb.add_worksheet("通报")
    cover.set_column(0, 0, 110)
    cover.write_string(0, 0, f"{report.title_zh}（{report.period_zh}）", f_title)
    cover.write_string(1, 0, f"{report.office_name}　{report.cutoff_zh}", f_note)
    f_wrap = wb.add_format({**font, "text_wrap": True, "valign": "top"})
    for i, line in enumerate(report.headline):
        cover.write_string(3 + i, 0, line, f_wrap)
    cover.write_string(4 + len(report.headline), 0, "各部分明细见后续工作表。", f_note)

    used: set[str] = {"通报"}
    for section in report.sections:
        ws = wb.add_worksheet(_sheet_name(section, used))
        ws.write_string(0, 0, section.title_zh, f_title)
        ws.write_string(1, 0, section.note_zh or f"{report.title_zh}（{report.period_zh}）", f_note)
        frame = section.frame
        for j, col in enumerate(section.columns):
            ws.write_string(HEADER_ROW, j, col.header_zh, f_head)
            width = display_width(col.header_zh)
            values = frame.get_column(col.name).to_list() if col.name in frame.columns else []
            for i, v in enumerate(values, start=HEADER_ROW + 1):
                fmt = fmts[col.fmt]
                if v is None and col.none_zh:  # a said absence (无数据, —), else an empty cell
                    ws.write_string(i, j, col.none_zh, f_none if col.fmt != "text" else fmt)
                elif v is None:
                    ws.write_blank(i, j, None, fmt)
                elif col.fmt == "date" and isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt)
                elif col.fmt == "text" or isinstance(v, str):
                    # never a formula here; the apostrophe keeps it text in a CSV saved from this sheet too
                    ws.write_string(i, j, neutralise(str(v)), fmt)
                    width = max(width, display_width(str(v)))
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v, fmt)
                else:
                    ws.write_number(i, j, float(v), fmt)
                    width = max(width, len(f"{v:,.1f}") if col.fmt != "pct" else 6)
            ws.set_column(j, j, min(max(width + 2, 8), 60))
        if frame.is_empty():
            ws.write_string(HEADER_ROW + 1, 0, section.empty_zh, fmts["text"])
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.set_row(HEADER_ROW, 30)
        if frame.height:
            ws.autofilter(HEADER_ROW, 0, HEADER_ROW + frame.height, len(section.columns) - 1)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(HEADER_ROW)
        if section.chart_count():
            _chart(wb, ws, section, section.chart_count())
    wb.close()
    return buf.getvalue()


def _chart(wb, ws, section: Section, n: int) -> None:
    spec = section.chart
    names = [c.name for c in section.columns]
    cat_col = names.index(spec.category)
    chart = wb.add_chart({"type": "column" if spec.kind == "bar" else "line"})
    palette = ["#2F5597", "#C55A11", "#548235", "#7F6000"]
    for k, value in enumerate(spec.values):
        j = names.index(value)
        series = {"name": [ws.name, HEADER_ROW, j],
                  "categories": [ws.name, HEADER_ROW + 1, cat_col, HEADER_ROW + n, cat_col],
                  "values": [ws.name, HEADER_ROW + 1, j, HEADER_ROW + n, j]}
        if spec.kind == "bar":
            series["fill"] = {"color": palette[k % len(palette)]}
        else:
            series["line"] = {"color": palette[k % len(palette)], "width": 2.25}
            series["marker"] = {"type": "circle"}
        chart.add_series(series)
    chart.set_title({"name": spec.title_zh, "name_font": {"name": "等线", "size": 12}})
    chart.set_x_axis({"num_font": {"name": "等线", "rotation": -45 if n > 6 else 0}})
    # from 0: close values would otherwise get an axis from 47 and 49.8 would look a third of 54.3
    chart.set_y_axis({"min": 0})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": 380})
    # below the table: the sheet prints one table wide on A4, the chart after it
    ws.insert_chart(HEADER_ROW + section.frame.height + 2, 0, chart)
