"""The source unit's feedback loop through the real ingest DAGs: every correction closes its rejection (by
记录编号 whatever changed, else by natural key; one for one), natural persons' records round-trip with their
masked ID, duplicates are recorded not open, notices say which file and are delivered once."""

from __future__ import annotations

import csv
import hmac
import io
import json
import re
import threading
import urllib.request
from datetime import timedelta

import openpyxl
import polars as pl
import psycopg
import pytest

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import registry
from credit_platform.catalog.workdays import previous_workday
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import load_dag_module, run_dag
from credit_platform.dev.generator import GenSpec, generate_rows
from credit_platform.ingest import landing_load
from credit_platform.standards.pii import mask_id
from tests.test_delivery import Endpoint, free_port

TODAY = clock.today()
ITEM = catalog().item("administrative_penalty")
NAMES = ITEM.names


@pytest.fixture(scope="module")
def env(airflow_db):
    s = airflow_db
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("drop schema if exists online_fill cascade")
        conn.execute("drop schema if exists ops cascade")
    clear_zones(s)
    landing_load.ensure_schema(s)
    yield s
    clear_zones(s)  # the units used here are used by other modules too: leave them no landed batch


def clear_zones(s) -> None:
    c = object_store.client(s)
    for zone in ("inbox", "raw", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)


@pytest.fixture(scope="module")
def dags():
    mod = load_dag_module("ingest_units")
    return {d.dag_id: d for d in (mod.build(u) for u in mod.registry().units.values())}


def q(s, sql, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def records(unit: str, n: int, seed: int, prefix: str, person: bool | None = None) -> list[dict]:
    u = registry().unit(unit)
    spec = GenSpec("administrative_penalty", n * 4 if person is not None else n, seed=seed, defect_rate=0.0,
                   received_on=TODAY, unit_name=u.name_zh, seq_prefix=prefix)
    out = [r for r, _ in generate_rows(spec)]
    if person is not None:
        out = [r for r in out if (r.get("CF_XDR_LB") == "自然人") == person]
    assert len(out) >= n
    return out[:n]


def csv_bytes(recs: list[dict]) -> bytes:
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\r\n")
    w.writerow([f.name for f in ITEM.fields])
    for r in recs:
        w.writerow([r.get(c) or "" for c in ITEM.codes])
    return text.getvalue().encode("utf-8-sig")


def batches(s, unit):
    return q(s, "select batch_id, rows, accepted, rejected, status from landing.batches where unit_code = %s"
                " order by loaded_at", unit)


def workbook(s, unit, batch_id) -> openpyxl.Workbook:
    c = object_store.client(s)
    [key] = [o.object_name for o in c.list_objects(s.bucket("feedback"), prefix=f"{unit}/", recursive=True)
             if batch_id in o.object_name]
    return openpyxl.load_workbook(io.BytesIO(object_store.get(c, s.bucket("feedback"), key)))


def sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)]


def edit_and_return(s, unit, wb, edits: dict[str, dict[str, str]], name: str) -> None:
    """The clerk edits cells of 待修改记录 (by 记录编号 → {header: value}) and sends the workbook back as is."""
    ws = wb["待修改记录"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        ref = row[0].value
        for col, value in edits.get(ref, {}).items():
            row[header.index(col)].value = value
    buf = io.BytesIO()
    wb.save(buf)
    src.drop_in_inbox(s, unit, "administrative_penalty", name, buf.getvalue())


def rejection_state(s, batch_id):
    return q(s, "select row_no, field_code, reason, corrected_by_batch, corrected_by_row, resolution"
                " from landing.rejections where batch_id = %s order by row_no, field_code", batch_id)


def new_notices(s, before: set, batch_id: str) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(set(s.outbox_dir.glob("*.json")) - before)
            if batch_id in p.read_text(encoding="utf-8")]


def outbox(s) -> set:
    return set(s.outbox_dir.glob("*.json")) if s.outbox_dir.exists() else set()


def test_key_field_correction_closes_its_rejection_by_reference(env, dags):
    s, unit = env, "shenyang_amr"
    recs = records(unit, 3, seed=11, prefix="K")
    future = (TODAY + timedelta(days=30)).isoformat()
    recs[1]["CF_JDRQ"] = future  # a key field: the corrected record has another natural key
    before = outbox(s)
    src.drop_in_inbox(s, unit, "administrative_penalty", "处罚信息-11月.csv", csv_bytes(recs))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(first, rows, accepted, rejected, _)] = batches(s, unit)
    assert (rows, accepted, rejected) == (3, 2, 1)
    assert ("CF_JDRQ", "future_date") in {(f, r) for _, f, r, *_ in rejection_state(s, first)}

    # the notice says which file, when, how many, the link and until when it works
    [notice] = new_notices(s, before, first)
    assert "处罚信息-11月.csv" in notice["title"] + notice["body"]
    assert "共3条" in notice["body"] and "已入库2条" in notice["body"] and "有效期至" in notice["body"]
    assert q(s, "select status, attempts from ops.notices where key = %s", f"feedback:{first}") == [("sent", 1)]

    wb = workbook(s, unit, first)
    ws = wb["待修改记录"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["记录编号", "原文件行号", "问题说明", "修改要求"] and header[4:] == [f.name for f in ITEM.fields]
    [row] = sheet_rows(ws)
    assert row["原文件行号"] == "3" and row["记录编号"] == f"{first[:12]}-2"  # record 2 is Excel's row 3
    assert "处罚决定日期" in row["问题说明"] and row[NAMES["CF_JDRQ"]] == future
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref and ws.column_dimensions["C"].width > 20
    # every column is text, its empty cells too: a date or ID number a clerk types in stays as typed
    assert {ws.column_dimensions[c].number_format for c in ("A", "E", "Z")} == {"@"}
    assert wb.sheetnames == ["待修改记录", "问题数据清单", "说明"] and any(
        "记录编号" in (c.value or "") for c in wb["说明"]["A"])

    fixed = previous_workday(TODAY - timedelta(days=1)).isoformat()
    before = outbox(s)
    edit_and_return(s, unit, wb, {row["记录编号"]: {NAMES["CF_JDRQ"]: fixed}}, "问题数据清单-已修改.xlsx")
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [_, (second, rows, accepted, rejected, status)] = batches(s, unit)
    assert (rows, accepted, rejected, status) == (1, 1, 0, "loaded")  # the feedback columns were ignored
    assert {(c, r, res) for *_, c, r, res in rejection_state(s, first)} == {(second, 1, "corrected")}
    # the clerk hears that the correction went through (a batch without problems gets no notice otherwise)
    [confirmed] = new_notices(s, before, second)
    assert "共1条，已全部入库" in confirmed["body"] and "其中1条是此前问题数据的更正" in confirmed["body"]
    assert q(s, "select cf_jdrq::text from landing.administrative_penalty where batch_id = %s", second) == [(fixed,)]


def test_a_natural_persons_record_round_trips_with_its_masked_id(env, dags):
    s, unit = env, "dalian_amr"
    recs = records(unit, 2, seed=12, prefix="P", person=True)
    clear = [r["CF_XDR_ZJHM"] for r in recs]
    for r in recs:
        r["CF_YXQ"] = "2026-02-30"  # not a date: the record is rejected, its ID number is fine
    src.drop_in_inbox(s, unit, "administrative_penalty", "自然人处罚.csv", csv_bytes(recs))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(first, _, _, rejected, _)] = batches(s, unit)
    assert rejected == 2
    wb = workbook(s, unit, first)
    rows = sheet_rows(wb["待修改记录"])
    shown = [r[NAMES["CF_XDR_ZJHM"]] for r in rows]
    assert shown == [mask_id(v) for v in clear]  # masked, never clear, in the workbook
    c = object_store.client(s)
    key = next(o.object_name for o in c.list_objects(s.bucket("feedback"), prefix=f"{unit}/", recursive=True))
    raw = object_store.get(c, s.bucket("feedback"), key)
    assert not any(v.encode() in raw for v in clear)
    for obj in c.list_objects(s.bucket("quarantine"), prefix=f"administrative_penalty/{unit}/", recursive=True):
        body = object_store.get(c, s.bucket("quarantine"), obj.object_name)
        text = pl.read_parquet(io.BytesIO(body)).write_csv() if obj.object_name.endswith(".parquet") else str(body)
        assert not any(v in text for v in clear), obj.object_name  # clear only in the raw zone

    # row 1: the clerk fixes the date only (the masked ID stays); row 2: also retypes a wrong ID number
    wrong = clear[1][:-1] + ("0" if clear[1][-1] != "0" else "1")
    edit_and_return(s, unit, wb, {rows[0]["记录编号"]: {NAMES["CF_YXQ"]: "2099-12-31"},
                                  rows[1]["记录编号"]: {NAMES["CF_YXQ"]: "2099-12-31", NAMES["CF_XDR_ZJHM"]: wrong}},
                    "自然人处罚-已修改.xlsx")
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [_, (second, rows_n, accepted, rejected, _)] = batches(s, unit)
    assert (rows_n, accepted, rejected) == (2, 1, 1)
    # the original ID was restored: the loaded record carries the keyed hash of the clear number
    digest = hmac.digest(s.id_hash_key.encode(), clear[0].encode(), "sha256").hex()
    assert q(s, "select cf_xdr_zjhm_hash, cf_xdr_zjhm_masked from landing.administrative_penalty"
                " where batch_id = %s", second) == [(digest, mask_id(clear[0]))]
    # the retyped number is validated as typed: rejected on its check digit, the old record handed over
    assert q(s, "select row_no, field_code, reason from landing.rejections where batch_id = %s", second) == [
        (2, "CF_XDR_ZJHM", "invalid_checksum")]
    assert {(r, c, cr, res) for r, _, _, c, cr, res in rejection_state(s, first)} == {
        (1, second, 1, "corrected"), (2, second, 2, "resubmitted")}
    assert q(s, "select count(*) from landing.open_rejections where unit_code = %s", unit) == [(1,)]


def test_a_workbook_returned_without_its_reference_column_is_loaded_and_the_unit_is_told(env, dags):
    s, unit = env, "ln_agri"
    recs = records(unit, 2, seed=17, prefix="R", person=False)
    recs[0]["CF_JDRQ"] = (TODAY + timedelta(days=3)).isoformat()  # a future decision date: rejected
    src.drop_in_inbox(s, unit, "administrative_penalty", "处罚.csv", csv_bytes(recs))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(first, *_)] = batches(s, unit)
    wb = workbook(s, unit, first)
    ws = wb["待修改记录"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index(NAMES["CF_JDRQ"]) + 1).value = previous_workday(TODAY).isoformat()
    ws.delete_cols(1)  # the clerk deletes 记录编号
    buf = io.BytesIO()
    wb.save(buf)
    before = outbox(s)
    src.drop_in_inbox(s, unit, "administrative_penalty", "已修改.xlsx", buf.getvalue())
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [_, (second, rows, accepted, *_)] = batches(s, unit)
    assert (rows, accepted) == (1, 1)  # nothing lost: the record loads
    [notice] = new_notices(s, before, second)
    assert "缺少“记录编号”列" in notice["body"] and "保留“记录编号”列" in notice["body"]


def test_natural_key_matching_without_reference_closes_one_record_only(env, dags):
    s, unit = env, "anshan_amr"
    recs = records(unit, 2, seed=13, prefix="N")
    bad = {**recs[0], "CF_YXQ": "2026-02-30"}
    # the same bad record in two different files: two open rejections of one natural key
    for name, extra in (("a.csv", recs[1]), ("b.csv", {**recs[1], "CF_WSH": recs[1]["CF_WSH"] + "-2"})):
        src.drop_in_inbox(s, unit, "administrative_penalty", name, csv_bytes([bad, extra]))
        assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    (a, *_), (b, *_) = batches(s, unit)
    # a fresh file without 记录编号 carrying the corrected record
    src.drop_in_inbox(s, unit, "administrative_penalty", "c.csv", csv_bytes([recs[0]]))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    c = batches(s, unit)[2][0]
    closed = q(s, "select batch_id, corrected_by_row, resolution from landing.rejections where unit_code = %s"
                  " and corrected_by_batch = %s", unit, c)
    assert closed == [(b, 1, "corrected")]  # the most recent one; never two records by one correction
    assert q(s, "select corrected_by_batch from landing.rejections where batch_id = %s", a) == [(None,)]


def test_duplicate_rows_are_recorded_as_duplicates_not_open_problems(env, dags):
    s, unit = env, "ln_tobacco"
    recs = records(unit, 2, seed=14, prefix="D")
    src.drop_in_inbox(s, unit, "administrative_penalty", "重复.csv", csv_bytes([recs[0], recs[1], recs[0]]))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(bid, rows, accepted, rejected, _)] = batches(s, unit)
    assert (rows, accepted, rejected) == (3, 2, 1)
    assert rejection_state(s, bid) == [(3, "*", "duplicate_in_batch", bid, 1, "duplicate")]
    assert q(s, "select count(*) from landing.open_rejections where unit_code = %s", unit) == [(0,)]
    wb = workbook(s, unit, bid)
    assert sheet_rows(wb["待修改记录"]) == []  # nothing to correct, nothing to send back
    [problem] = sheet_rows(wb["问题数据清单"])
    assert problem["原文件行号"] == "4" and "原文件第2行" in problem["问题说明"] and "无需" in problem["修改要求"]


def test_a_corrupt_upload_is_told_in_plain_chinese_with_its_file_name(env, dags):
    s, unit = env, "ln_coal_safety"
    before = outbox(s)
    src.drop_in_inbox(s, unit, "administrative_penalty", "处罚-导出失败.xlsx", b"PK\x03\x04" + b"\x00" * 64)
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(bid, *_)] = batches(s, unit)
    [notice] = new_notices(s, before, bid)
    text = notice["title"] + notice["body"]
    assert "处罚-导出失败.xlsx" in text and "未能读取" in text and "有效期至" in text
    assert not any(w in text for w in ("BadZipFile", "unreadable_file", "Error", "Exception"))
    wb = workbook(s, unit, bid)
    [row] = sheet_rows(wb["问题数据清单"])
    assert "处罚-导出失败.xlsx" in row["报送数据"] and "unreadable" not in json.dumps(row, ensure_ascii=False)
    assert "Zip" not in row["问题说明"]
    # nothing in it to correct: its 说明 says to resend the batch, not to edit a sheet it does not have
    assert wb.sheetnames == ["问题数据清单", "说明"]
    how_to = "".join(str(c.value or "") for r in wb["说明"].iter_rows() for c in r)
    assert "重新报送整批数据" in how_to and "无需修改或退回" in how_to and "待修改记录" not in how_to


def test_the_same_bytes_under_three_names_send_one_notice(env, dags):
    s, unit = env, "ln_smsa"
    data = csv_bytes([{**records(unit, 1, seed=15, prefix="T")[0], "CF_YXQ": "2026-02-30"}])
    before = outbox(s)
    for name in ("x.csv", "x (1).csv", "x-副本.csv"):
        src.drop_in_inbox(s, unit, "administrative_penalty", name, data)
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"
    [(bid, *_)] = batches(s, unit)
    assert len(new_notices(s, before, bid)) == 1
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"  # a rerun of the day: nothing written twice
    assert len(new_notices(s, before, bid)) == 1


def test_a_failed_feedback_notice_is_not_sent_until_delivered_and_retried_with_backoff(env, monkeypatch):
    from credit_platform.ingest.pipeline import extract_and_land, ingest_batch

    s, unit = env, "ln_forest"
    port = free_port()
    reg = registry()
    u = reg.unit(unit)
    hook = u.model_copy(update={"contacts": [c.model_copy(update={"url": f"json://127.0.0.1:{port}/notice"})
                                             if c.role == "liaison" else c for c in u.contacts]})
    monkeypatch.setitem(reg.units, unit, hook)
    src.drop_in_inbox(s, unit, "administrative_penalty", "f.csv",
                      csv_bytes([{**records(unit, 1, seed=16, prefix="F")[0], "CF_YXQ": "2026-02-30"}]))
    [landed] = extract_and_land(s, unit, "batch_file")
    bid = landed["batch"]["batch_id"]

    def expire_backoff():
        q(s, "update ops.notices set next_attempt_at = now() - interval '1 second' where key = %s returning 1",
          f"feedback:{bid}")

    first = ingest_batch(s, landed)  # nothing listens: refused
    assert first["feedback_sent"] is False and first["notice"]["status"] == "failed"
    assert q(s, "select feedback_sent_at from landing.batches where batch_id = %s", bid) == [(None,)]
    [(err, nxt)] = q(s, "select last_error, next_attempt_at > now() from ops.notices where key = %s", f"feedback:{bid}")
    assert "connection" in err.lower() and nxt
    with Endpoint(port, [500, 200]) as ep:
        assert ingest_batch(s, landed)["notice"]["attempts"] == 1 and ep.requests == []  # within its backoff
        expire_backoff()
        second = ingest_batch(s, landed)
        assert second["feedback_sent"] is False and second["notice"]["attempts"] == 2 and len(ep.requests) == 1
        expire_backoff()
        third = ingest_batch(s, landed)
        assert third["feedback_sent"] is True and third["notice"] == {
            "key": f"feedback:{bid}", "status": "sent", "attempts": 3, "next_attempt_at": None}
        assert "f.csv" in json.loads(ep.requests[-1])["message"]
        assert ingest_batch(s, landed)["feedback_sent"] is True and len(ep.requests) == 2  # sent once

        # three loads of one new batch racing: one notice
        src.drop_in_inbox(s, unit, "administrative_penalty", "g.csv",
                          csv_bytes([{**records(unit, 1, seed=17, prefix="G")[0], "CF_YXQ": "2026-02-30"}]))
        [race] = extract_and_land(s, unit, "batch_file")
        results: list = []
        threads = [threading.Thread(target=lambda: results.append(ingest_batch(s, race))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 3 and all(r["feedback_sent"] for r in results)
        assert sorted(r["load"] for r in results) == ["already_loaded", "already_loaded", "loaded"]
        assert len(ep.requests) == 3


def test_the_next_run_of_the_units_dag_delivers_a_notice_that_failed(env, dags, monkeypatch):
    s, unit = env, "ln_civil"
    port = free_port()
    reg = registry()
    u = reg.unit(unit)
    hook = u.model_copy(update={"contacts": [c.model_copy(update={"url": f"json://127.0.0.1:{port}/notice"})
                                             if c.role == "liaison" else c for c in u.contacts]})
    monkeypatch.setitem(reg.units, unit, hook)
    src.drop_in_inbox(s, unit, "administrative_penalty", "h.csv",
                      csv_bytes([{**records(unit, 1, seed=18, prefix="H")[0], "CF_YXQ": "2026-02-30"}]))
    assert run_dag(dags[f"ingest__{unit}"]).state == "success"  # nothing listens: the notice fails
    [(bid, *_)] = batches(s, unit)
    assert q(s, "select feedback_sent_at from landing.batches where batch_id = %s", bid) == [(None,)]
    assert q(s, "select status from ops.notices where key = %s", f"feedback:{bid}") == [("failed",)]
    with Endpoint(port, [200]) as ep:
        assert run_dag(dags[f"ingest__{unit}"]).state == "success" and ep.requests == []  # within its backoff
        # ... days pass: the stored notice's link has expired
        [(body,)] = q(s, "select body from ops.notices where key = %s", f"feedback:{bid}")
        old_link, old_until = re.search(r"问题数据清单：(\S+)\n（下载链接有效期至([0-9: -]+)（", body).groups()
        q(s, "update ops.notices set next_attempt_at = now() - interval '1 second',"
             " body = replace(replace(body, %s, 'http://expired.invalid/x'), %s, '2020-01-01 00:00')"
             " where key = %s returning 1", old_link, old_until, f"feedback:{bid}")
        assert run_dag(dags[f"ingest__{unit}"]).state == "success"  # no new batch: the notice goes out
        assert len(ep.requests) == 1
        message = json.loads(ep.requests[0])["message"]
        assert "h.csv" in message and "expired.invalid" not in message and "2020-01-01" not in message
        link = re.search(r"问题数据清单：(\S+)\n", message).group(1)
        with urllib.request.urlopen(link) as resp:  # the renewed link downloads the workbook
            assert resp.status == 200 and resp.read(2) == b"PK"
        assert link in q(s, "select body from ops.notices where key = %s", f"feedback:{bid}")[0][0]  # as sent
        assert run_dag(dags[f"ingest__{unit}"]).state == "success" and len(ep.requests) == 1
    assert q(s, "select feedback_sent_at is not null from landing.batches where batch_id = %s", bid) == [(True,)]
    assert len(batches(s, unit)) == 1
