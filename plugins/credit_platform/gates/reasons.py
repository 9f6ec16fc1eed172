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
# A value the database cannot store (NUL; what a JSON `\u0000` or a lone surrogate becomes): the record is
# refused by itself, before anything else about it, instead of failing the whole batch's COPY. Not among the
# generator's plantable reasons (a CSV writer cannot carry it reliably); tests/test_gate_hardening.py plants it.
INVALID_CHARACTER = "invalid_character"
PRIORITY = {r: i for i, r in enumerate((INVALID_CHARACTER, *RECORD_REASONS))}

# What to change, column 修改要求 of the feedback workbook.
FIX_ZH = {
    INVALID_CHARACTER: "删除不可见的特殊字符",
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
# duplicate_columns, truncated_file, too_large (a limit of gates/limits.py): gate 0; load_failed: the loader,
# after its tries, for a batch the database keeps refusing (ingest.pipeline.load_or_quarantine)
BATCH_REASONS = ("unreadable_file", "unsupported_format", "undecodable_text", "empty_file", "missing_columns",
                 "duplicate_columns", "truncated_file", "too_large", "load_failed")
BATCH_FIX_ZH = "请按提示修正整个文件后重新上报"
