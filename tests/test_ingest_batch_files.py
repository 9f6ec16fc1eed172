"""Batch files through the inbox: landed once, gated, loaded, their rejections ledgered; odd names, replaced
and large files; the staged zone as hand-over. Module fixtures `env`/`dags` (conftest) start from empty zones."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime

import openpyxl
import polars as pl
import psycopg

from credit_platform import object_store
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import run_dag
from credit_platform.ingest import channels, landing_load
from tests.ingest_support import TODAY, ledger, penalty_csv, q


def test_batch_file_lands_gates_loads_and_feeds_back(env, dags, tmp_path):
    s = env
    data = penalty_csv(tmp_path, seed=1)
    src.drop_in_inbox(s, "ln_hurd", "administrative_penalty", "处罚信息.csv", data)
    run = run_dag(dags["ingest__ln_hurd"])
    assert run.state == "success"

    [(bid, channel, rows, accepted, rejected, status, _)] = ledger(s, "ln_hurd")
    assert channel == "batch_file" and rows == 120 and rows == accepted + rejected and rejected > 0
    assert status == "partially_rejected"
    c = object_store.client(s)
    raw = [o.object_name for o in c.list_objects(s.bucket("raw"), prefix="administrative_penalty/ln_hurd/",
                                                 recursive=True) if bid in o.object_name]
    assert sorted(raw) == [f"administrative_penalty/ln_hurd/dt={TODAY}/{bid}.csv",
                           f"administrative_penalty/ln_hurd/dt={TODAY}/{bid}.manifest.json"]
    manifest = json.loads(object_store.get(c, s.bucket("raw"), raw[1]))
    assert manifest["bytes"] == len(data) and manifest["channel"] == "batch_file"
    assert q(s, "select count(*) from landing.administrative_penalty where batch_id = %s", bid)[0][0] == accepted
    assert q(s, "select count(distinct row_no) from landing.rejections where batch_id = %s", bid)[0][0] == rejected
    assert list(c.list_objects(s.bucket("inbox"), prefix="ln_hurd/", recursive=True)) == []

    fb = [o.object_name for o in c.list_objects(s.bucket("feedback"), prefix="ln_hurd/", recursive=True)]
    assert len(fb) == 1 and fb[0].endswith("问题数据清单.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(object_store.get(c, s.bucket("feedback"), fb[0])))
    assert wb.sheetnames == ["待修改记录", "问题数据清单", "说明"]
    assert [c.value for c in wb["问题数据清单"][1]] == ["记录编号", "原文件行号", "字段", "原值", "问题说明", "修改要求"]
    # duplicates need no correction: they are not among the records to correct
    dups = q(s, "select count(distinct row_no) from landing.rejections where batch_id = %s"
                " and resolution = 'duplicate'", bid)[0][0]
    assert wb["待修改记录"].max_row == rejected - dups + 1

    notices = [json.loads(p.read_text()) for p in s.outbox_dir.glob("*ln_hurd*.json")]
    assert any(bid in n["body"] and "问题数据清单" in n["body"] for n in notices)

    # rerunning the DAG for the same interval changes nothing
    before = q(s, "select count(*) from landing.administrative_penalty")[0][0]
    assert run_dag(dags["ingest__ln_hurd"]).state == "success"
    assert ledger(s, "ln_hurd") == [(bid, channel, rows, accepted, rejected, status, None)]
    assert q(s, "select count(*) from landing.administrative_penalty")[0][0] == before


def test_same_file_dropped_twice_is_one_batch(env, dags, tmp_path):
    s = env
    data = penalty_csv(tmp_path, seed=2, unit_name="辽宁省生态环境厅")
    src.drop_in_inbox(s, "ln_ecology", "administrative_penalty", "a.csv", data)
    assert run_dag(dags["ingest__ln_ecology"]).state == "success"
    src.drop_in_inbox(s, "ln_ecology", "administrative_penalty", "a-again.csv", data)
    assert run_dag(dags["ingest__ln_ecology"]).state == "success"
    assert len(ledger(s, "ln_ecology")) == 1
    c = object_store.client(s)
    assert list(c.list_objects(s.bucket("inbox"), prefix="ln_ecology/", recursive=True)) == []


def test_open_rejections_carry_their_age_in_working_days(env):
    from credit_platform.catalog.workdays import working_days_between

    s = env
    with psycopg.connect(s.pg_dsn()) as conn:
        open_now = conn.execute("select count(*) from landing.open_rejections").fetchone()[0]
        total_open = conn.execute("select count(*) from landing.rejections where corrected_by_batch is null"
                                  ).fetchone()[0]
        assert open_now == total_open > 0
        # age one rejected record as if it had been received before the National Day holiday
        row = conn.execute("select batch_id, row_no, field_code from landing.rejections where unit_code = 'ln_hurd'"
                           " and corrected_by_batch is null limit 1").fetchone()
        conn.execute("update landing.rejections set received_at = '2026-09-29 10:00+08' where batch_id = %s"
                     " and row_no = %s and field_code = %s", row)
        age = conn.execute("select age_working_days from landing.open_rejections where batch_id = %s and row_no = %s"
                           " and field_code = %s", row).fetchone()[0]
        conn.rollback()
    assert age == working_days_between(date(2026, 9, 29), TODAY)
    assert age < (TODAY - date(2026, 9, 29)).days * 5 // 7  # holidays are not working days


def test_a_file_outside_an_item_folder_is_set_aside_and_the_unit_told(env, dags):
    s = env
    src.drop_in_inbox(s, "ln_forest", "no_such_item", "x.csv", b"a,b\n1,2\n")
    c = object_store.client(s)
    c.put_object(s.bucket("inbox"), "ln_forest/loose.csv", io.BytesIO(b"a\n1\n"), 4)
    assert run_dag(dags["ingest__ln_forest"]).state == "success"
    assert list(c.list_objects(s.bucket("inbox"), prefix="ln_forest/", recursive=True)) == []
    aside = sorted(o.object_name for o in c.list_objects(s.bucket("quarantine"), prefix="unassigned/ln_forest/",
                                                          recursive=True))
    assert aside == ["unassigned/ln_forest/loose.csv", "unassigned/ln_forest/no_such_item/x.csv"]
    assert object_store.get(c, s.bucket("quarantine"), aside[1]) == b"a,b\n1,2\n"
    told = [json.loads(p.read_text()) for p in s.outbox_dir.glob("*ln_forest*.json")]
    assert any("no_such_item/x.csv" in n["body"] for n in told)
    assert ledger(s, "ln_forest") == []


def test_odd_file_names_in_the_inbox_are_gated_by_content(env, dags, tmp_path):
    s = env
    c = object_store.client(s)
    names = ["处罚.C$V", "noext", "x." + "a" * 40]
    for seed, name in enumerate(names, start=91):
        src.drop_in_inbox(s, "ln_smsa", "administrative_penalty", name,
                          penalty_csv(tmp_path, rows=20, seed=seed, defect_rate=0.0, unit_name="辽宁省药品监督管理局"))
    assert run_dag(dags["ingest__ln_smsa"]).state == "success"
    rows = ledger(s, "ln_smsa")
    assert len(rows) == 3 and {r[5] for r in rows} == {"loaded"} and sum(r[3] for r in rows) == 60
    raw = [o.object_name for o in c.list_objects(s.bucket("raw"), prefix="administrative_penalty/ln_smsa/",
                                                 recursive=True) if not o.object_name.endswith(".json")]
    assert len(raw) == 3 and all(k.endswith(".bin") for k in raw)
    assert list(c.list_objects(s.bucket("inbox"), prefix="ln_smsa/", recursive=True)) == []


def test_file_extension_is_short_and_plain():
    from credit_platform.ingest.channels import file_extension

    assert [file_extension(n) for n in ["a.CSV", "b.xlsx ", "c", "d.", "e.c$v", "f." + "x" * 11, "g.tar.gz"]] == [
        "csv", "xlsx", "bin", "bin", "bin", "bin", "gz"]


def test_a_file_replaced_in_the_inbox_during_a_run_is_kept_for_the_next(env, tmp_path):
    s = env
    from credit_platform.catalog.registry import registry

    unit = registry().unit("ln_tobacco")
    c = object_store.client(s)
    first = penalty_csv(tmp_path, rows=10, seed=95, defect_rate=0.0)
    src.drop_in_inbox(s, "ln_tobacco", "administrative_penalty", "报表.csv", first)
    [extracted] = channels.extract_batch_files(s, unit)
    second = penalty_csv(tmp_path, rows=12, seed=96, defect_rate=0.0)  # the clerk re-uploads a corrected file
    key = src.drop_in_inbox(s, "ln_tobacco", "administrative_penalty", "报表.csv", second)
    channels.confirm(s, "ln_tobacco", extracted.as_xcom(), "batch-of-the-first")
    assert object_store.get(c, s.bucket("inbox"), key) == second, "the replacement must wait for the next run"
    [again] = channels.extract_batch_files(s, unit)
    assert again.data == second
    channels.confirm(s, "ln_tobacco", again.as_xcom(), "batch-of-the-second")
    assert list(c.list_objects(s.bucket("inbox"), prefix="ln_tobacco/", recursive=True)) == []
    channels.confirm(s, "ln_tobacco", again.as_xcom(), "batch-of-the-second")  # a retried confirm: no error


def test_the_inbox_is_landed_one_file_at_a_time(env):
    import tracemalloc

    from credit_platform.ingest.pipeline import extract_and_land

    s = env
    size, files = 4 << 20, 6
    run = uuid.uuid4().hex.encode()  # new content every time: landing a batch for the first time costs most
    for i in range(files):
        src.drop_in_inbox(s, "ln_tobacco", "administrative_license", f"big{i}.csv",
                          (run + bytes([48 + i]) * size)[:size])
    tracemalloc.start()
    try:
        landed = extract_and_land(s, "ln_tobacco", "batch_file")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(landed) == files
    assert peak < 2.5 * size, f"peak {peak / size:.1f}× one file: files held together or kept alive"
    c = object_store.client(s)
    for obj in c.list_objects(s.bucket("inbox"), prefix="ln_tobacco/", recursive=True):
        c.remove_object(s.bucket("inbox"), obj.object_name)


def test_same_bytes_on_a_later_day_are_the_first_batch(env, tmp_path):
    from credit_platform.ingest import raw_zone

    s = env
    data = f"content never landed before {uuid.uuid4()}".encode()  # the raw zone is not emptied between runs
    first = raw_zone.land(s, "ln_sci", "administrative_penalty", "batch_file", data, "csv", "day 1",
                          datetime(2026, 11, 2, 9, tzinfo=UTC))
    again = raw_zone.land(s, "ln_sci", "administrative_penalty", "api", data, "csv", "day 9",
                          datetime(2026, 11, 9, 9, tzinfo=UTC))
    assert first.created and not again.created
    assert again.raw_key == first.raw_key and again.received_at == first.received_at and again.source_ref == "day 1"
    c = object_store.client(s)
    assert not list(c.list_objects(s.bucket("raw"), prefix="administrative_penalty/ln_sci/dt=2026-11-09/"))


def test_a_large_batch_is_gated_from_disk_with_the_same_outcome(env, tmp_path, monkeypatch):
    from credit_platform.ingest import raw_zone, staged_zone

    s = env
    b = raw_zone.land(s, "ln_sci", "administrative_penalty", "batch_file", penalty_csv(tmp_path, rows=80, seed=73),
                      "csv", "test", datetime.now(UTC))
    in_memory = staged_zone.gate_and_stage(s, b)
    monkeypatch.setattr(staged_zone, "IN_MEMORY_MAX", 0)
    from_disk = staged_zone.gate_and_stage(s, b)
    assert (from_disk.rows, from_disk.accepted, from_disk.rejected) == (
        in_memory.rows, in_memory.accepted, in_memory.rejected) and in_memory.rejected > 0
    assert from_disk.rejections.equals(in_memory.rejections)
    assert pl.concat(from_disk.staged_frames).equals(pl.concat(in_memory.staged_frames))


def test_load_reads_the_staged_zone_when_gate_ran_elsewhere(env, tmp_path):
    from credit_platform.ingest import raw_zone
    from credit_platform.ingest.staged_zone import gate_and_stage

    s = env
    b = raw_zone.land(s, "ln_sci", "administrative_penalty", "batch_file", penalty_csv(tmp_path, rows=50, seed=61),
                      "csv", "test", datetime.now(UTC))
    out = gate_and_stage(s, b)
    out.staged_frames = []  # as if the gate had run in another task: only the staged Parquet is left
    assert landing_load.load(s, out) == "loaded"
    assert q(s, "select count(*) from landing.administrative_penalty where batch_id = %s", b.batch_id) == [
        (out.accepted,)]
    assert landing_load.load(s, out) == "already_loaded"
