"""Demo stage: reminders over the last weeks, replayed day by day for three units through the real pipeline (batches
landed with back-dated received times), the real obligations model (dbt) and real delivery (ops.notices, outbox).

It runs in a database and buckets of its own (`<database>_reminders_demo`, `demo-reminders-`): the replay needs the
platform to have started weeks ago, and must not put back-dated batches into the demo warehouse.
  ln_forest  sends on day 0 and never again: notice → reminder → escalation to the provincial office;
  ln_smsa    the same, but sends its data again after the reminder: its sequence stops;
  ln_tobacco has a rejected record it corrects after the reminder: no escalation follows.
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import psycopg

from credit_platform import clock
from credit_platform.catalog.registry import registry
from credit_platform.catalog.workdays import add_working_days, is_workday, previous_workday
from credit_platform.dev import services
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.generator import GenSpec, write_csv
from credit_platform.ingest import landing_load
from credit_platform.ingest.pipeline import extract_and_land, ingest_batch
from credit_platform.reminders import engine, obligations
from credit_platform.reminders.rules import LEVEL_ZH, RULE_ZH
from credit_platform.settings import Settings

UNITS = ("ln_forest", "ln_smsa", "ln_tobacco")
ITEMS = ("administrative_license", "administrative_penalty")
HEADER = ("行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,"
          "违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
          "数据来源单位统一社会信用代码")


def _row(decided: date, number: int, valid_until: str) -> str:
    return (f"沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,辽烟罚〔{decided.year}〕{number}号,"
            f"违规,事实,依据,警告,警告,{decided},{valid_until},辽宁省烟草专卖局,11230500001755309F,辽宁省烟草专卖局,"
            "11230500001755309F")


def _land(s: Settings, unit: str, files: dict[str, bytes], day: date) -> None:
    for i, (item, data) in enumerate(files.items()):
        src.drop_in_inbox(s, unit, item, f"{unit}-{day}-{i}.csv", data)
    for landed in extract_and_land(s, unit, "batch_file", received_at=datetime.combine(day, time(9), clock.BEIJING)):
        ingest_batch(s, landed)


def _generated(unit: str, item: str, day: date, seed: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        write_csv(GenSpec(item, 5, seed=seed, defect_rate=0.0, received_on=day,
                          unit_name=registry().unit(unit).name_zh, seq_prefix=f"D{seed}"), path)
        return path.read_bytes()


def _settings(s: Settings) -> Settings:
    return dataclasses.replace(s, pg_database=f"{s.pg_database}_reminders_demo", bucket_prefix="demo-reminders-")


def _replayed_for(d: Settings, today: date) -> bool:
    """The replay up to `today` already ran (and sent its messages): a second `make demo` on the same day must
    not send them again."""
    services.pg_ensure_role_and_db(d)
    with psycopg.connect(d.pg_dsn()) as conn:
        if conn.execute("select to_regclass('ops.demo_replays')").fetchone()[0] is None:
            return False
        return conn.execute("select 1 from ops.demo_replays where replayed_to = %s", (today,)).fetchone() is not None


def _fresh(d: Settings) -> Settings:
    services.pg_ensure_role_and_db(d)
    services.ensure_buckets(d)
    with psycopg.connect(d.pg_dsn(), autocommit=True) as conn:
        for schema in ("landing", "online_fill", "ops", "marts", "reference", "dbt"):
            conn.execute(f"drop schema if exists {schema} cascade")
    landing_load.ensure_schema(d)
    return d


def run(s: Settings, today: date | None = None) -> int:
    today = today or clock.today()
    d = _settings(s)
    day0 = previous_workday(today - timedelta(days=1))
    for _ in range(15):
        day0 = previous_workday(day0 - timedelta(days=1))
    if _replayed_for(d, today):
        print(f"== reminders (催报催改): already replayed from {day0} to {today} for {', '.join(UNITS)} (database"
              f" {d.pg_database}); nothing is sent again. What was sent:")
        _print_sent(d)
        return 0
    d = _fresh(d)
    correct_on = add_working_days(day0, 9)    # ln_tobacco: after its reminder (open problems: day 4)
    resend_on = add_working_days(day0, 12)    # ln_smsa: after its reminder (overdue: day 4)
    print(f"== reminders (催报催改): the last weeks replayed from {day0} to {today} for {', '.join(UNITS)}"
          f" (database {d.pg_database})")
    for n, unit in enumerate(UNITS):
        files = {item: _generated(unit, item, day0, n) for item in ITEMS}
        if unit == "ln_tobacco":
            rows = [HEADER, _row(day0, 1, "2099-12-31"), _row(day0, 2, "2026-02-30")]  # one invalid date
            files["administrative_penalty"] = ("\n".join(rows) + "\n").encode()
        _land(d, unit, files, day0)
    obligations.refresh(d)
    day = day0 + timedelta(days=1)
    while day <= today:
        if day == correct_on:
            fixed = f"{HEADER}\n{_row(day0, 2, '2099-12-31')}\n".encode()
            new = _generated("ln_tobacco", "administrative_license", day, 8)
            _land(d, "ln_tobacco", {"administrative_license": new, "administrative_penalty": fixed}, day)
            obligations.refresh(d)
            print(f"  {day}  ln_tobacco sends back its corrected record (问题数据清单) with its new data")
        if day == resend_on:
            _land(d, "ln_smsa", {item: _generated("ln_smsa", item, day, 9) for item in ITEMS}, day)
            obligations.refresh(d)
            print(f"  {day}  ln_smsa sends its overdue data")
        if is_workday(day):
            result = engine.run(d, now=datetime.combine(day, time(10), clock.BEIJING), units=set(UNITS))
            for m in result.messages:
                if m.already_sent:
                    continue
                ok = "sent" if any(r.key == m.key and r.sent for r in result.delivered) else "NOT SENT"
                print(f"  {day}  {LEVEL_ZH[m.level]}  {m.unit:<11} {RULE_ZH[m.rule]:<8} {m.period:<10}"
                      f" → {', '.join(m.to)}  [{ok}]  {m.title}")
        day += timedelta(days=1)
    with psycopg.connect(d.pg_dsn()) as conn:
        conn.execute("create table ops.demo_replays (replayed_to date primary key, finished_at timestamptz)")
        conn.execute("insert into ops.demo_replays values (%s, now())", (today,))
    _print_sent(d)
    print("  (ln_tobacco and ln_smsa acted after their reminders: no escalation; each message once, logged in"
          " ops.notices; try `credit-platform remind --dry-run --json`)")
    return 0


def _print_sent(d: Settings) -> None:
    with psycopg.connect(d.pg_dsn()) as conn:
        got = conn.execute(
            "select meta->>'unit', meta->>'rule', meta->>'subject',"
            " string_agg(level || ' ' || (sent_at at time zone 'Asia/Shanghai')::date, ', ' order by sent_at)"
            " from ops.notices where meta ? 'rule' and status = 'sent' and key not like '%" + engine.COPY + "'"
            " and key not like '" + engine.BUNDLE + ":%'"
            " group by 1, 2, 3 order by 1, 2, 3").fetchall()
    for unit, rule, subject, levels in got:  # one line per sequence (its subject: item@period, a batch …)
        print(f"  {unit or '-':<11} {RULE_ZH.get(rule, rule):<8} {subject or '':<40} {levels}")
