"""The warehouse end to end: seeded multi-head scenarios ingested through the real pipeline over two past
months, the real `warehouse_build` DAG (dbt build), and marts whose golden records, provenance, conflicts,
duplication burden and case history are known exactly."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import psycopg
import pytest

from credit_platform import clock
from credit_platform.catalog.registry import registry
from credit_platform.dev import services, simulated_sources
from credit_platform.dev.dag_runner import load_dag_module, run_dag
from credit_platform.dev.generator import GenSpec, generate_rows
from credit_platform.ingest import landing_load, pipeline
from credit_platform.standards import pii
from credit_platform.warehouse import dbt_build
from credit_platform.warehouse.prewarm import prewarm_key_indexes

WAREHOUSE_SCHEMAS = ("staging", "intermediate", "marts", "snapshots", "reference")


def _month_start(d: date, back: int) -> date:
    y, m = d.year, d.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


TODAY = clock.today()
MONTH1, MONTH2 = _month_start(TODAY, 2), _month_start(TODAY, 1)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=clock.BEIJING)


def _land(s, unit: str, item: str, records: list[dict], received_at: datetime) -> list[str]:
    simulated_sources.enter_online(s, unit, item, records)
    batches = []
    for landed in pipeline.extract_and_land(s, unit, "online_fill", received_at):
        out = pipeline.ingest_batch(s, landed)
        assert out["rejected"] == 0, out
        batches.append(landed["batch"]["batch_id"])
    return batches


def _records(item: str, n: int, received: date, token: str, seed: int) -> list[dict]:
    spec = GenSpec(item, n, seed=seed, defect_rate=0, received_on=received, seq_prefix=token)
    return [rec for rec, _ in generate_rows(spec)]


@pytest.fixture(scope="module")
def scenario(airflow_db):
    s = airflow_db
    landing_load.ensure_schema(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:  # this module's facts only, a fresh snapshot
        for schema in WAREHOUSE_SCHEMAS:
            conn.execute(f"drop schema if exists {schema} cascade")
        tables = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'landing'"
            " and tablename not in ('calendar', 'schema_state', 'extract_watermarks', 'extracted_rows')")]
        conn.execute("truncate " + ", ".join(f"landing.{t}" for t in tables))
        conn.execute("delete from online_fill.entries where pulled_batch is null")
    reg = registry()
    token = f"W{time.time_ns() % 10**7:07d}"  # new content on every run: the raw zone never sees the same bytes
    finance = reg.unit("ln_finance").uscc

    # P: decided by ln_finance (the deciding authority), forwarded by two city platforms, corrected once
    pens = _records("administrative_penalty", 60, MONTH2 + timedelta(days=14), token, seed=11)
    p = next(r for r in pens if r["CF_NR_FK"] and r["CF_XDR_LB"] != "自然人")
    p.update(CF_CFJGDM=finance, CF_CFJG="辽宁省财政厅", CF_SJLYDM=finance, CF_SJLY="辽宁省财政厅")
    q = next(r for r in pens if r is not p and r["CF_XDR_LB"] != "自然人" and r["CF_CFJGDM"] != finance)
    persons = [r for r in pens if r["CF_XDR_LB"] == "自然人"][:3]
    assert persons, "the generator gives natural persons"
    day = MONTH2 + timedelta(days=14)
    b = {}
    b["finance_v1"] = _land(s, "ln_finance", "administrative_penalty", [{**p, "CF_NR_FK": "1500"}, *persons],
                            at(day, 9))
    b["shenyang"] = _land(s, "shenyang_platform", "administrative_penalty", [{**p, "CF_NR_FK": "1000"}, q],
                          at(day, 10))
    b["dalian"] = _land(s, "dalian_platform", "administrative_penalty", [{**p, "CF_NR_FK": "2000"}, q],
                        at(day, 11))
    b["finance_v2"] = _land(s, "ln_finance", "administrative_penalty", [{**p, "CF_NR_FK": "1000"}], at(day, 12))
    # a company reported once with its USCC and 工商注册号, once with the registration number only
    firm = next(r for r in pens if r["CF_XDR_LB"] == "法人及非法人组织" and r is not p and r is not q)
    # (15 digits whose "birth date" 9913xx is no date: an old ID number would be masked as one)
    reg_no = f"2101009913{time.time_ns() % 10**5:05d}"
    # the first penalty's publicity ended on its decision day (no longer active), the second's lasts a year more
    paired = {**firm, "CF_XDR_GSZC": reg_no, "CF_GSJZQ": firm["CF_JDRQ"],
              "CF_YXQ": (TODAY + timedelta(days=400)).isoformat()}  # (公示截止期 first: the validity does not count)
    only_reg = {**firm, "CF_WSH": firm["CF_WSH"].replace("号", "-2号"), "CF_XDR_SHXYM": None, "CF_XDR_GSZC": reg_no,
                "CF_GSJZQ": None, "CF_YXQ": (TODAY + timedelta(days=400)).isoformat()}
    # (the registration-number-only copy is built first: the pairing, landed after that build, links a fact the
    # incremental build does not otherwise touch, and the subject R:<reg_no> of the first build disappears)
    _land(s, "ln_amr", "administrative_penalty", [only_reg], at(day, 13))
    after_first_build = [("ln_amr", "administrative_penalty", [paired], at(day, 15))]

    # utility bills: property X changes hands in month 2 (the bill still names the old holder), Y does not
    bills = _records("utility_payment", 8, MONTH2 + timedelta(days=14), token, seed=13)
    x1, x2, y1 = bills[:3]
    # property Z's holder renames between the months (same USCC): still its own bills, neither stale
    z1 = next(b for b in bills[3:] if b["GY_HZDM"])
    z1.update(GY_FCBH=f"Z{token}", GY_ZDQ=f"{MONTH1:%Y-%m}", GY_HZMC="更名前有限公司", GY_DQSYR=None, GY_DQSYRDM=None)
    # (the later bill names its holder as 当前所有人 too, without a code: still the same party)
    z2 = {**z1, "GY_ZDQ": f"{MONTH2:%Y-%m}", "GY_HZMC": "更名后有限公司", "GY_DQSYR": "更名后有限公司"}
    # the holder of X is the company above: its credit profile must not carry X's stale bills
    x1.update(GY_FCBH=f"X{token}", GY_ZDQ=f"{MONTH1:%Y-%m}", GY_HZMC=firm["CF_XDR_MC"], GY_HZDM=firm["CF_XDR_SHXYM"],
              GY_DQSYR=None, GY_DQSYRDM=None)
    x2.update(GY_FCBH=f"X{token}", GY_ZDQ=f"{MONTH2:%Y-%m}", GY_ZHBH=x1["GY_ZHBH"], GY_HZMC=x1["GY_HZMC"],
              GY_HZDM=x1["GY_HZDM"], GY_DQSYR="新业主有限公司", GY_DQSYRDM=None)
    y1.update(GY_FCBH=f"Y{token}", GY_ZDQ=f"{MONTH2:%Y-%m}", GY_DQSYR=None, GY_DQSYRDM=None)
    # X's bill of month 1 is built first, attributed to its holder then; the bill of month 2 makes it stale
    _land(s, "ln_grid", "utility_payment", [x1, z1], at(day, 14))
    after_first_build.append(("ln_grid", "utility_payment", [x2, y1, z2], at(day, 16)))

    # G resolved in month 2; H stays open and is repeated by the court and a city platform
    cases = _records("gov_dishonest_debtor_case", 2, MONTH1 + timedelta(days=14), token, seed=12)
    g, h = ({**c, "ZFSX_ZT": "未履行", "ZFSX_HJRQ": None, "ZFSX_SCRQ": None} for c in cases)
    _land(s, "ln_court", "gov_dishonest_debtor_case", [g, h], at(MONTH1 + timedelta(days=14), 10))
    # the build after month 1 records the cases' state in the snapshot as it was then; the DAG's build after
    # month 2 is incremental on every incremental model
    first = dbt_build.build_warehouse(s, skip_source_tests=True)
    assert first.success, first.failed()
    with psycopg.connect(s.pg_dsn()) as conn:
        month1 = {"firm": conn.execute("select subject_key from marts.fct_subject_records where item_code ="
                                       " 'administrative_penalty' and link_method = 'reg_no'").fetchall(),
                  "x1_attributed": conn.execute("select is_attributed from marts.fct_subject_records"
                                                " where item_code = 'utility_payment'").fetchall()}
    for unit, item, records, received_at in after_first_build:
        _land(s, unit, item, records, received_at)
    resolved_on = (MONTH2 + timedelta(days=9)).isoformat()
    _land(s, "ln_court", "gov_dishonest_debtor_case", [{**g, "ZFSX_ZT": "已履行", "ZFSX_HJRQ": resolved_on}, h],
          at(MONTH2 + timedelta(days=14), 10))
    # the city platform forwards H, and G's old open state after the court resolved it: G stays resolved
    _land(s, "shenyang_platform", "gov_dishonest_debtor_case", [h, g], at(MONTH2 + timedelta(days=15), 10))
    # … and the court sends G's old state again (a retraction?): not taken, but listed as a conflict
    _land(s, "ln_court", "gov_dishonest_debtor_case", [g], at(MONTH2 + timedelta(days=16), 10))

    with psycopg.connect(s.pg_dsn()) as conn:  # the state of month 1's build still holds: incremental
        incremental = conn.execute("select landing_epoch, project_version, batches_built"
                                   " from intermediate.warehouse_build_state").fetchone() \
            == (dbt_build.landing_epoch(conn), dbt_build.project_version(), dbt_build.built_batches(conn))
    run = run_dag(load_dag_module("warehouse_build").warehouse_build())
    assert run.state == "success"
    conn = psycopg.connect(s.pg_dsn(), autocommit=True)
    state = {"s": s, "conn": conn, "p": p, "q": q, "g": g, "h": h, "batches": b, "persons": persons, "firm": firm,
             "bills": (x1, x2, y1, z1, z2), "dag_build_was_incremental": incremental, "month1": month1,
             "reg_no": reg_no}
    yield state
    state["conn"].close()  # (the crash test reconnects)


def _rows(conn, sql: str, *args) -> list[tuple]:
    return conn.execute(sql, args).fetchall()


def test_multi_head_copies_become_one_golden_record(scenario):
    c, p = scenario["conn"], scenario["p"]
    (row,) = _rows(c, "select copies, reporting_units, winning_unit_code, winning_batch_id, cf_nr_fk::text,"
                      " has_conflicts from marts.fct_administrative_penalty where cf_wsh = %s", p["CF_WSH"])
    assert row == (4, 3, "ln_finance", scenario["batches"]["finance_v2"][0], "1000.000000", True)
    (q,) = _rows(c, "select copies, reporting_units, winning_unit_code from marts.fct_administrative_penalty"
                    " where cf_wsh = %s", scenario["q"]["CF_WSH"])
    assert q == (2, 2, "shenyang_platform")  # no authority among the reporters: the earliest on-time copy
    total = _rows(c, "select count(*), sum(copies) from marts.fct_administrative_penalty")[0]
    assert total == (4 + len(scenario["persons"]), 8 + len(scenario["persons"]))


def test_every_copy_is_in_the_provenance(scenario):
    c, p = scenario["conn"], scenario["p"]
    rows = _rows(c, "select unit_code, version_desc, is_winner, survivorship_reason from marts.fct_record_copies r"
                    " join marts.fct_administrative_penalty f using (natural_key_hash)"
                    " where f.cf_wsh = %s order by received_at", p["CF_WSH"])
    assert rows == [("ln_finance", 2, False, "superseded_by_unit"), ("shenyang_platform", 1, False, "other_unit"),
                    ("dalian_platform", 1, False, "other_unit"), ("ln_finance", 1, True, "deciding_authority")]


def test_conflicting_values_are_listed_not_resolved(scenario):
    c, p = scenario["conn"], scenario["p"]
    rows = _rows(c, "select v.field_code, v.winning_value, v.other_value, v.other_unit_code"
                    " from marts.fct_value_conflicts v join marts.fct_administrative_penalty f"
                    " using (natural_key_hash) where f.cf_wsh = %s", p["CF_WSH"])
    # ln_finance's own superseded 1500 is a correction, not a conflict; dalian's 2000 is
    assert rows == [("cf_nr_fk", "1000.000000", "2000.000000", "dalian_platform")]
    # and case G's old state, forwarded by the city platform: its status and resolution date
    g = _rows(c, "select v.field_code, v.winning_value, v.other_value, v.other_unit_code"
                 " from marts.fct_value_conflicts v join marts.fct_gov_dishonest_case f on f.case_key = v.natural_key_hash"
                 " where f.case_no = %s order by 1", scenario["g"]["ZFSX_AH"])
    resolved_on = (MONTH2 + timedelta(days=9)).isoformat()
    assert sorted(g) == [("zfsx_hjrq", resolved_on, None, "ln_court"), ("zfsx_hjrq", resolved_on, None, "shenyang_platform"),
                         ("zfsx_zt", "已履行", "未履行", "ln_court"), ("zfsx_zt", "已履行", "未履行", "shenyang_platform")]
    assert _rows(c, "select count(*) from marts.fct_value_conflicts")[0][0] == 5


def test_duplication_burden(scenario):
    c = scenario["conn"]
    rows = dict(((u, o), (n, a)) for u, o, n, a in _rows(
        c, "select unit_code, other_unit_code, facts_reported, facts_also_reported from marts.rpt_duplication_burden"))
    persons = len(scenario["persons"])
    assert rows[("ln_finance", "*")] == (1 + persons, 1)
    assert rows[("shenyang_platform", "*")] == (4, 4)  # P, Q and cases G and H
    assert rows[("shenyang_platform", "dalian_platform")] == (4, 2)
    assert rows[("dalian_platform", "ln_finance")] == (2, 1)
    assert rows[("ln_court", "shenyang_platform")] == (2, 2)
    assert ("ln_amr", "*") not in rows or rows[("ln_amr", "*")][1] == 0


def test_subjects_linked_and_stale_bills_not_attributed(scenario):
    c, firm = scenario["conn"], scenario["firm"]
    # as of month 1 the registration-number-only record had a subject of its own, and X's (and Z's) bill was
    # attributed
    assert scenario["month1"] == {"firm": [("R:" + scenario["reg_no"],)], "x1_attributed": [(True,), (True,)]}
    links = _rows(c, "select b.link_method, b.subject_key from marts.fct_subject_records b"
                     " join marts.fct_administrative_penalty f using (natural_key_hash)"
                     " where f.cf_wsh in (%s, %s) order by 1", firm["CF_WSH"], firm["CF_WSH"].replace("号", "-2号"))
    assert links == [("reg_no_paired_with_uscc", "U:" + firm["CF_XDR_SHXYM"]), ("uscc", "U:" + firm["CF_XDR_SHXYM"])]
    (profile,) = _rows(c, "select records_total, records_by_item from marts.mart_credit_profile where subject_key = %s",
                       "U:" + firm["CF_XDR_SHXYM"])
    assert profile == (2, {"administrative_penalty": 2}), "two penalties; X's two stale bills are not attributed"
    # active: 公示截止期 if given, else 处罚有效期, not passed; the profile changes the day after the last one ends
    (active,) = _rows(c, "select active_penalties, next_change_on from marts.mart_credit_profile"
                         " where subject_key = %s", "U:" + firm["CF_XDR_SHXYM"])
    assert active == (1, TODAY + timedelta(days=401))
    (bridge,) = _rows(c, "select count(*) filter (where is_attributed), count(*) from marts.fct_subject_records"
                         " where subject_key = %s", "U:" + firm["CF_XDR_SHXYM"])
    assert bridge == (2, 4)
    x1, x2, y1, z1, z2 = scenario["bills"]
    flags = dict((r[0], r[1:]) for r in _rows(
        c, "select property_no || '/' || billing_period, holder_is_not_current_owner, holder_changed_later,"
           " is_stale, attributed_subject_key is null from marts.fct_utility_bill_owner"))
    assert flags[f"{x1['GY_FCBH']}/{x1['GY_ZDQ']}"] == (False, True, True, True)
    assert flags[f"{x2['GY_FCBH']}/{x2['GY_ZDQ']}"] == (True, False, True, True)
    assert flags[f"{y1['GY_FCBH']}/{y1['GY_ZDQ']}"] == (False, False, False, False)
    (y_attr,) = _rows(c, "select attributed_subject_key from marts.fct_utility_bill_owner where property_no = %s",
                      y1["GY_FCBH"])
    assert y_attr[0] is not None
    # a renamed holder (same USCC) keeps both its bills
    for z in (z1, z2):
        assert flags[f"{z['GY_FCBH']}/{z['GY_ZDQ']}"] == (False, False, False, False)
    (z_profile,) = _rows(c, "select records_total from marts.mart_credit_profile where subject_key = %s",
                         "U:" + z1["GY_HZDM"])
    assert z_profile == (2,)


def test_gov_case_current_state_history_and_months(scenario):
    c, g, h = scenario["conn"], scenario["g"], scenario["h"]
    cur = dict(_rows(c, "select case_no, status || '/' || versions || '/' || copies from marts.fct_gov_dishonest_case"))
    # G's old state forwarded after the court resolved it is a copy, not a version: G stays resolved
    assert cur == {g["ZFSX_AH"]: "已履行/2/4", h["ZFSX_AH"]: "未履行/1/3"}
    (credit,) = _rows(c, "select state_unit_code, state_received_at from marts.fct_gov_dishonest_case"
                         " where case_no = %s", h["ZFSX_AH"])
    assert credit == ("ln_court", at(MONTH1 + timedelta(days=14), 10)), "the state's first report, not its repeat"
    reasons = _rows(c, "select survivorship_reason from marts.fct_record_copies r join marts.fct_gov_dishonest_case f"
                       " on f.case_key = r.natural_key_hash where f.case_no = %s and r.is_winner", g["ZFSX_AH"])
    assert reasons == [("latest_state",)]
    losers = _rows(c, "select unit_code, survivorship_reason from marts.fct_record_copies r join marts.fct_gov_dishonest_case"
                      " f on f.case_key = r.natural_key_hash where f.case_no = %s and not r.is_winner order by received_at",
                   g["ZFSX_AH"])
    assert losers == [("ln_court", "earlier_state"), ("shenyang_platform", "earlier_state"),
                      ("ln_court", "earlier_state")]
    months = {m: v for m, *v in _rows(c, "select month, new_cases, resolved_cases, outstanding_at_start,"
                                         " outstanding_at_end from marts.mart_gov_case_month")}
    assert months[f"{MONTH1:%Y-%m}"] == [2, 0, 0, 2]
    assert months[f"{MONTH2:%Y-%m}"] == [0, 1, 2, 1], "G, resolved in month 2, was outstanding as of month 1"
    assert months[f"{TODAY:%Y-%m}"] == [0, 0, 1, 1]


def test_snapshot_keeps_each_state_valid_from_its_received_time(scenario):
    c, g = scenario["conn"], scenario["g"]
    rows = _rows(c, "select status, dbt_valid_from, dbt_valid_to from snapshots.snap_gov_dishonest_case"
                    " where case_no = %s order by dbt_valid_from", g["ZFSX_AH"])
    assert [r[0] for r in rows] == ["未履行", "已履行"]
    assert rows[0][1] == at(MONTH1 + timedelta(days=14), 10) and rows[0][2] == rows[1][1]
    assert rows[1][1] == at(MONTH2 + timedelta(days=14), 10) and rows[1][2] is None
    end_of_month1 = at(MONTH2, 0)
    (as_of,) = _rows(c, "select status from snapshots.snap_gov_dishonest_case where case_no = %s and"
                        " dbt_valid_from <= %s and (dbt_valid_to is null or dbt_valid_to > %s)",
                     g["ZFSX_AH"], end_of_month1, end_of_month1)
    assert as_of == ("未履行",)


def test_no_mart_holds_a_clear_id_number(scenario):
    c = scenario["conn"]
    persons = _rows(c, "select count(*) from marts.fct_administrative_penalty where cf_xdr_zjhm_hash is not null")
    assert persons[0][0] == len(scenario["persons"]) > 0
    tables = _rows(c, "select table_schema, table_name from information_schema.tables where table_schema = any(%s)",
                   ["intermediate", "marts", "snapshots"])
    assert len(tables) > 20
    found = []
    for schema, table in tables:
        for (text,) in _rows(c, f'select t::text from "{schema}"."{table}" t'):
            found += pii.find_ids(text)
    assert found == []
    # and the scanner does see one
    assert pii.find_ids(f"x,{scenario['persons'][0]['CF_XDR_ZJHM']},y")


def test_a_scoped_build_checks_that_every_accepted_record_of_its_batches_is_copied(scenario):
    """The tests of a daily build check its batches only; an accepted record of those batches missing from the
    provenance (int_record_copies) must still fail credit_copies_add_up (here: the ledger says one more)."""
    c, s = scenario["conn"], scenario["s"]
    batch = c.execute("select b.batch_id from intermediate.int_build_batches b join intermediate.int_record_copies r"
                      " using (batch_id) where r.item_code = 'administrative_penalty' limit 1").fetchone()
    assert batch, "the DAG's build brought penalties in"
    args = ["test", "--select", "fct_administrative_penalty,test_name:credit_copies_add_up",
            "--vars", json.dumps({dbt_build.SCOPED_TESTS_VAR: True})]
    before = dbt_build.run(s, args)
    tests = [uid for uid, _ in before.results if uid.startswith("test.")]
    assert before.success and len(tests) == 1, before.results
    more = "update landing.batches set rows = rows + %s, accepted = accepted + %s where batch_id = %s"
    c.execute(more, (1, 1, *batch))
    try:
        after = dbt_build.run(s, args)
    finally:
        c.execute(more, (-1, -1, *batch))
    assert not after.success and after.failed() == [(tests[0], "fail")]


def _fingerprints(conn) -> dict[str, str]:
    tables = [r[0] for r in conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE'"
        " and table_name not in ('int_build_batches', 'int_touched_keys', 'int_new_code_pairs', 'int_subject_scope',"
        " 'int_scope_subjects', 'int_profile_scope', 'warehouse_build_state') order by 1")]  # (what one build changes, not the state)
    return {t: conn.execute(f"select count(*) || ':' || coalesce(md5(string_agg(x, '|' order by x)), '')"
                            f" from (select t::text as x from {t} t) r").fetchone()[0] for t in tables}


def test_incremental_build_equals_full_refresh_and_docs_generate(scenario):
    """The DAG's build was incremental (month 1's batches were already in); a full refresh gives the same rows."""
    c, s = scenario["conn"], scenario["s"]
    assert scenario["dag_build_was_incremental"]
    incremental = _fingerprints(c)
    assert {"marts.fct_administrative_penalty", "intermediate.int_record_survivorship",
            "marts.fct_gov_dishonest_case"} <= set(incremental)
    full = dbt_build.build_warehouse(s, full_refresh=True)
    assert full.success, full.failed()
    assert _fingerprints(c) == incremental
    # the rebuilt key indexes were read into shared_buffers; the copies' (batch, row) index, appended to, was not
    assert full.prewarmed is not None and full.prewarmed.skipped is None, full.prewarmed
    index_of = ("select indexrelid::regclass::text from pg_index x join pg_attribute a on a.attrelid = x.indrelid"
                " and a.attnum = x.indkey[0] where x.indrelid = %s::regclass and a.attname = %s")
    golden_key, = c.execute(index_of, ("intermediate.int_golden_keys", "item_code")).fetchone()
    copies_batch, = c.execute(index_of, ("intermediate.int_record_copies", "batch_id")).fetchone()
    assert full.prewarmed.blocks.get(golden_key, 0) > 0, full.prewarmed.blocks
    assert copies_batch not in full.prewarmed.blocks
    docs = dbt_build.run(s, ["docs", "generate"])
    assert docs.success
    assert (s.home / "dbt-target" / "catalog.json").exists()


def test_without_pg_prewarm_the_indexes_stay_cold_and_the_outcome_says_why(scenario):
    c, s = scenario["conn"], scenario["s"]
    with services.pg_superuser_conn(s, s.pg_database) as su:
        su.execute("drop extension pg_prewarm")
        try:
            out = prewarm_key_indexes(c)
        finally:
            su.execute("create extension pg_prewarm")
    assert out.blocks == {} and "pg_prewarm" in out.skipped
    assert prewarm_key_indexes(c).blocks  # and with it, they are read


def test_batches_built_outside_the_warehouse_build_force_a_full_refresh(scenario):
    """A hand-run dbt of the provenance alone marks a new batch built while the later models miss it, a
    delta-maintained model run again by hand counts a delta twice: the next warehouse build rebuilds everything
    after either. A build of part of the warehouse leaves no state."""
    c, s = scenario["conn"], scenario["s"]
    again = dbt_build.build_warehouse(s)
    assert again.success and not again.full_refresh, again.failed()
    assert again.prewarmed is None  # only a full refresh rebuilds the indexes
    token = f"H{time.time_ns() % 10**7:07d}"
    rec = _records("administrative_penalty", 1, MONTH2 + timedelta(days=20), token, seed=21)[0]
    _land(s, "ln_amr", "administrative_penalty", [rec], at(MONTH2 + timedelta(days=20), 10))
    by_hand = dbt_build.run(s, ["run", "--select", "int_build_batches", "int_record_copies"])
    assert by_hand.success, by_hand.failed()
    fact = "select count(*) from marts.fct_administrative_penalty where cf_wsh = %s"
    assert c.execute(fact, (rec["CF_WSH"],)).fetchone()[0] == 0
    out = dbt_build.build_warehouse(s)
    assert out.success and out.full_refresh, out.failed()
    assert c.execute(fact, (rec["CF_WSH"],)).fetchone()[0] == 1
    # a delta-maintained model run again by hand adds the build's delta twice: the next build starts afresh
    burden = dbt_build.run(s, ["run", "--select", "int_burden_counts"])
    assert burden.success, burden.failed()
    out = dbt_build.build_warehouse(s)
    assert out.success and out.full_refresh, out.failed()
    part = dbt_build.build_warehouse(s, select=["path:seeds"])
    assert part.success and not part.full_refresh
    assert c.execute("select count(*) from intermediate.warehouse_build_state").fetchone()[0] == 0


def test_a_crash_empties_the_unlogged_warehouse_and_the_next_build_rebuilds_it(scenario):
    """Intermediate and mart tables are unlogged (derived from landing, no WAL); snapshots, reports and landing
    are logged. A crash (immediate stop: recovery on start) empties the unlogged tables and the build state;
    the next build is a full refresh and gives the same rows as before the crash, the snapshot's history kept."""
    from credit_platform.dev import services

    c, s = scenario["conn"], scenario["s"]
    persistence = dict(c.execute(
        "select n.nspname || '.' || c.relname, c.relpersistence from pg_class c join pg_namespace n"
        " on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname in"
        " ('landing', 'intermediate', 'marts', 'snapshots', 'reports')").fetchall())
    assert {t for t, p in persistence.items() if p == "u"} == {
        t for t in persistence if t.split(".")[0] in ("intermediate", "marts")}
    assert "intermediate.warehouse_build_state" in persistence and "snapshots.snap_gov_dishonest_case" in persistence
    assert dbt_build.build_warehouse(s).success
    before = _fingerprints(c)
    snapshot = "select count(*) || ':' || md5(string_agg(t::text, '|' order by t::text)) from snapshots.snap_gov_dishonest_case t"
    snap_before = c.execute(snapshot).fetchone()[0]
    c.close()
    from airflow import settings as airflow_settings  # (its pooled connections to the metadata database)

    airflow_settings.dispose_orm(do_log=False)
    assert services.postgres_down(s, mode="immediate")
    services.postgres_up(s)
    airflow_settings.configure_orm()
    c = scenario["conn"] = psycopg.connect(s.pg_dsn(), autocommit=True)
    assert c.execute("select count(*) from marts.fct_administrative_penalty").fetchone()[0] == 0
    assert c.execute("select count(*) from intermediate.warehouse_build_state").fetchone()[0] == 0
    assert c.execute(snapshot).fetchone()[0] == snap_before
    out = dbt_build.build_warehouse(s)
    assert out.success and out.full_refresh, out.failed()
    assert _fingerprints(c) == before
    assert c.execute(snapshot).fetchone()[0] == snap_before


def test_fact_keys_are_unique_indexes(scenario):
    """The keys of the large tables are unique indexes (a duplicate is refused as it is written), and
    credit_unique_index fails when one is missing or is a plain index."""
    c, s = scenario["conn"], scenario["s"]
    out = dbt_build.run(s, ["test", "--select", "test_name:credit_unique_index"])
    assert out.success and len([n for n, _ in out.results if n.startswith("test.")]) >= 20, out.results
    with pytest.raises(psycopg.errors.UniqueViolation):
        c.execute("insert into intermediate.int_golden_keys select * from intermediate.int_golden_keys limit 1")
    (name, ddl), = c.execute("select indexname, indexdef from pg_indexes where schemaname = 'intermediate'"
                             " and tablename = 'int_golden_keys' and indexdef like 'CREATE UNIQUE%'").fetchall()
    c.execute(f'drop index intermediate."{name}"')
    try:
        c.execute(ddl.replace("CREATE UNIQUE INDEX", "CREATE INDEX"))
        out = dbt_build.run(s, ["test", "--select", "test_name:credit_unique_index"])
        tests = [(node, status) for node, status in out.results if node.startswith("test.")]
        assert [node for node, status in tests if status != "pass"] == [
            node for node, _ in tests if "int_golden_keys" in node]
        assert len([node for node, _ in out.results if "int_golden_keys" in node]) == 1
    finally:
        c.execute(f'drop index if exists intermediate."{name}"')
        c.execute(ddl)
