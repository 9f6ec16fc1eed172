"""Baseline for the contract benchmark: the same catalog rules checked row by row in plain Python.

This is how a straightforward checker is written (csv.DictReader, one dict per record, one rule at a time).
It also serves as an independent second implementation: the benchmark compares its findings with the
vectorised gate's, so a speed figure is never reported for a checker that disagrees.
"""

from __future__ import annotations

import csv
import re
from datetime import date

from credit_platform.catalog.items import Catalog, Condition, Item
from credit_platform.gates.normalize import to_half_width
from credit_platform.gates.reasons import RECORD_REASONS
from credit_platform.gates.structure import header_map
from credit_platform.standards.identifiers import org_code_status, resident_id_status, uscc_status

_PRIO = {r: i for i, r in enumerate(RECORD_REASONS)}
_DATE = [re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), re.compile(r"^(\d{4})(\d{2})(\d{2})$")]
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_TRIM = " \t\r\n\u3000\u00a0\ufeff"
_ID = {"uscc": uscc_status, "resident_id": resident_id_status, "org_code": org_code_status}


def _date(v: str | None) -> date | None:
    if v is None:
        return None
    for p in _DATE:
        m = p.match(v)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _split(v: str, seps: list[str]) -> list[str]:
    seps = [to_half_width(s) for s in seps]
    for s in seps[1:]:
        v = v.replace(s, seps[0])
    return [p.strip() for p in v.split(seps[0])] if seps else [v]


def check_file(path, item: Item, cat: Catalog, received_on: date) -> set[tuple[int, str, str]]:
    out: set[tuple[int, str, str]] = set()
    seen: dict[tuple, int] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        headers = next(reader)
        mapping, _ = header_map(item, headers)
        pos = {code: headers.index(h) for h, code in mapping.items()}
        for n, raw in enumerate(reader, start=1):
            rec: dict[str, str | None] = {}
            for f in item.fields:
                v = raw[pos[f.code]].strip(_TRIM) if f.code in pos and pos[f.code] < len(raw) else ""
                if f.type in ("identifier", "code", "multicode", "date", "decimal"):
                    v = to_half_width(v).strip(_TRIM)
                if f.type == "identifier":
                    v = v.upper()
                rec[f.code] = v or None
            found: dict[str, str] = {}

            def fail(code: str, reason: str, found=found) -> None:
                if code not in found or _PRIO[reason] < _PRIO[found[code]]:
                    found[code] = reason

            def holds(c: Condition | None, rec=rec) -> bool:
                if c is None:
                    return False
                if c.all:
                    return all(holds(s) for s in c.all)
                if c.none_given:
                    return all(rec[x] is None for x in c.none_given)
                v = rec[c.field]
                if v is None:
                    return False
                if c.in_ is not None:
                    return v in c.in_
                if c.not_in is not None:
                    return v not in c.not_in
                fs = item.field(c.field)
                vals = _split(v, cat.code_lists[fs.code_list].separators) if fs.type == "multicode" else [v]
                return any(x in (c.contains_any or []) for x in vals)

            for f in item.fields:
                v = rec[f.code]
                if v is None:
                    if f.required or holds(f.required_when):
                        fail(f.code, "required_missing")
                    continue
                if holds(f.must_be_empty_when):
                    fail(f.code, "must_be_empty")
                if f.max_length and len(v) > f.max_length:
                    fail(f.code, "too_long")
                if f.type == "identifier" and (f.identifier_when is None or holds(f.identifier_when)):
                    status = _ID[f.identifier](v)
                    if status != "ok":
                        fail(f.code, status)
                if f.pattern and not re.search(f.pattern, v):
                    fail(f.code, "invalid_format")
                if f.type == "date":
                    d = _date(v)
                    if d is None:
                        fail(f.code, "invalid_date")
                    else:
                        if f.not_after_received and d > received_on:
                            fail(f.code, "future_date")
                        other = _date(rec[f.not_before]) if f.not_before else None
                        if other and d < other:
                            fail(f.code, "date_order")
                if f.type == "decimal":
                    num = float(v) if _NUM.match(v) else None
                    if num is None or (f.min is not None and num < f.min) or (
                            f.positive_when and holds(f.positive_when) and num <= 0):
                        fail(f.code, "invalid_number")
                if f.type in ("code", "multicode"):
                    cl = cat.code_lists[f.code_list]
                    vals = _split(v, cl.separators) if f.type == "multicode" else [v]
                    pre = cl.other_prefix
                    if not all(x in cl.values or (pre and x.startswith(pre) and len(x) > len(pre)) for x in vals):
                        fail(f.code, "not_in_code_list")
            key = tuple(rec[k] for k in item.natural_key)
            if all(k is not None for k in key):
                if key in seen:
                    found["*"] = "duplicate_in_batch"
                else:
                    seen[key] = n
            out |= {(n, code, reason) for code, reason in found.items()}
    return out
