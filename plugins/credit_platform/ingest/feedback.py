"""The feedback workbook (问题数据清单.xlsx) a source unit gets back for each batch with problems.

Sheet 1 "待修改记录" holds the rejected records to correct: 记录编号 (batch and row of the rejected record),
原文件行号 (the row Excel showed in the file the unit sent), 问题说明 and 修改要求 first, then the record under the
catalog's Chinese headers (ID numbers masked). A clerk corrects the cells and sends the workbook back as it is:
gate 0 reads the first sheet, keeps 记录编号 to match each row to its rejection and ignores the other feedback
columns. Rows rejected only as duplicates need nothing and are not in sheet 1 (sending them back would report
the record twice). Sheet 2 "问题数据清单" lists every problem; sheet 3 "说明" says how to correct and return.
A batch that could not be read at all gets a workbook of two sheets: the file's problem, and "说明" telling the
unit to resend the whole batch (there is nothing in it to correct and return).
Every cell is written as text: a value such as `=cmd|…` stays data, never a formula.
"""

from __future__ import annotations

import io
import re

import polars as pl
import xlsxwriter

from credit_platform.catalog.items import Item
from credit_platform.gates.reasons import BATCH_FIX_ZH, FIX_ZH
from credit_platform.gates.structure import ROW

REF_HEADER = "记录编号"
_REF = re.compile(r"^([0-9a-f]{12})-(\d+)$")

HOW_TO_ZH = [
    "如何修改并退回本清单",
    "1. 在“待修改记录”工作表中，按“问题说明”和“修改要求”直接修改对应单元格，"
    "可以修改任何字段（包括决定日期、文号、机关代码等关键字段）。",
    "2. 不要修改或删除“记录编号”列：平台据此把修改后的记录对应到原来的问题记录，对应上即视为已整改。",
    "3. 身份证号码显示为打码形式（如2101**********5050）。号码本身无误时保持原样即可，平台会自动还原；"
    "“问题说明”指出号码有误时，请填写完整的正确号码（保持打码形式会还原成原来有误的号码）。",
    "4. 修改完成后，将本工作簿原样（不要改动表头、不要调整工作表顺序）通过原渠道重新报送；“原文件行号”“问题说明”"
    "“修改要求”列可以保留，平台读取时会忽略。",
    "5. 标注为“重复报送”的记录无需修改，也不要再次报送，平台已登记。",
    "6. 日期请填写为YYYY-MM-DD格式；所有单元格均为文本格式，请勿输入公式。",
]

# a batch that could not be read has no records to correct here: the unit fixes and resends its own file
BATCH_HOW_TO_ZH = [
    "如何处理",
    "1. 平台未能读取“报送数据”列所列的整批数据，其中的记录均未入库，也未逐条检查。",
    "2. 请按“问题说明”和“修改要求”修正后（文件可从业务系统重新导出），通过原渠道重新报送整批数据。",
    "3. 本清单仅作说明，无需修改或退回；重新报送的数据通过检查后，本问题即视为已整改。",
    "4. 以文件报送的，可用CSV（UTF-8或GB18030编码）或Excel（.xlsx）格式，第一行为表头，"
    "表头使用目录中的中文字段名或字段代码。",
]


def record_ref(batch_id: str, row: int) -> str:
    """The reference a feedback row carries: the batch's first 12 hex characters and the record's row."""
    return f"{batch_id[:12]}-{row}"


def parse_ref(text: str | None) -> tuple[str, int] | None:
    m = _REF.match((text or "").strip().lower())
    return (m.group(1), int(m.group(2))) if m else None


def _new_workbook() -> tuple[xlsxwriter.Workbook, io.BytesIO]:
    buf = io.BytesIO()
    # strings stay strings: no formula, URL or number conversion of what a source unit sent
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    return wb, buf


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _table(wb, name: str, header: list[str], rows: list[list], feedback_cols: int, wrap: set[int]) -> None:
    """A sheet a clerk can read: styled frozen header with filters, widths from the content, long texts
    wrapped. The first `feedback_cols` columns are the platform's (orange header), the rest the unit's data."""
    ws = wb.add_worksheet(name)
    head_fb = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                             "valign": "vcenter"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"valign": "top", "num_format": "@"})
    cell_wrap = wb.add_format({"valign": "top", "text_wrap": True, "num_format": "@"})
    for c, h in enumerate(header):
        ws.write_string(0, c, h, head_fb if c < feedback_cols else head)
    widths = [_width(h) + 4 for h in header]
    for r, values in enumerate(rows, 1):
        for c, v in enumerate(values):
            if v is None:
                continue
            text = str(v)
            ws.write_string(r, c, text, cell_wrap if c in wrap else cell)
            widths[c] = max(widths[c], min(_width(text) + 2, 80))
    widths = [min(w, 60 if c in wrap else 40) for c, w in enumerate(widths)]
    text_cell = wb.add_format({"num_format": "@"})
    for c, w in enumerate(widths):
        # empty cells too: what a clerk types into them stays text (a date or an ID number is not converted)
        ws.set_column(c, c, w, text_cell)
    # wrapped texts get the height of their lines (neither Excel nor WPS grows a row written with a height)
    for r, values in enumerate(rows, 1):
        lines = max([-(-_width(str(values[c] or "")) // max(widths[c] - 2, 1)) for c in wrap if c < len(values)],
                    default=1)
        if lines > 1:
            ws.set_row(r, min(15 * lines, 150))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(rows), 1), len(header) - 1)
    # printed: landscape A4, the header row and the 记录编号 column on every page; a narrow table fits the width
    ws.set_landscape()
    ws.set_paper(9)
    ws.repeat_rows(0)
    ws.repeat_columns(0)
    if sum(min(w, 60) for w in widths) < 200:
        ws.fit_to_pages(1, 0)


def workbook(item: Item, records: pl.DataFrame, problems: pl.DataFrame, batch_id: str, line_offset: int = 1) -> bytes:
    """records: ROW + display values of the rejected records; problems: row, field, value, reason, message_zh."""
    wb, buf = _new_workbook()
    dup_rows = set(problems.filter(pl.col("reason") == "duplicate_in_batch").get_column("row").to_list())
    notes = (problems.group_by("row", maintain_order=True).agg(
        pl.col("message_zh").str.join("；").alias("note"),
        pl.col("reason").map_elements(FIX_ZH.get, return_dtype=pl.Utf8).unique(maintain_order=True)
        .str.join("；").alias("fix")) if problems.height else
        pl.DataFrame(schema={"row": pl.Int64, "note": pl.Utf8, "fix": pl.Utf8}))
    joined = (records.filter(~pl.col(ROW).is_in(list(dup_rows)))
              .join(notes, left_on=ROW, right_on="row", how="left").sort(ROW))
    header = [REF_HEADER, "原文件行号", "问题说明", "修改要求"] + [f.name for f in item.fields]
    rows = [[record_ref(batch_id, r), r + line_offset, note, fix, *values]
            for r, note, fix, *values in joined.select(ROW, "note", "fix", *item.codes).iter_rows()]
    _table(wb, "待修改记录", header, rows, 4, {2, 3})
    names = item.names
    problem_rows = [
        [record_ref(batch_id, r), r + line_offset, "整条记录" if f == "*" else f"{names.get(f, f)}（{f}）", v, m,
         FIX_ZH[reason]]
        for r, f, v, m, reason in problems.select("row", "field", "value", "message_zh", "reason").iter_rows()]
    _table(wb, "问题数据清单", [REF_HEADER, "原文件行号", "字段", "原值", "问题说明", "修改要求"], problem_rows, 2,
           {4})
    _how_to(wb)
    wb.close()
    return buf.getvalue()


def batch_error_workbook(source_name: str, received_at: str, message_zh: str) -> bytes:
    """A batch that could not be read at all: which file, when, what is wrong, in plain Chinese."""
    wb, buf = _new_workbook()
    _table(wb, "问题数据清单", ["报送数据", "接收时间", "问题说明", "修改要求"],
           [[source_name, received_at, message_zh, BATCH_FIX_ZH]], 0, {2})
    _how_to(wb, BATCH_HOW_TO_ZH)
    wb.close()
    return buf.getvalue()


def _how_to(wb, lines: list[str] = HOW_TO_ZH) -> None:
    ws = wb.add_worksheet("说明")
    title = wb.add_format({"bold": True, "font_size": 14})
    text = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.set_column(0, 0, 110)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.write_string(0, 0, lines[0], title)
    for i, line in enumerate(lines[1:], 2):
        ws.write_string(i, 0, line, text)
        ws.set_row(i, 15 * -(-_width(line) // 106))
