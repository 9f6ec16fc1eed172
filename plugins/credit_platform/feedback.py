"""The feedback workbook (问题数据清单.xlsx) a source unit gets back for each batch with problems.

Sheet 1 "待修改记录" holds the rejected records under the catalog's Chinese headers (ID numbers masked), so a
clerk can correct them and send the workbook back as a new batch (gate 0 reads the first sheet; the extra
问题说明 column is ignored with a warning). Sheet 2 "问题数据清单" lists 行号, 字段, 原值, 问题说明, 修改要求.
Every cell is written as text: a value such as `=cmd|…` stays data, never a formula.
"""

from __future__ import annotations

import io

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from credit_platform.catalog import Item

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
    "duplicate_in_batch": "删除重复记录",
}
BATCH_FIX_ZH = "请按提示修正整个文件后重新上报"


def _text_row(ws, values) -> list:
    row = []
    for v in values:
        cell = WriteOnlyCell(ws, value=None if v is None else str(v))
        if v is not None:
            cell.data_type = "s"  # never a formula, whatever the text starts with
        row.append(cell)
    return row


def workbook(item: Item, records: pl.DataFrame, problems: pl.DataFrame) -> bytes:
    """records: ROW + display values of the rejected records; problems: row, field, value, reason, message_zh."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("待修改记录")
    ws.append(_text_row(ws, [f.name for f in item.fields] + ["原行号", "问题说明"]))
    notes = (problems.group_by("row", maintain_order=True)
             .agg(pl.col("message_zh").str.join("；").alias("note")) if problems.height else
             pl.DataFrame(schema={"row": pl.Int64, "note": pl.Utf8}))
    joined = records.join(notes, left_on="__row", right_on="row", how="left").sort("__row")
    for rec in joined.iter_rows(named=True):
        ws.append(_text_row(ws, [rec.get(f.code) for f in item.fields] + [rec["__row"], rec.get("note")]))
    ws2 = wb.create_sheet("问题数据清单")
    ws2.append(_text_row(ws2, ["行号", "字段", "原值", "问题说明", "修改要求"]))
    for p in problems.iter_rows(named=True):
        field = "整条记录" if p["field"] == "*" else f"{item.names.get(p['field'], p['field'])}（{p['field']}）"
        ws2.append(_text_row(ws2, [p["row"], field, p.get("value"), p["message_zh"], FIX_ZH[p["reason"]]]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def batch_error_workbook(reason: str, message_zh: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题数据清单")
    ws.append(_text_row(ws, ["行号", "字段", "原值", "问题说明", "修改要求"]))
    ws.append(_text_row(ws, ["整个文件", "*", reason, message_zh, BATCH_FIX_ZH]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
