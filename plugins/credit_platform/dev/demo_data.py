"""Demo data for every source unit, fed through each unit's own channel: defects, late records, files in
GBK and XLSX, a corrupt upload, and the same decisions reported by several units (多头报送)."""

from __future__ import annotations

import io
import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import openpyxl

from credit_platform import clock
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import registry
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.generator import GenSpec, generate_rows, late_decision_date
from credit_platform.settings import Settings

ROWS = {"daily": 12, "weekly": 4, "monthly": 2}


@dataclass
class Fed:
    records: int = 0
    planted: int = 0
    late: int = 0
    duplicates: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    late_ids: list[str] = field(default_factory=list)
    planted_ids: set[str] = field(default_factory=set)  # records with a planted defect: their copies fail too
    late_copies: int = 0  # copies of late records sent again by another unit or channel: late there too
    duplicate_groups: dict[str, list[str]] = field(default_factory=dict)  # original record_id → copies


def _records(unit, item: str, n: int, today: date, rng: random.Random, fed: Fed) -> list[dict]:
    cat = catalog()
    it = cat.item(item)
    seed = zlib.crc32(f"{unit.code}/{item}/{today}".encode())
    spec = GenSpec(item, n, seed=seed, defect_rate=0.08, received_on=today, unit_name=unit.name_zh,
                   unit_uscc=unit.uscc, region=unit.region if unit.region != "210000" else "210100",
                   seq_prefix=f"{seed % 100000:05d}")
    out = []
    decision = it.by_role("decision_date")
    for i, (rec, planted) in enumerate(generate_rows(spec, cat)):
        if planted is not None:
            fed.planted += 1
            fed.planted_ids.add(f"{unit.code}-{item}-{today}-{i}")
        # some records are reported late (lateness is measured, not rejected)
        if (planted is None and decision and it.deadline and not decision.not_before and rng.random() < 0.12):
            rec[decision.code] = late_decision_date(today, it.deadline.working_days, rng).isoformat()
            fed.late += 1
            fed.late_ids.append(f"{unit.code}-{item}-{today}-{i}")
        out.append({**rec, "record_id": f"{unit.code}-{item}-{today}-{i}"})
    return out


def _file(records: list[dict], item: str, kind: str) -> tuple[bytes, str]:
    it = catalog().item(item)
    header = [f.name for f in it.fields]
    if kind == "xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(header)
        for r in records:
            ws.append([r.get(c) for c in it.codes])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), "xlsx"
    import csv

    text = io.StringIO()
    w = csv.writer(text, lineterminator="\r\n")
    w.writerow(header)
    for r in records:
        w.writerow([r.get(c) or "" for c in it.codes])
    return text.getvalue().encode("gb18030" if kind == "gbk" else "utf-8-sig"), "csv"


def feed(s: Settings, today: date | None = None, seed: int = 7) -> Fed:
    today = today or clock.today()
    marker = s.home / f"demo-fed-{s.pg_database}-{today.isoformat()}"
    if marker.exists():  # a second `make demo` on the same day re-runs the DAGs on the same input
        return Fed(skipped=True)
    rng = random.Random(seed)
    fed = Fed()
    reg = registry()
    provincial_penalties: list[dict] = []
    for unit in reg.units.values():
        channel = unit.channels[0].channel
        for ob in unit.items:
            recs = _records(unit, ob.item, ROWS[ob.frequency], today, rng, fed)
            if ob.item == "administrative_penalty" and unit.level == "province":
                provincial_penalties += recs[:2]
                if channel != "online_fill" and "online_fill" in unit.channel_names:
                    # a clerk also types one decision into the online form (second channel, same unit)
                    twin = recs[0]
                    _deliver(s, unit.code, "online_fill", ob.item, [twin], rng, today)
                    fed.late_copies += twin["record_id"] in fed.late_ids
                    fed.planted += twin["record_id"] in fed.planted_ids
                    fed.duplicate_groups.setdefault(twin["record_id"], []).append(f"{unit.code}/online_fill")
                    fed.duplicates += 1
                    fed.records += 1  # a record fed like any other: the ledger counts it on its channel
                    fed.by_channel["online_fill"] = fed.by_channel.get("online_fill", 0) + 1
            if unit.code.endswith("_platform") and ob.item == "administrative_penalty" and provincial_penalties:
                # the city platform forwards decisions a provincial unit already reported (多头报送)
                # at most 4 reports of one decision in all (2–4 is what the inspection found)
                pool = [r for r in provincial_penalties if len(fed.duplicate_groups.get(r["record_id"], [])) < 3]
                copies = [{**r, "record_id": f"{unit.code}-copy-{r['record_id']}"}
                          for r in rng.sample(pool, min(3, len(pool)))]
                for cp in copies:
                    original = cp["record_id"].split("-copy-", 1)[1]
                    fed.late_copies += original in fed.late_ids
                    fed.planted += original in fed.planted_ids
                    fed.duplicate_groups.setdefault(original, []).append(f"{unit.code}/{channel}")
                recs += copies
                fed.duplicates += len(copies)
            _deliver(s, unit.code, channel, ob.item, recs, rng, today)
            fed.records += len(recs)
            fed.by_channel[channel] = fed.by_channel.get(channel, 0) + len(recs)
    # one corrupt upload, so the demo shows a whole-batch rejection and its feedback
    src.drop_in_inbox(s, "ln_hurd", "administrative_license", "许可信息-导出失败.xlsx", b"PK\x03\x04" + b"\x00" * 64)
    truth = {"day": today.isoformat(), "records": fed.records, "planted_defects": fed.planted,
             "late_record_ids": fed.late_ids, "duplicate_groups": fed.duplicate_groups,
             # what the ledger must count late (on_time = false): the late records and their copies
             "late_records_loaded": len(fed.late_ids) + fed.late_copies}
    truth_path(s, today).write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    marker.write_text("fed\n")
    return fed


def truth_path(s: Settings, today: date):
    return s.home / f"demo-truth-{s.pg_database}-{today.isoformat()}.json"


def _deliver(s: Settings, unit: str, channel: str, item: str, recs: list[dict], rng: random.Random,
             today: date) -> None:
    if channel == "batch_file":
        data, ext = _file([{k: v for k, v in r.items() if k != "record_id"} for r in recs], item,
                          rng.choice(["utf8", "gbk", "xlsx"]))
        src.drop_in_inbox(s, unit, item, f"{item}-{today:%Y%m%d}.{ext}", data)
    elif channel in ("frontend_db", "api"):
        schema = f"{'fe' if channel == 'frontend_db' else 'api'}_{unit}"
        src.upsert_source_rows(s, schema, item, recs, datetime.now(UTC) - timedelta(minutes=rng.randrange(5, 90)))
    else:
        src.enter_online(s, unit, item, [{k: v for k, v in r.items() if k != "record_id"} for r in recs])
