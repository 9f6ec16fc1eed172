"""Reminders on a replayed timeline (autumn 2026: Mid-Autumn Festival, National Day, the 调休 Saturday 10-10),
through the real pipeline (batches landed with their received time), real dbt (fct_obligations) and real delivery
(ops.notices, the outbox). Each day is run at 10:00 Beijing time as the daily DAG would.

Units: ln_forest sends once (Sep 16) and never again; ln_smsa does the same but sends again on Oct 9, the 4th
working day of its overdue sequence; ln_tobacco's Sep 16 batch has a rejected record that it corrects on Sep 29,
the 4th working day of its open-problems sequence.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from credit_platform.catalog.registry import registry
from credit_platform.clock import BEIJING
from credit_platform.dev import services
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.generator import GenSpec, write_csv
from credit_platform.ingest import landing_load
from credit_platform.ingest.pipeline import extract_and_land, ingest_batch
from credit_platform.reminders import engine
from credit_platform.reminders.rules import rules
from credit_platform.standards.identifiers import resident_id_status
from credit_platform.standards.pii import redact_ids
from credit_platform.warehouse import dbt_build

UNITS = {"ln_forest", "ln_smsa", "ln_tobacco"}
D0 = date(2026, 9, 16)
DAYS = [date(2026, 9, 17) + timedelta(days=i) for i in range(28)]  # to Oct 14
HEADER = ("行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,"
          "违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
          "数据来源单位统一社会信用代码")
GOOD = ("沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,辽烟罚〔2026〕1号,违规,事实,依据,警告,警告,"
        "2026-09-15,2099-12-31,辽宁省烟草专卖局,11230500001755309F,辽宁省烟草专卖局,11230500001755309F")
BAD = GOOD.replace("〔2026〕1号", "〔2026〕2号").replace("2099-12-31", "2026-02-30")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), BEIJING)


def land(s, unit: str, files: dict[str, bytes], day: date) -> None:
    for i, (item, data) in enumerate(files.items()):
        src.drop_in_inbox(s, unit, item, f"{unit}-{day}-{i}.csv", data)
    for landed in extract_and_land(s, unit, "batch_file", received_at=at(day, 9)):
        ingest_batch(s, landed)


def generated(tmp, item: str, unit: str, seed: int) -> bytes:
    path = tmp / f"{unit}-{item}-{seed}.csv"
    write_csv(GenSpec(item, 5, seed=seed, defect_rate=0.0, received_on=D0, unit_name=registry().unit(unit).name_zh,
                      seq_prefix=f"{unit[:3].upper()}{seed}"), path)
    return path.read_bytes()


def q(s, sql: str, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def build_obligations(s) -> None:
    out = dbt_build.build(s, ["obligation_schedule", "fct_obligations"])  # not the report models downstream
    assert out.success, out.failed()


@pytest.fixture(scope="module")
def rs(settings):
    """A database and buckets of its own: the timeline's first batch is the platform's go-live."""
    s = dataclasses.replace(settings, pg_database="credit_reminders_test", bucket_prefix="rtest-")
    services.pg_ensure_role_and_db(s)
    services.ensure_buckets(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        for schema in ("landing", "online_fill", "ops", "marts", "reference", "dbt"):
            conn.execute(f"drop schema if exists {schema} cascade")
    landing_load.ensure_schema(s)
    return s


@pytest.fixture(scope="module")
def timeline(rs, tmp_path_factory):
    s, tmp = rs, tmp_path_factory.mktemp("timeline")
    s.outbox_dir.mkdir(parents=True, exist_ok=True)
    earlier = set(s.outbox_dir.glob("*.json"))  # the outbox outlives the test database
    for n, unit in enumerate(sorted(UNITS)):
        files = {item: generated(tmp, item, unit, n) for item in ("administrative_license", "administrative_penalty")}
        if unit == "ln_tobacco":  # one good and one rejected penalty record
            files["administrative_penalty"] = f"{HEADER}\n{GOOD}\n{BAD}\n".encode()
        land(s, unit, files, D0)
    build_obligations(s)
    runs: dict[date, engine.RunResult] = {}
    for day in DAYS:
        if day == date(2026, 9, 29):   # ln_tobacco sends the corrected record back before the run
            land(s, "ln_tobacco", {"administrative_penalty": f"{HEADER}\n{BAD.replace('2026-02-30', '2099-12-31')}\n"
                                   .encode()}, day)
        if day == date(2026, 10, 9):   # ln_smsa finally sends its data
            land(s, "ln_smsa", {item: generated(tmp, item, "ln_smsa", 9)
                                for item in ("administrative_license", "administrative_penalty")}, day)
            build_obligations(s)
        if day == date(2026, 10, 12):  # before office hours: nothing goes out yet
            early = engine.run(s, now=at(day, 7), units=UNITS)
            assert not early.acting and early.delivered == [] and "office hours" in early.reason
        runs[day] = engine.run(s, now=at(day), units=UNITS)
    return s, runs, sorted(set(s.outbox_dir.glob("*.json")) - earlier)


def sent(s) -> dict[tuple[str, str, str, str], date]:
    rows = q(s, "select meta->>'unit', meta->>'rule', meta->>'subject', level,"
                " (sent_at at time zone 'Asia/Shanghai')::date from ops.notices where kind in ('reminder', 'escalation')"
                " and status = 'sent' and key not like 'reminder-bundle:%%'")  # a bundle's parts are recorded too
    return {(u, r, subj, lv): d for u, r, subj, lv, d in rows}


def test_overdue_notice_day1_reminder_day3_escalation_day6_across_national_day(timeline):
    s, *_ = timeline
    got = sent(s)
    # ln_forest's Sep 17 obligations fall due 7 working days later, on Sep 28 (Sep 20 is a 调休 Sunday worked,
    # Sep 25 the Mid-Autumn Festival): working day 1 of the overdue is Sep 29.
    for item in ("administrative_license", "administrative_penalty"):
        subject = f"{item}@2026-09-17"
        assert got[("ln_forest", "overdue_submission", subject, "notice")] == date(2026, 9, 29)
        # day 3 is Oct 8, after the National Day holiday (Oct 1–7), not Oct 1
        assert got[("ln_forest", "overdue_submission", subject, "reminder")] == date(2026, 10, 8)
        # day 6 is Oct 12: the 调休 Saturday Oct 10 counts as a working day, Sunday Oct 11 does not
        assert got[("ln_forest", "overdue_submission", subject, "escalation")] == date(2026, 10, 12)


def test_sending_the_data_on_day4_stops_the_sequence(timeline):
    s, *_ = timeline
    smsa = {k[2:]: d for k, d in sent(s).items() if k[0] == "ln_smsa" and k[1] == "overdue_submission"}
    assert smsa == {("administrative_license@2026-09-17", "notice"): date(2026, 9, 29),
                    ("administrative_license@2026-09-17", "reminder"): date(2026, 10, 8),
                    ("administrative_penalty@2026-09-17", "notice"): date(2026, 9, 29),
                    ("administrative_penalty@2026-09-17", "reminder"): date(2026, 10, 8)}


def test_a_correction_on_day4_stops_the_open_problems_sequence(timeline):
    s, *_ = timeline
    [(first,)] = q(s, "select batch_id from landing.batches where unit_code = 'ln_tobacco' and rejected > 0")
    assert q(s, "select corrected_by_batch is not null from landing.rejections where batch_id = %s", first) == [(True,)]
    tob = {k[3]: d for k, d in sent(s).items() if k[:3] == ("ln_tobacco", "open_problems", first)}
    # received Sep 16, 5 working days to correct: open from Sep 23; the reminder skips the Mid-Autumn Festival
    # (Sep 25) and the weekend to Sep 28; corrected on Sep 29 (day 4): no escalation on Oct 8
    assert tob == {"notice": date(2026, 9, 23), "reminder": date(2026, 9, 28)}
    # the title names the batch's day: a unit with several problem batches can tell its messages apart
    titles = [t for (t,) in q(s, "select title from ops.notices where key like %s order by sent_at",
                              f"reminder:ln_tobacco:open_problems:{first}:%")]
    assert titles and all("（9月16日报送）问题数据" in t for t in titles)


def test_silence_and_a_worked_saturday(timeline):
    s, runs, _ = timeline
    got = {k[3]: d for k, d in sent(s).items() if k[:2] == ("ln_forest", "silence")}
    # last batch in the week of Sep 14; two silent weeks (Sep 21, Sep 28): opens on the first working day after,
    # Oct 8; the reminder two working days later is the 调休 Saturday Oct 10, the escalation Oct 14
    assert got == {"notice": date(2026, 10, 8), "reminder": date(2026, 10, 10), "escalation": date(2026, 10, 14)}
    assert not any(k[:2] == ("ln_smsa", "silence") and k[3] != "notice" for k in sent(s))
    for day in (date(2026, 10, 1), date(2026, 10, 7), date(2026, 10, 11)):  # holiday, holiday, Sunday
        assert not runs[day].acting and runs[day].delivered == [] and "not a working day" in runs[day].reason


def test_escalation_goes_to_the_office_with_every_unit_behind_and_to_the_unit_without_the_others(timeline):
    s, _, outbox_files = timeline
    key = "reminder:ln_forest:overdue_submission:administrative_penalty@2026-09-17:escalation"
    [(recipient, to, title, body)] = q(
        s, "select recipient, meta->'to', title, body from ops.notices where kind = 'escalation' and key = %s", key)
    assert recipient == "ln_credit_office"
    assert to == ["ln_credit_office/office"]
    reg = registry()
    assert reg.unit("ln_forest").name_zh in body and reg.unit("ln_tobacco").name_zh in body  # both behind
    assert reg.unit("ln_smsa").name_zh not in body  # caught up on Oct 9
    assert "行政处罚信息" in body and "2026-09-28" in body
    # the unit's copy (抄送): the same letter, without what other units have not done
    [(copy_recipient, copy_to, copy_title, copy_body)] = q(
        s, "select recipient, meta->'to', title, body from ops.notices where key = %s", key + ":copy")
    assert (copy_recipient, copy_to, copy_title) == ("ln_forest", ["ln_forest/liaison", "ln_forest/leader"], title)
    assert reg.unit("ln_forest").name_zh in copy_body and "2026-09-28" in copy_body
    assert reg.unit("ln_tobacco").name_zh not in copy_body and "未解决事项" not in copy_body
    # delivered for real: the local outbox got it once for each of the three addressees
    outbox = [json.loads(p.read_text(encoding="utf-8")) for p in outbox_files]
    assert sorted(m["recipient"] for m in outbox if m["title"] == title) == [
        "ln_credit_office", "ln_forest", "ln_forest-leader"]
    assert [m["body"] for m in outbox if m["title"] == title and m["recipient"] != "ln_credit_office"] == [
        copy_body, copy_body]


def test_a_rerun_of_the_same_day_or_the_whole_timeline_sends_nothing_twice(timeline):
    s, runs, _ = timeline
    before = q(s, "select key, attempts, sent_at from ops.notices order by key")
    # every send is one row; a bundle's parts are recorded with it (attempts 0: never sent alone)
    assert sum(len(r.sent_now) for r in runs.values()) == len(
        [b for b in before if b[0].startswith(("reminder:", "reminder-bundle:")) and b[1] > 0])
    assert any(b[0].startswith("reminder-bundle:") for b in before)
    again = engine.run(s, now=at(date(2026, 10, 12), 15), units=UNITS)
    assert again.acting and again.messages and all(m.already_sent for m in again.messages)
    assert again.sent_now == []
    for day in DAYS:
        assert engine.run(s, now=at(day, 11), units=UNITS).sent_now == []
    assert q(s, "select key, attempts, sent_at from ops.notices order by key") == before


def test_no_message_contains_a_clear_id_number(timeline):
    s, *_ = timeline
    id_like = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
    rows = q(s, "select title || ' ' || body || ' ' || meta::text from ops.notices")
    assert len(rows) >= 20
    for (text,) in rows:
        assert redact_ids(text) == text  # nothing even shaped like an ID number (standards.pii)
        assert [m for m in id_like.findall(text) if resident_id_status(m) == "ok"] == []
    # the ledgered records did carry natural persons' IDs: the generator plants them
    assert q(s, "select count(*) from landing.administrative_penalty where cf_xdr_zjhm_hash is not null")[0][0] > 0


def test_dry_run_json_names_unit_rule_level_period_targets_and_what_is_behind(timeline):
    s, *_ = timeline
    r = engine.run(s, now=at(date(2026, 10, 13)), dry_run=True, units=UNITS)
    assert not r.acting and r.delivered == [] and r.reason == "dry run: nothing sent"
    # on a day off a dry run says that a real run would send nothing either (National Day)
    off = engine.run(s, now=at(date(2026, 10, 5)), dry_run=True, units=UNITS)
    assert off.reason.startswith("dry run: nothing sent (nor would a real run now: 2026-10-05 is not a working day")
    causes, _ = engine.plan(s, date(2026, 10, 13), rules(), UNITS)
    assert {(c.unit, c.rule) for c in causes} >= {("ln_forest", "overdue_submission"), ("ln_forest", "silence")}
    # a fresh as-of with nothing sent yet shows the notices due that day, with the obligations behind them
    _, fresh = engine.plan(s, date(2026, 9, 29), rules(), {"ln_forest"})
    j = [m.as_json() for m in fresh if m.rule == "overdue_submission"]
    assert j == [] or all(m["level"] for m in j)
