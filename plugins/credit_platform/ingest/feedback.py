"""The feedback workbook (问题数据清单.xlsx) a source unit gets back for each batch with problems.

Sheet 1 "待修改记录" holds the rejected records to correct: 记录编号 (batch and row of the rejected record),
原文件行号 (the row Excel showed in the file the unit sent), 问题说明 and 修改要求 first, then the record under the
catalog's Chinese headers (ID numbers masked). A clerk corrects the cells and sends the workbook back as it is:
gate 0 reads the first sheet, keeps 记录编号 to match each row to its rejection and ignores the other feedback
columns. Rows rejected only as duplicates need nothing and are not in sheet 1 (sending them back would report
the record twice). Sheet 2 "问题数据清单" lists every problem; sheet 3 "说明" says how to correct and return.
Every cell is written as text: a value such as `=cmd|…` stays data, never a formula.
"""

from __future__ import annotations

import io
import re

import polars as pl
import xlsxwriter

from credit_platform.catalog.items import Item

FIX_ZH = {
    "required_missing": "补充填写该字段",
    "must_be_empty": "删除该字段的值",
    "too_long": "精简内容至长度上限以内",
    "invalid_format": "按规定格式填写",
    "invalid_checksum": "核对代码，更正抄录错误",
    "invalid_date": "填写真实存在的日期",
    "invalid_number": "填写不小于0的数字",
    "not_in_code_list": "按代码表取值",
    "future_date": "核对日期，不得晚于报送日期",
    "date_order": "核对日期先后顺序",
    "duplicate_in_batch": "无需修改：已按重复报送登记，请勿再次报送",
}
BATCH_FIX_ZH = "请按提示修正整个文件后重新上报"
REF_HEADER = "记录编号"
_REF = re.compile(r"^([0-9a-f]{12})-(\d+)$")

HOW_TO_ZH = [
    "如何修改并退回本清单",
    "1. 在“待修改记录”工作表中，按“问题说明”和“修改要求”直接修改对应单元格，可以修改任何字段（包括处罚决定日期等）。",
    "2. 不要修改或删除“记录编号”列：平台据此把修改后的记录对应到原来的问题记录，对应上即视为已整改。",
    "3. 身份证号码显示为打码形式（如2101**********5050）。号码本身无误时保持原样即可，平台会自动还原；"
    "号码有误时请填写完整的正确号码。",
    "4. 修改完成后，将本工作簿原样（不要改动表头、不要调整工作表顺序）通过原渠道重新报送；“原文件行号”“问题说明”"
    "“修改要求”列可以保留，平台读取时会忽略。",
    "5. 标注为“重复报送”的记录无需修改，也不要再次报送，平台已登记。",
    "6. 日期请填写为YYYY-MM-DD格式；所有单元格均为文本格式，请勿输入公式。",
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
    for c, w in enumerate(widths):
        ws.set_column(c, c, min(w, 60 if c in wrap else 40))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(rows), 1), len(header) - 1)


def workbook(item: Item, records: pl.DataFrame, problems: pl.DataFrame, batch_id: str, line_offset: int = 1) -> bytes:
    """records: __row + display values of the rejected records; problems: row, field, value, reason, message_zh."""
    wb, buf = _new_workbook()
    dup_rows = set(problems.filter(pl.col("reason") == "duplicate_in_batch").get_column("row").to_list())
    notes = (problems.group_by("row", maintain_order=True).agg(
        pl.col("message_zh").str.join("；").alias("note"),
        pl.col("reason").map_elements(FIX_ZH.get, return_dtype=pl.Utf8).unique(maintain_order=True)
        .str.join("；").alias("fix")) if problems.height else
        pl.DataFrame(schema={"row": pl.Int64, "note": pl.Utf8, "fix": pl.Utf8}))
    joined = (records.filter(~pl.col("__row").is_in(list(dup_rows)))
              .join(notes, left_on="__row", right_on="row", how="left").sort("__row"))
    header = [REF_HEADER, "原文件行号", "问题说明", "修改要求"] + [f.name for f in item.fields]
    rows = [[record_ref(batch_id, r), r + line_offset, note, fix, *values]
            for r, note, fix, *values in joined.select("__row", "note", "fix", *item.codes).iter_rows()]
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
    _table(wb, "问题数据清单", ["报送文件", "接收时间", "问题说明", "修改要求"],
           [[source_name, received_at, message_zh, BATCH_FIX_ZH]], 0, {2})
    _how_to(wb)
    wb.close()
    return buf.getvalue()


def _how_to(wb) -> None:
    ws = wb.add_worksheet("说明")
    title = wb.add_format({"bold": True, "font_size": 14})
    text = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.set_column(0, 0, 110)
    ws.write_string(0, 0, HOW_TO_ZH[0], title)
    for i, line in enumerate(HOW_TO_ZH[1:], 2):
        ws.write_string(i, 0, line, text)
