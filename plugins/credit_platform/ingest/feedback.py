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
from credit_platform.gates.reasons import BATCH_FIX_ZH, FIX_ZH
from credit_platform.gates.structure import ROW


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
    """records: ROW + display values of the rejected records; problems: row, field, value, reason, message_zh."""
    wb, buf = _new_workbook()
    notes = (problems.group_by("row", maintain_order=True)
             .agg(pl.col("message_zh").str.join("；").alias("note")) if problems.height else
             pl.DataFrame(schema={"row": pl.Int64, "note": pl.Utf8}))
    joined = records.join(notes, left_on=ROW, right_on="row", how="left").sort(ROW)
    sheet = wb.add_worksheet("待修改记录")
    header = [f.name for f in item.fields] + ["原行号", "问题说明"]
    body = joined.select([*item.codes, ROW, "note"]).iter_rows()
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
