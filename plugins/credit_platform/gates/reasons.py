"""The reason codes of the gates: one home for each code, its priority and what the unit must do about it.

A record reason's Chinese message is written by `gates.messages.record_message` (it needs the field and value)
and its defect is planted by `dev.generator.Planter`; tests/test_reasons.py ties the four together, so a new
code cannot miss its message, its fix hint, its planter or its check.
"""

from __future__ import annotations

# Record reasons, most basic first: a (row, field) failing several checks reports the first of these.
RECORD_REASONS = (
    "required_missing", "must_be_empty", "too_long", "invalid_format", "invalid_checksum", "invalid_date",
    "invalid_number", "not_in_code_list", "future_date", "date_order", "duplicate_in_batch",
)
PRIORITY = {r: i for i, r in enumerate(RECORD_REASONS)}

# What to change, column 修改要求 of the feedback workbook.
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

# Whole-batch reasons (gate 0); their messages are gates.messages.BATCH_MESSAGES_ZH.
BATCH_REASONS = ("unreadable_file", "unsupported_format", "undecodable_text", "empty_file", "missing_columns")
BATCH_FIX_ZH = "请按提示修正整个文件后重新上报"
