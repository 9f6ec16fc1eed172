"""The feedback workbook (问题数据清单.xlsx) a source unit gets back for each batch with problems.

Sheet 1 "待修改记录" holds the rejected records under the catalog's Chinese headers (ID numbers masked), so a
clerk can correct them and send the workbook back as a new batch (gate 0 reads the first sheet; the extra
问题说明 column is ignored with a warning). Sheet 2 "问题数据清单" lists 行号, 字段, 原值, 问题说明, 修改要求.
Every cell is written as text: a value such as `=cmd|…` stays data, never a formula.
"""

from __future__ import annotations

import io

import polars as pl
import xlsxwriter

from credit_platform.catalog.items import Item

FIX_ZH = {
    "invalid_character": "删除不可见的特殊字符",
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


def _new_workbook() -> tuple[xlsxwriter.Workbook, io.BytesIO]:
    buf = io.BytesIO()
    # strings stay strings: no formula, URL or number conversion of what a source unit sent
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    return wb, buf


def _write_rows(ws, rows) -> None:
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            if v is not None:
                ws.write_string(r, c, str(v))


def workbook(item: Item, records: pl.DataFrame, problems: pl.DataFrame) -> bytes:
    """records: __row + display values of the rejected records; problems: row, field, value, reason, message_zh."""
    wb, buf = _new_workbook()
    notes = (problems.group_by("row", maintain_order=True)
             .agg(pl.col("message_zh").str.join("；").alias("note")) if problems.height else
             pl.DataFrame(schema={"row": pl.Int64, "note": pl.Utf8}))
    joined = records.join(notes, left_on="__row", right_on="row", how="left").sort("__row")
    sheet = wb.add_worksheet("待修改记录")
    header = [f.name for f in item.fields] + ["原行号", "问题说明"]
    body = joined.select([*item.codes, "__row", "note"]).iter_rows()
    _write_rows(sheet, [header, *body])
    names = item.names
    problem_rows = (
        [r, "整条记录" if f == "*" else f"{names.get(f, f)}（{f}）", v, m, FIX_ZH[reason]]
        for r, f, v, m, reason in problems.select("row", "field", "value", "message_zh", "reason").iter_rows())
    _write_rows(wb.add_worksheet("问题数据清单"), [["行号", "字段", "原值", "问题说明", "修改要求"], *problem_rows])
    wb.close()
    return buf.getvalue()


def batch_error_workbook(reason: str, message_zh: str) -> bytes:
    wb, buf = _new_workbook()
    _write_rows(wb.add_worksheet("问题数据清单"), [["行号", "字段", "原值", "问题说明", "修改要求"],
                                                  ["整个文件", "*", reason, message_zh, BATCH_FIX_ZH]])
    wb.close()
    return buf.getvalue()
