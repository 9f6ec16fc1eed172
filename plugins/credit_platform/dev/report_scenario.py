"""A small, hand-computable history for one city unit (葫芦岛), landed through the real gates and load with chosen
arrival times around National Day 2026 (Oct 1–7 off; Sep 25 Mid-Autumn off; the 调休 Saturday Oct 10 worked).
Used by the report tests (values asserted exactly) and by the demo (a past month with every kind of case).

administrative_penalty (deadline 7 working days from 处罚决定日期; correction window 10 working days):
  B1 Fri Oct 9 10:00   r1 decided Sep 22 → due Oct 9: on time (a weekday count, blind to the holiday, says Oct 1)
                       r2 decided Sep 21 → due Oct 8: late
                       r3, r4 invalid 处罚有效期 → rejected;  r5 = r1 again in the same batch → duplicate row
  B2 Sat Oct 10 10:00  r6 decided Sep 22 → due Fri Oct 9: late (the Saturday is a working day after the deadline)
                       r7 = r3 corrected (window due Oct 22): in window; on time (decided Oct 8 → due Oct 16)
  U  Mon Oct 12        an unreadable upload (counts as 1 received record)
  B5 Tue Oct 20 10:00  r12 invalid 处罚有效期 → rejected; decided Sep 30 → due Oct 15: late (a rejected record with a
                       readable decision date counts in 及时率);  r13 处罚决定日期 "2026-02-30" unreadable → rejected,
                       outside 及时率's denominator
  B3 Fri Oct 30 10:00  r8 = r4 corrected, outside its window (due Oct 22); late (decided Oct 8 → due Oct 16)
                       r9 repeats r1's key (accepted Oct 9): a repeat, late;  r10 invalid → rejected, decided Oct 9
                       → due Oct 19: late
  B4 Tue Nov 3 10:00   r11 = r10 corrected, in its window but after October's cutoff (a later correction)
Rejected records in 及时率: r3, r4 (decided Oct 8, arrived Oct 9) and r5 (= r1) on time; r10, r12 late; r13 out.
October: see EXPECTED_OCTOBER.

gov_dishonest_debtor_case (reported by the provincial court, cases in Huludao):
  G1 Sep 10: A, C 未履行;  G2 Oct 12: A 已履行, B 已和解 (new);  G3 Nov 3: C 已删除.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from credit_platform.catalog.items import catalog
from credit_platform.clock import BEIJING
from credit_platform.dev.generator import GenSpec, generate_rows
from credit_platform.ingest import landing_load, raw_zone
from credit_platform.ingest.staged_zone import gate_and_stage
from credit_platform.settings import Settings

UNIT = "huludao_platform"
COURT = "ln_court"  # reports the government cases (a provincial unit: Huludao's own figures stay the penalties')
CITY = "211400"
PENALTY = "administrative_penalty"
GOV = "gov_dishonest_debtor_case"
AUTHORITY = ("葫芦岛市市场监督管理局", "11210100001755309J")

# hand-computed (see the module docstring); completeness comes from fct_obligations and is not part of it
EXPECTED_OCTOBER = {
    "compliance": (6, 13),    # accepted r1 r2 | r6 r7 | r8 r9 ; received 5 + 2 + 1 (unreadable) + 2 + 3
    "timeliness": (5, 11),    # on time r1, r7 (accepted) r3, r4, r5 (rejected), of the 6 accepted + 5 rejected with
                              # a readable decision date (r3 r4 r5 r10 r12; not r13, nor the unreadable upload)
    "lateness": (6, 11),      # r2, r6, r8, r9, r10, r12: 6/11 > 50 %, flagged
    "correction": (1, 5),     # r3 in window, of r3, r4, r10, r12, r13 (r5 is a duplicate row; r10's fix came after
                              # the cutoff)
    "duplication": (2, 13),   # r5 (same batch, after r1) and r9
}
EXPECTED_GOV_OCTOBER = {"outstanding_start": 2, "new_cases": 1, "resolved": 2, "resolved_performed": 1,
                        "resolved_settled": 1, "resolved_deleted": 0, "outstanding_end": 1}


def _penalty(seq: int, decided: date, **override) -> dict:
    rec = next(iter(generate_rows(GenSpec(PENALTY, 1, seed=seq, defect_rate=0, received_on=date(2026, 9, 20),
                                          unit_name=AUTHORITY[0], unit_uscc=AUTHORITY[1], region=CITY,
                                          seq_prefix=f"HLD{seq}"))))[0]
    rec.update({"CF_WSH": f"葫市监罚〔2026〕{seq:04d}号", "CF_JDRQ": decided.isoformat(), "CF_YXQ": "2030-12-31",
                "CF_GSJZQ": None, "CF_CFJG": AUTHORITY[0], "CF_CFJGDM": AUTHORITY[1]})
    rec.update(override)
    return rec


def _case(no: str, status: str, listed: date, resolved: date | None = None, deleted: date | None = None,
          name: str = "某县人民政府", amount: str = "120.5") -> dict:
    return {"ZFSX_AH": f"（2026）辽14{no}执1号", "ZFSX_ZXFY": "葫芦岛市中级人民法院", "ZFSX_JGMC": name,
            "ZFSX_JGDM": "11210100778838496A", "ZFSX_JGLX": "党政机关", "ZFSX_CJ": "县", "ZFSX_QHDM": "211402",
            "ZFSX_SXQX": "有履行能力而拒不履行生效法律文书确定义务", "ZFSX_QKJE": amount, "ZFSX_ZT": status,
            "ZFSX_LARQ": "2025-12-01",
            "ZFSX_LRRQ": listed.isoformat(), "ZFSX_HJRQ": resolved.isoformat() if resolved else None,
            "ZFSX_SCRQ": deleted.isoformat() if deleted else None, "ZFSX_PC": "第3批", "BZ": None}


def _csv(item_code: str, records: list[dict]) -> bytes:
    item = catalog().item(item_code)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([f.name for f in item.fields])
    for rec in records:
        w.writerow([rec.get(f.code) or "" for f in item.fields])
    return buf.getvalue().encode("utf-8")


def land(s: Settings, item: str, data: bytes, at: datetime, ref: str, ext: str = "csv") -> str:
    """Through the real raw zone, gates and exactly-once load (the channel extraction is not the point here)."""
    b = raw_zone.land(s, COURT if item == GOV else UNIT, item, "api", data, ext, ref, at)
    landing_load.load(s, gate_and_stage(s, b))
    return b.batch_id


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=BEIJING)


def october_batches() -> list[tuple[str, bytes, datetime, str, str]]:
    r1 = _penalty(1, date(2026, 9, 22))
    r2 = _penalty(2, date(2026, 9, 21))
    r3 = _penalty(3, date(2026, 10, 8), CF_YXQ="2026-99-01")
    r4 = _penalty(4, date(2026, 10, 8), CF_YXQ="2026-99-02")
    r6 = _penalty(6, date(2026, 9, 22))
    r10 = _penalty(10, date(2026, 10, 9), CF_YXQ="2026-99-10")
    r12 = _penalty(12, date(2026, 9, 30), CF_YXQ="2026-99-12")
    r13 = _penalty(13, date(2026, 9, 30), CF_JDRQ="2026-02-30")
    # the supplying court misspelt a gov case name with a leading '=': the report must show it as text
    return [
        (PENALTY, _csv(PENALTY, [r1, r2, r3, r4, dict(r1)]), _at(2026, 10, 9), "b1", "csv"),
        (PENALTY, _csv(PENALTY, [r6, {**r3, "CF_YXQ": "2030-12-31"}]), _at(2026, 10, 10), "b2", "csv"),
        (PENALTY, b"\x00\x01 not a spreadsheet \xff\xfe", _at(2026, 10, 12), "u", "xlsx"),
        (PENALTY, _csv(PENALTY, [r12, r13]), _at(2026, 10, 20), "b5", "csv"),
        (PENALTY, _csv(PENALTY, [{**r4, "CF_YXQ": "2030-12-31"}, dict(r1, CF_BZ=None), r10]), _at(2026, 10, 30),
         "b3", "csv"),
        (GOV, _csv(GOV, [_case("01", "未履行", date(2026, 1, 15)), _case("03", "未履行", date(2026, 3, 1),
                                                                      name="=HYPERLINK(\"http://x\")某镇政府")]),
         _at(2026, 9, 10), "g1", "csv"),
        (GOV, _csv(GOV, [_case("01", "已履行", date(2026, 1, 15), resolved=date(2026, 10, 9)),
                         _case("02", "已和解", date(2026, 9, 1), resolved=date(2026, 10, 10))]),
         _at(2026, 10, 12), "g2", "csv"),
    ]


def later_batches() -> list[tuple[str, bytes, datetime, str, str]]:
    """What arrives after October's cutoff: a correction within its window and a case update."""
    r10 = _penalty(10, date(2026, 10, 9))
    return [
        (PENALTY, _csv(PENALTY, [r10]), _at(2026, 11, 3), "b4", "csv"),
        (GOV, _csv(GOV, [_case("03", "已删除", date(2026, 3, 1), resolved=date(2026, 11, 2),
                               deleted=date(2026, 11, 2), name="=HYPERLINK(\"http://x\")某镇政府")]),
         _at(2026, 11, 3), "g3", "csv"),
    ]


def feed(s: Settings, batches: list[tuple[str, bytes, datetime, str, str]]) -> list[str]:
    landing_load.ensure_schema(s)
    return [land(s, item, data, at, ref, ext) for item, data, at, ref, ext in batches]
