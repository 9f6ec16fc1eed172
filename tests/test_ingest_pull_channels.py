"""The pull channels: front-end database (watermarks, own connections, time zones, missing columns), the paged
API and the online-fill table — nothing lost, nothing twice."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import Obligation
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import run_dag
from credit_platform.ingest import channels
from tests.ingest_support import ledger, q, source_records


def test_frontend_db_watermark_overlap_loses_and_duplicates_nothing(env, dags):
    s = env
    t0 = datetime.now(UTC) - timedelta(hours=2)
    first = source_records(30, 5, "FE1")
    src.upsert_source_rows(s, "fe_ln_amr", "administrative_penalty", first, t0)
    assert run_dag(dags["ingest__ln_amr"]).state == "success"
    # a row that committed late: its timestamp is before the watermark, but inside the overlap window
    late = source_records(1, 6, "FE2")
    src.upsert_source_rows(s, "fe_ln_amr", "administrative_penalty", late, t0 - timedelta(minutes=10))
    newer = source_records(5, 7, "FE3")
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
    records = source_records(1100, 8, "API", unit_name="国家税务总局辽宁省税务局")  # > 2 pages of 500
    src.upsert_source_rows(s, "api_ln_tax", "administrative_penalty", records, datetime.now(UTC) - timedelta(hours=1))
    assert run_dag(dags["ingest__ln_tax"]).state == "success"
    [(_bid, channel, rows, accepted, rejected, status, _)] = ledger(s, "ln_tax")
    assert (channel, rows, accepted, rejected, status) == ("api", 1100, 1100, 0, "loaded")
    assert run_dag(dags["ingest__ln_tax"]).state == "success"
    assert len(ledger(s, "ln_tax")) == 1


def test_online_fill_rows_are_pulled_once_and_marked(env, dags):
    s = env
    records = source_records(12, 9, "OF", unit_name="辽宁省教育厅")
    src.enter_online(s, "ln_edu", "administrative_penalty", [{k: v for k, v in r.items() if k != "record_id"}
                                                             for r in records])
    assert run_dag(dags["ingest__ln_edu"]).state == "success"
    [(bid, channel, rows, accepted, *_)] = ledger(s, "ln_edu")
    assert (channel, rows, accepted) == ("online_fill", 12, 12)
    assert q(s, "select count(*) from online_fill.entries where unit_code = 'ln_edu' and pulled_batch = %s",
             bid) == [(12,)]
    assert run_dag(dags["ingest__ln_edu"]).state == "success"
    assert len(ledger(s, "ln_edu")) == 1


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
    records = source_records(4, 41, "OWN", unit_name="辽宁省公安厅")
    own = dataclasses.replace(s, frontend_database="credit_frontend_unit")
    src.upsert_source_rows(own, "fe_ln_psb", "administrative_penalty", records, datetime.now(UTC))
    [extract] = channels.extract_frontend_db(s, unit)  # s still names the shared database: the connection wins
    assert extract.item == "administrative_penalty" and extract.data.count(b"\n") == 5


def test_an_entry_edited_while_it_is_pulled_goes_again_in_its_new_version(env):
    from credit_platform.catalog.registry import registry

    s = env
    records = source_records(3, 97, "ED", unit_name="辽宁省民政厅")
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


def test_a_front_end_table_missing_a_required_column_is_one_clear_batch_error(env, dags):
    s = env
    records = source_records(5, 99, "NOCOL", unit_name="辽宁省应急管理厅")
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
    assert any("接口对接（前置机）报送的行政处罚信息（数据表 fe_ln_emergency.administrative_penalty）未能读取"
               in n["body"] and "CF_WFXW" in n["body"] for n in told)
