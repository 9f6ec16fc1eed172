"""Chinese messages a source unit's clerk can act on: field, value (ID numbers masked), what is expected."""

from __future__ import annotations

import re
from datetime import date

from credit_platform.catalog.items import Catalog, FieldSpec, Item
from credit_platform.standards.identifiers import ID_RE, resident_id_birth_date_ok
from credit_platform.standards.pii import mask_id, redact_ids

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ID_KIND_ZH = {"uscc": "18位统一社会信用代码", "resident_id": "18位居民身份证号码", "org_code": "9位组织机构代码"}

BATCH_MESSAGES_ZH = {
    "unreadable_file": "文件无法读取（{detail}）。请重新导出为CSV或XLSX文件后上报。",
    "unsupported_format": "不支持的文件格式（{detail}）。请使用CSV（UTF-8或GBK编码）或XLSX格式。",
    "undecodable_text": "文件编码无法识别（{detail}）。请另存为UTF-8或GBK编码的CSV文件。",
    "empty_file": "文件为空（{detail}）。请确认导出内容后重新上报。",
    "missing_columns": "缺少必需的列：{detail}。请使用目录规定的表头。",
    "duplicate_columns": "表头中有重复的列：{detail}。无法判断应采用哪一列，请删除或合并重复的列后重新上报。",
    "truncated_file": "文件不完整（{detail}）。文件在一条记录中间结束，可能上传或导出中断，请重新导出完整文件后上报。",
    "too_large": "文件超出单批次处理上限（{detail}）。请拆分为多个文件后分别上报。",
    "load_failed": "数据多次入库失败（{detail}）。本批次已暂存待查，请核对数据中是否含有特殊字符后重新报送。",
}


def display_value(f: FieldSpec | None, value: str | None, limit: int = 40) -> str:
    """The value as shown to people: personal ID numbers masked, control characters removed, truncated."""
    if value is None:
        return ""
    if f is not None and f.personal_id:
        return mask_id(value)
    text = _CONTROL.sub("", value)
    # only what is shown is scanned (an ID number across the cut is within 17 characters of it)
    shown = redact_ids(text[:limit + 17]) if len(text) >= 15 else text
    return shown if len(text) <= limit else f"{shown[:limit]}…（共{len(text)}字）"


def record_message(item: Item, cat: Catalog, field_code: str, reason: str, value: str | None,
                   received_on: date, first_row: int | None = None) -> str:
    if field_code == "*":
        key = "、".join(item.names[k] for k in item.natural_key)
        return (f"与原文件第{first_row}行记录重复（{key}相同）。已按重复报送登记，本行无需修改，"
                f"也不要再次报送。")
    f = item.field(field_code)
    name, shown = f.name, display_value(f, value)
    if reason == "invalid_character":
        return f"「{name}」含有无法存储的不可见字符（如NUL空字符）。请删除该字段中的特殊字符后重新报送。"
    if reason == "required_missing":
        when = f"（{f.required_when.describe_zh(item.names)}时必填）" if not f.required and f.required_when else ""
        return f"「{name}」为必填项{when}，当前为空。请补充{name}。"
    if reason == "must_be_empty":
        when = f.must_be_empty_when.describe_zh(item.names) if f.must_be_empty_when else ""
        return f"「{name}」应为空（{when}），当前填写了“{shown}”。请删除该值。"
    if reason == "too_long":
        return f"「{name}」长度为{len(value or '')}个字符，超过上限{f.max_length}个字符。请精简后重新报送。"
    # a personal ID is shown masked: kept as shown, a returned workbook restores the very number that failed
    retype = "号码以打码形式显示，请填写完整的正确号码。" if f.personal_id else ""
    if reason == "invalid_format":
        if (f.identifier == "resident_id" and value and ID_RE.match(value.upper())
                and not resident_id_birth_date_ok(value)):
            return f"「{name}」“{shown}”中的出生日期（第7–14位）不是真实日期。请核对证件号码是否抄录有误。{retype}"
        if f.identifier and not f.pattern:
            return f"「{name}」“{shown}”格式不正确，应为{ID_KIND_ZH[f.identifier]}（字母大写，不含空格）。{retype}"
        return f"「{name}」“{shown}”格式不正确，应为{f.pattern_zh or f.pattern}。{retype}"
    if reason == "invalid_checksum":
        return (f"「{name}」“{shown}”校验位错误，不是有效的{ID_KIND_ZH[f.identifier]}。请核对是否抄录有误。"
                f"{retype}")
    if reason == "invalid_date":
        return f"「{name}」“{shown}”不是有效日期。请填写真实存在的日期，格式为YYYY-MM-DD、YYYY/MM/DD或YYYYMMDD。"
    if reason == "future_date":
        return f"「{name}」“{shown}”晚于报送日期{received_on.isoformat()}。请核对日期是否填写错误。"
    if reason == "date_order":
        other = item.names.get(f.not_before or "", "")
        return f"「{name}」“{shown}”早于「{other}」。{name}不能早于{other}，请核对。"
    if reason == "invalid_number":
        unit = "万元" if "万元" in name else "元" if "元" in name else ""
        extra = "，处罚类别含罚款时须大于0" if f.positive_when else ""
        return f"「{name}」“{shown}”不是有效金额。应填写不小于0的数字{f'（单位：{unit}）' if unit else ''}{extra}。"
    if reason == "not_in_code_list":
        cl = cat.code_lists[f.code_list]
        allowed = "、".join(cl.values[:8]) + ("等" if len(cl.values) > 8 else "")
        other = f"，或以“{cl.other_prefix}”开头注明" if cl.other_prefix else ""
        multi = "（多个值用分号分隔）" if f.type == "multicode" else ""
        return f"「{name}」取值“{shown}”不在代码表中。可选值：{allowed}{other}{multi}。"
    raise ValueError(f"no message for reason {reason!r}")


def batch_message(reason: str, detail: str) -> str:
    return BATCH_MESSAGES_ZH[reason].format(detail=detail)
