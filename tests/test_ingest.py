"""Ingestion through real DAG runs on the real services: every channel lands, gates, loads exactly once."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import openpyxl
import polars as pl
import psycopg
import pytest

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import Obligation
from credit_platform.catalog.workdays import add_working_days, previous_workday
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.generator import GenSpec, generate_rows, write_csv
from credit_platform.ingest import channels, landing_load
from credit_platform.standards.identifiers import resident_id_status
from tests.conftest import load_dag_module, run_dag

TODAY = clock.today()  # the pipeline dates batches in Beijing time, not the host's


@pytest.fixture(scope="module")
def env(airflow_db):
    s = airflow_db
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("drop schema if exists online_fill cascade")
    with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname like 'fe\\_%' or"
                                      " nspname like 'api\\_%'").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
    c = object_store.client(s)
    for zone in ("inbox", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    landing_load.ensure_schema(s)
    server = src.start_api_server(s)
    yield s
    server.shutdown()


@pytest.fixture(scope="module")
def dags():
    mod = load_dag_module("ingest_units")
    return {d.dag_id: d for d in (mod.build(u) for u in mod.registry().units.values())}


def q(s, sql, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def penalty_csv(tmp_path, rows=120, seed=1, defect_rate=0.2, unit_name="辽宁省住房和城乡建设厅", prefix="A"):
    path = tmp_path / f"p{seed}.csv"
    write_csv(GenSpec("administrative_penalty", rows, seed=seed, defect_rate=defect_rate, received_on=TODAY,
                      unit_name=unit_name, seq_prefix=prefix), path)
    return path.read_bytes()


def ledger(s, unit):
    return q(s, "select batch_id, channel, rows, accepted, rejected, status, batch_error_reason"
                " from landing.batches where unit_code = %s order by loaded_at", unit)


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


def test_corrupt_file_is_a_ledgered_rejected_batch_with_feedback(env, dags):
    s = env
    src.drop_in_inbox(s, "ln_transport", "administrative_license", "broken.xlsx", b"PK\x03\x04garbage" * 10)
    assert run_dag(dags["ingest__ln_transport"]).state == "success"
    [(bid, _, rows, accepted, rejected, status, reason)] = ledger(s, "ln_transport")
    assert (rows, accepted, rejected, status, reason) == (0, 0, 0, "rejected", "unreadable_file")
    c = object_store.client(s)
    fb = list(c.list_objects(s.bucket("feedback"), prefix="ln_transport/", recursive=True))
    assert len(fb) == 1
    q_objs = [o.object_name for o in c.list_objects(s.bucket("quarantine"), prefix="administrative_license/ln_transport/",
                                                    recursive=True)]
    assert q_objs == [f"administrative_license/ln_transport/dt={TODAY}/{bid}.batch_error.json"]


def test_corrected_workbook_sent_back_closes_the_rejections(env, dags):
    s = env
    decided = previous_workday(TODAY - timedelta(days=1))
    header = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码"
    good = f"沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,辽卫罚〔2026〕1号,违规,事实,依据,警告,警告,{decided},2099-12-31,辽宁省卫生健康委员会,11230500001755309F,辽宁省卫生健康委员会,11230500001755309F"
    bad = good.replace("辽卫罚〔2026〕1号", "辽卫罚〔2026〕2号").replace("2099-12-31", "2026-02-30")
    src.drop_in_inbox(s, "ln_health", "administrative_penalty", "b.csv", f"{header}\n{good}\n{bad}\n".encode())
    assert run_dag(dags["ingest__ln_health"]).state == "success"
    [(first, *_)] = ledger(s, "ln_health")
    assert q(s, "select row_no, field_code, reason, corrected_by_batch from landing.rejections where batch_id = %s",
             first) == [(2, "CF_YXQ", "invalid_date", None)]

    # the clerk opens the feedback workbook, fixes the cell, and sends the workbook back as it is
    c = object_store.client(s)
    [fb] = [o.object_name for o in c.list_objects(s.bucket("feedback"), prefix="ln_health/", recursive=True)]
    wb = openpyxl.load_workbook(io.BytesIO(object_store.get(c, s.bucket("feedback"), fb)))
    ws = wb["待修改记录"]
    col = [cell.value for cell in ws[1]].index("处罚有效期") + 1
    assert ws.cell(row=2, column=col).value == "2026-02-30"
    ws.cell(row=2, column=col).value = "2099-12-31"
    buf = io.BytesIO()
    wb.save(buf)
    src.drop_in_inbox(s, "ln_health", "administrative_penalty", "问题数据清单-已修改.xlsx", buf.getvalue())
    assert run_dag(dags["ingest__ln_health"]).state == "success"
    batches = ledger(s, "ln_health")
    assert len(batches) == 2 and batches[1][5] == "loaded" and batches[1][2] == 1
    assert q(s, "select corrected_by_batch from landing.rejections where batch_id = %s", first) == [(batches[1][0],)]


def _source_records(n, seed, prefix, unit_name="辽宁省市场监督管理局"):
    spec = GenSpec("administrative_penalty", n, seed=seed, defect_rate=0.0, received_on=TODAY, unit_name=unit_name,
                   seq_prefix=prefix)
    return [{**rec, "record_id": f"{prefix}-{i}"} for i, (rec, _) in enumerate(generate_rows(spec))]


def test_frontend_db_watermark_overlap_loses_and_duplicates_nothing(env, dags):
    s = env
    t0 = datetime.now(UTC) - timedelta(hours=2)
    first = _source_records(30, 5, "FE1")
    src.upsert_source_rows(s, "fe_ln_amr", "administrative_penalty", first, t0)
    assert run_dag(dags["ingest__ln_amr"]).state == "success"
    # a row that committed late: its timestamp is before the watermark, but inside the overlap window
    late = _source_records(1, 6, "FE2")
    src.upsert_source_rows(s, "fe_ln_amr", "administrative_penalty", late, t0 - timedelta(minutes=10))
    newer = _source_records(5, 7, "FE3")
    src.upsert_source_rows(s, "fe_ln_amr", "administrative_penalty", newer, t0 + timedelta(minutes=5))
    assert run_dag(dags["ingest__ln_amr"]).state == "success"
    assert run_dag(dags["ingest__ln_amr"]).state == "success"  # nothing new: no batch, no rows
    rows = q(s, "select b.channel, count(*) from landing.administrative_penalty p join landing.batches b using (batch_id)"
                " where b.unit_code = 'ln_amr' group by 1")
    assert rows == [("frontend_db", 36)]
    assert len(ledger(s, "ln_amr")) == 2
    docs = q(s, "select count(distinct cf_wsh) from landing.administrative_penalty where unit_code = 'ln_amr'")
    assert docs == [(36,)]


def test_api_channel_pages_and_loads(env, dags):
    s = env
    records = _source_records(1100, 8, "API", unit_name="国家税务总局辽宁省税务局")  # > 2 pages of 500
    src.upsert_source_rows(s, "api_ln_tax", "administrative_penalty", records, datetime.now(UTC) - timedelta(hours=1))
    assert run_dag(dags["ingest__ln_tax"]).state == "success"
    [(_bid, channel, rows, accepted, rejected, status, _)] = ledger(s, "ln_tax")
    assert (channel, rows, accepted, rejected, status) == ("api", 1100, 1100, 0, "loaded")
    assert run_dag(dags["ingest__ln_tax"]).state == "success"
    assert len(ledger(s, "ln_tax")) == 1


def test_online_fill_rows_are_pulled_once_and_marked(env, dags):
    s = env
    records = _source_records(12, 9, "OF", unit_name="辽宁省教育厅")
    src.enter_online(s, "ln_edu", "administrative_penalty", [{k: v for k, v in r.items() if k != "record_id"}
                                                             for r in records])
    assert run_dag(dags["ingest__ln_edu"]).state == "success"
    [(bid, channel, rows, accepted, *_)] = ledger(s, "ln_edu")
    assert (channel, rows, accepted) == ("online_fill", 12, 12)
    assert q(s, "select count(*) from online_fill.entries where unit_code = 'ln_edu' and pulled_batch = %s",
             bid) == [(12,)]
    assert run_dag(dags["ingest__ln_edu"]).state == "success"
    assert len(ledger(s, "ln_edu")) == 1


def test_timeliness_is_measured_in_working_days(env, dags):
    s = env
    on_time_day = previous_workday(TODAY - timedelta(days=1))
    late_day = previous_workday(TODAY - timedelta(days=30))
    assert add_working_days(late_day, 7) < TODAY <= add_working_days(on_time_day, 7)
    header = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码"
    row = "沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,{no},违规,事实,依据,警告,警告,{day},2099-12-31,辽宁省农业农村厅,11230500001755309F,辽宁省农业农村厅,11230500001755309F"
    body = "\n".join([header, row.format(no="辽农罚〔2026〕1号", day=on_time_day), row.format(no="辽农罚〔2026〕2号", day=late_day)])
    src.drop_in_inbox(s, "ln_agri", "administrative_penalty", "t.csv", body.encode())
    assert run_dag(dags["ingest__ln_agri"]).state == "success"
    assert q(s, "select cf_wsh, on_time from landing.administrative_penalty where unit_code = 'ln_agri' order by 1") == [
        ("辽农罚〔2026〕1号", True), ("辽农罚〔2026〕2号", False)]


CLEAR_ID = re.compile(r"(?<![0-9A-Z])\d{17}[\dXx](?![0-9A-Z])")


def _looks_like_id(m: str) -> bool:
    # a valid check digit and a real birth date: all-digit USCCs pass the first test one time in eleven
    try:
        born = date(int(m[6:10]), int(m[10:12]), int(m[12:14]))
    except ValueError:
        return False
    return resident_id_status(m.upper()) == "ok" and date(1900, 1, 1) <= born <= TODAY


def _clear_ids(text: str) -> list[str]:
    return [m for m in CLEAR_ID.findall(text or "") if _looks_like_id(m)]


def test_no_clear_id_number_in_landing_tables_rejections_or_feedback(env, dags, tmp_path, capfd, caplog):
    s = env
    # natural persons with valid ID numbers, some rejected: both paths must hide the number
    data = penalty_csv(tmp_path, rows=200, seed=31, defect_rate=0.5, unit_name="辽宁省交通运输厅", prefix="PII")
    assert len(_clear_ids(data.decode())) > 10
    src.drop_in_inbox(s, "ln_transport", "administrative_penalty", "pii.csv", data)
    capfd.readouterr()
    with caplog.at_level("DEBUG"):
        assert run_dag(dags["ingest__ln_transport"]).state == "success"
    run_log = "".join(capfd.readouterr()) + caplog.text  # what dag.test() printed and logged for every task
    with psycopg.connect(s.pg_dsn()) as conn:
        tables = conn.execute("select table_schema, table_name, column_name from information_schema.columns"
                              " where table_schema = 'landing' and data_type = 'text'").fetchall()
        found = []
        for schema, table, column in tables:
            for (v,) in conn.execute(f'select "{column}" from "{schema}"."{table}" where "{column}" ~ %s',
                                     (r"\d{17}[0-9Xx]",)).fetchall():
                found += _clear_ids(v)
        masked = conn.execute("select count(*) from landing.administrative_penalty where cf_xdr_zjhm_masked is not null"
                              " and unit_code = 'ln_transport'").fetchone()[0]
    assert found == [] and masked > 0
    c = object_store.client(s)
    for zone in ("feedback", "quarantine", "staged"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            body = object_store.get(c, s.bucket(zone), obj.object_name)
            if obj.object_name.endswith(".xlsx"):
                wb = openpyxl.load_workbook(io.BytesIO(body))
                text = " ".join(str(cell.value) for ws in wb for row in ws.iter_rows() for cell in row)
            elif obj.object_name.endswith(".parquet"):
                import polars as pl

                text = pl.read_parquet(io.BytesIO(body)).write_csv()
            else:
                text = body.decode("utf-8", errors="replace")
            assert _clear_ids(text) == [], f"clear ID number in {zone}/{obj.object_name}"
    for path in s.outbox_dir.glob("*.json"):  # the notices of every run so far
        assert _clear_ids(path.read_text(encoding="utf-8")) == [], f"clear ID number in {path}"
    assert _clear_ids(run_log) == [] and "ln_transport" in run_log, "clear ID number in the run's task logs"


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


def test_frontend_db_on_the_units_own_connection(env, monkeypatch):
    from credit_platform.catalog.registry import ChannelSpec, registry
    from credit_platform.ingest import channels

    s = env
    # the unit's own 前置机, named by an Airflow connection (here: another database on the local server)
    from credit_platform.dev import services

    services.pg_ensure_role_and_db(dataclasses.replace(s, pg_database="credit_frontend_unit"))
    monkeypatch.setenv("AIRFLOW_CONN_FE_LN_PSB", f"postgres://{s.pg_user}:{s.pg_password}@{s.pg_host}:{s.pg_port}"
                       "/credit_frontend_unit")
    unit = registry().unit("ln_psb").model_copy(update={"channels": [
        ChannelSpec(channel="frontend_db", schedule="0 */6 * * *", connection="fe_ln_psb")]})
    records = _source_records(4, 41, "OWN", unit_name="辽宁省公安厅")
    own = dataclasses.replace(s, frontend_database="credit_frontend_unit")
    src.upsert_source_rows(own, "fe_ln_psb", "administrative_penalty", records, datetime.now(UTC))
    [extract] = channels.extract_frontend_db(s, unit)  # s still names the shared database: the connection wins
    assert extract.item == "administrative_penalty" and extract.data.count(b"\n") == 5


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


def test_landing_tables_from_before_the_index_was_dropped_are_migrated(env):
    s = env
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("alter table landing.utility_payment add primary key (batch_id, row_no)")
        conn.execute("drop table landing.schema_state")  # as in a database from before the schema was versioned
    landing_load.ensure_schema(s)
    assert q(s, "select count(*) from pg_constraint where conrelid = 'landing.utility_payment'::regclass"
                " and contype = 'p'") == [(0,)]


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


def test_an_entry_edited_while_it_is_pulled_goes_again_in_its_new_version(env):
    from credit_platform.catalog.registry import registry

    s = env
    records = _source_records(3, 97, "ED", unit_name="辽宁省民政厅")
    src.enter_online(s, "ln_civil", "administrative_penalty",
                     [{k: v for k, v in r.items() if k != "record_id"} for r in records])
    unit = registry().unit("ln_civil")
    [pulled] = [e for e in channels.extract_online_fill(s, unit) if e.item == "administrative_penalty"]
    with psycopg.connect(s.pg_dsn()) as conn:  # the clerk corrects one entry before the batch is confirmed
        edited = conn.execute("update online_fill.entries set payload = payload || '{\"CF_WSH\": \"改正后\"}'"
                              " where entry_id = %s returning entry_id", (pulled.confirm["entry_ids"][0],)).fetchone()[0]
    channels.confirm(s, "ln_civil", pulled.as_xcom(), "first-batch")
    assert q(s, "select entry_id from online_fill.entries where unit_code = 'ln_civil'"
                " and item_code = 'administrative_penalty' and pulled_batch is null") == [(edited,)]
    [again] = [e for e in channels.extract_online_fill(s, unit) if e.item == "administrative_penalty"]
    assert again.confirm["entry_ids"] == [edited] and "改正后" in again.data.decode()


def test_feedback_lost_to_a_crash_after_the_load_is_sent_on_the_retry(env, tmp_path):
    from credit_platform.ingest.pipeline import extract_and_land, ingest_batch
    from credit_platform.ingest.raw_zone import LandedBatch
    from credit_platform.ingest.staged_zone import gate_and_stage

    s = env
    src.drop_in_inbox(s, "ln_nr", "administrative_penalty", "crash.csv",
                      penalty_csv(tmp_path, rows=30, seed=98, defect_rate=0.4, unit_name="辽宁省自然资源厅"))
    [landed] = extract_and_land(s, "ln_nr", "batch_file")
    batch = LandedBatch(**landed["batch"])
    # the load task dies right after its transaction commits: no workbook, no notice yet
    assert landing_load.load(s, gate_and_stage(s, batch)) == "loaded"
    c = object_store.client(s)

    earlier = set(s.outbox_dir.glob("*.json"))  # the outbox outlives the test database

    def told() -> int:
        return sum(batch.batch_id in p.read_text(encoding="utf-8") for p in set(s.outbox_dir.glob("*.json")) - earlier)

    assert told() == 0 and q(s, "select feedback_sent_at from landing.batches where batch_id = %s",
                             batch.batch_id) == [(None,)]
    retry = ingest_batch(s, landed)
    assert retry["load"] == "already_loaded" and retry["rejected"] > 0
    assert object_store.exists(c, s.bucket("feedback"), retry["feedback_key"]) and told() == 1
    assert q(s, "select feedback_sent_at is not null from landing.batches where batch_id = %s",
             batch.batch_id) == [(True,)]
    assert ingest_batch(s, landed)["feedback_key"] == retry["feedback_key"] and told() == 1  # once


def test_batches_from_before_feedback_was_recorded_count_as_sent(env):
    s = env
    with psycopg.connect(s.pg_dsn()) as conn:
        conn.execute("alter table landing.batches drop column feedback_sent_at")
        conn.execute("update landing.schema_state set version = 'an older one'")
    landing_load.ensure_schema(s)
    assert q(s, "select count(*) from landing.batches where (rejected > 0 or batch_error_reason is not null)"
                " and feedback_sent_at is null") == [(0,)]
    assert q(s, "select count(*) from landing.batches where rejected > 0") != [(0,)]


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


def test_a_front_end_table_in_local_time_loses_nothing_whatever_the_servers_zones(env, monkeypatch):
    from credit_platform.catalog.registry import ChannelSpec, registry
    from credit_platform.dev import services

    s = env
    own = dataclasses.replace(s, pg_database="credit_frontend_tz", frontend_database="credit_frontend_tz")
    services.pg_ensure_role_and_db(own)
    code = f"zz_fe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(own.pg_dsn(), autocommit=True) as conn:
        # the unit's server runs in Beijing time, ours in UTC; its table keeps local times without a zone
        conn.execute("alter database credit_frontend_tz set timezone = 'Asia/Shanghai'")
        cols = ", ".join(f"{c.lower()} text" for c in catalog().item("administrative_penalty").codes)
        conn.execute(f'create schema "fe_{code}"')
        conn.execute(f'create table "fe_{code}".administrative_penalty (record_id text primary key,'
                     f" updated_at timestamp not null, {cols})")
    monkeypatch.setenv(f"AIRFLOW_CONN_FE_{code.upper()}", f"postgres://{s.pg_user}:{s.pg_password}@{s.pg_host}:"
                       f"{s.pg_port}/credit_frontend_tz")
    unit = registry().unit("ln_psb").model_copy(update={"code": code, "channels": [
        ChannelSpec(channel="frontend_db", schedule="0 */6 * * *", connection=f"fe_{code}")],
        "items": [Obligation(item="administrative_penalty", frequency="daily")]})

    def write(record_id: str, local_time: str) -> None:
        with psycopg.connect(own.pg_dsn(), autocommit=True) as conn:
            conn.execute(f'insert into "fe_{code}".administrative_penalty (record_id, updated_at, cf_wsh)'
                         " values (%s, %s, %s)", (record_id, local_time, record_id))

    write("r1", "2026-11-26 10:00:00")
    [first] = channels.extract_frontend_db(s, unit)
    assert datetime.fromisoformat(first.confirm["watermark"]) == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    channels.confirm(s, code, first.as_xcom(), "b1")
    write("r2", "2026-11-26 10:20:00")  # twenty minutes later, local time
    [second] = channels.extract_frontend_db(s, unit)
    assert [k for k, _ in second.confirm["keys"]] == ["r2"]
    with psycopg.connect(own.pg_dsn(), autocommit=True) as conn:
        conn.execute(f'drop schema "fe_{code}" cascade')


def test_a_current_schema_is_ensured_without_waiting_for_readers(env, monkeypatch):
    s = env
    landing_load.ensure_schema(s)
    # a long reader of the landing views, e.g. a dbt build; any lock ensure took on them would wait for it
    with psycopg.connect(s.pg_dsn()) as reader:
        reader.execute("select count(*) from landing.open_rejections").fetchone()
        reader.execute("lock table online_fill.entries in share row exclusive mode")  # a clerk's edit, say
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=2000")  # fail instead of hanging
        landing_load.ensure_schema(s)
        reader.rollback()


def test_a_front_end_table_missing_a_required_column_is_one_clear_batch_error(env, dags):
    s = env
    records = _source_records(5, 99, "NOCOL", unit_name="辽宁省应急管理厅")
    src.upsert_source_rows(s, "fe_ln_emergency", "administrative_penalty", records, datetime.now(UTC))
    with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
        conn.execute("alter table fe_ln_emergency.administrative_penalty drop column cf_wfxw")
    earlier = set(s.outbox_dir.glob("*.json"))  # the outbox outlives the test database
    try:
        assert run_dag(dags["ingest__ln_emergency"]).state == "success"
    finally:
        with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
            conn.execute("drop table fe_ln_emergency.administrative_penalty")
    [(_, channel, rows, _, _, status, reason)] = [r for r in ledger(s, "ln_emergency") if r[1] == "frontend_db"]
    assert (channel, status, reason, rows) == ("frontend_db", "rejected", "missing_columns", 0)
    detail = q(s, "select batch_error_detail from landing.batches where unit_code = 'ln_emergency'"
                  " and channel = 'frontend_db'")[0][0]
    assert "CF_WFXW" in detail
    told = [json.loads(p.read_text(encoding="utf-8")) for p in set(s.outbox_dir.glob("*.json")) - earlier]
    assert any("接口对接（前置机）报送的行政处罚信息数据未能读取" in n["body"] and "CF_WFXW" in n["body"] for n in told)
