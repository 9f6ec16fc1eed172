"""Reminders through real channels: a local HTTP endpoint (apprise json://) answering 500, then 200; a target that
stays down alerts the engineers; a DAG task failure alerts them; the daily DAG acts only on working days."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from credit_platform.catalog.registry import registry
from credit_platform.clock import BEIJING
from credit_platform.dev import services
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import load_dag_module, run_dag
from credit_platform.ingest import landing_load
from credit_platform.ingest.pipeline import extract_and_land, ingest_batch
from credit_platform.reminders import engine
from credit_platform.reminders.rules import rules
from tests.test_reminders import BAD, GOOD, HEADER

D0 = date(2026, 9, 16)


class Endpoint(BaseHTTPRequestHandler):
    hits: list[tuple[str, int, dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        flaky_failed = any(p == "/flaky" for p, _, _ in self.hits)
        status = 500 if self.path == "/down" or (self.path == "/flaky" and not flaky_failed) else 200
        self.hits.append((self.path, status, body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def ds(settings, endpoint, tmp_path_factory):
    s = dataclasses.replace(settings, pg_database="credit_reminders_delivery_test", bucket_prefix="rdtest-")
    services.pg_ensure_role_and_db(s)
    services.ensure_buckets(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        for schema in ("landing", "online_fill", "ops"):
            conn.execute(f"drop schema if exists {schema} cascade")
    landing_load.ensure_schema(s)
    for unit in ("ln_tobacco", "ln_smsa"):  # each with one rejected record, never corrected
        src.drop_in_inbox(s, unit, "administrative_penalty", "p.csv", f"{HEADER}\n{GOOD}\n{BAD}\n".encode())
        for landed in extract_and_land(s, unit, "batch_file", received_at=datetime.combine(D0, time(9), BEIJING)):
            ingest_batch(s, landed)
    return s


@pytest.fixture
def channels(monkeypatch, endpoint):
    """ln_tobacco's liaison behind a flaky webhook, ln_smsa's behind one that is down (json:// of apprise)."""
    reg = registry()
    units = dict(reg.units)
    for code, path in (("ln_tobacco", "flaky"), ("ln_smsa", "down")):
        contacts = [c.model_copy(update={"url": f"json://{endpoint}/{path}"}) if c.role == "liaison" else c
                    for c in units[code].contacts]
        units[code] = units[code].model_copy(update={"contacts": contacts})
    monkeypatch.setattr(engine, "registry", lambda: reg.model_copy(update={"units": units}))


def only_open_problems():
    r = rules()
    off = {name: getattr(r.rules, name).model_copy(update={"enabled": False})
           for name in ("overdue_submission", "low_compliance", "silence", "incomplete_key")}
    return r.model_copy(update={"rules": r.rules.model_copy(update=off)})


def row(s, key):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute("select status, attempts, last_error, channel from ops.notices where key = %s",
                            (key,)).fetchone()


def test_http_500_is_recorded_retried_after_backoff_then_sent_and_a_dead_target_alerts(ds, channels):
    s, r, units = ds, only_open_problems(), {"ln_tobacco", "ln_smsa"}
    at = lambda hh, mm: datetime.combine(date(2026, 9, 23), time(hh, mm), BEIJING)  # noqa: E731
    first = engine.run(s, now=at(10, 0), r=r, units=units)
    keys = {m.unit: m.key for m in first.messages}
    assert set(keys) == units and all(m.level == "notice" for m in first.messages)
    status, attempts, error, channel = row(s, keys["ln_tobacco"])
    assert (status, attempts, channel) == ("failed", 1, "json") and "500" in error
    assert [h[:2] for h in Endpoint.hits if h[0] == "/flaky"] == [("/flaky", 500)]

    engine.run(s, now=at(10, 2), r=r, units=units)  # inside the 5-minute backoff: no new attempt
    assert row(s, keys["ln_tobacco"])[:2] == ("failed", 1)
    assert len([h for h in Endpoint.hits if h[0] == "/flaky"]) == 1

    engine.run(s, now=at(10, 6), r=r, units=units)  # retried: the endpoint answers 200 now
    assert row(s, keys["ln_tobacco"])[:2] == ("sent", 2)
    [(_, _, sent_body)] = [h for h in Endpoint.hits if h[0] == "/flaky" and h[1] == 200]
    assert sent_body["title"].startswith("【提醒】") and "问题数据清单" in sent_body["message"]

    third = engine.run(s, now=at(10, 17), r=r, units=units)  # /down failed 3 times → the engineers are told
    assert row(s, keys["ln_smsa"])[:2] == ("failed", 3)
    [alert] = third.alerts
    assert alert.key == f"alert:undeliverable:{keys['ln_smsa']}" and alert.sent
    engine.run(s, now=at(11, 0), r=r, units=units)
    assert row(s, keys["ln_tobacco"])[:2] == ("sent", 2)  # never twice
    with psycopg.connect(s.pg_dsn()) as conn:
        assert conn.execute("select count(*) from ops.notices where kind = 'alert'").fetchone()[0] == 1


def test_a_failing_task_alerts_the_platform_engineers(airflow_db):
    from airflow.sdk import dag, task

    from credit_platform.orchestration.defaults import DEFAULT_ARGS, dag_kwargs

    @dag(dag_id="alert_probe", schedule=None, **dag_kwargs(default_args={**DEFAULT_ARGS, "retries": 0}))
    def alert_probe():
        @task
        def explode():
            raise RuntimeError("boom 210102199003077712")  # an ID-shaped value in an error must not leak

        explode()

    run = run_dag(alert_probe())
    assert run.state == "failed"
    with psycopg.connect(airflow_db.pg_dsn()) as conn:
        rows = conn.execute("select status, title, body from ops.notices where kind = 'alert'"
                            " and key like 'alert:alert_probe:%%' and key like %s", (f"%{run.run_id}%",)).fetchall()
    [(status, title, body)] = rows
    assert status == "sent" and "alert_probe.explode" in title and "boom" in body
    assert "210102199003077712" not in body


def test_every_dag_alerts_on_failure():
    from credit_platform.orchestration.defaults import on_failure

    for name in ("ingest_units", "warehouse_build", "source_reminders"):
        mod = load_dag_module(name)
        dags = [mod.build(u) for u in list(mod.registry().units.values())[:3]] if name == "ingest_units" else \
            [getattr(mod, name)()]
        for d in dags:
            for t in d.tasks:
                assert on_failure in (t.on_failure_callback if isinstance(t.on_failure_callback, list)
                                      else [t.on_failure_callback]), f"{d.dag_id}.{t.task_id}"


def test_the_daily_dag_acts_only_on_working_days(airflow_db):
    from credit_platform import clock
    from credit_platform.catalog.workdays import is_workday

    run = run_dag(load_dag_module("source_reminders").source_reminders())
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    if is_workday(clock.today()):
        assert states["send_reminders"] == "success"
    else:
        assert states["send_reminders"] == "skipped" and states["refresh_obligations"] == "skipped"


def test_incomplete_keys_go_to_the_office_steward_and_low_compliance_judges_the_last_month(ds):
    from credit_platform.reminders.causes import open_causes

    s = ds
    no_key = GOOD.replace("辽烟罚〔2026〕1号", "")  # 文书号 is part of the natural key: no correction can match it
    src.drop_in_inbox(s, "ln_forest", "administrative_penalty", "k.csv", f"{HEADER}\n{GOOD}\n{no_key}\n".encode())
    for landed in extract_and_land(s, "ln_forest", "batch_file", received_at=datetime.combine(D0, time(9), BEIJING)):
        ingest_batch(s, landed)
    r = rules()
    off = {name: getattr(r.rules, name).model_copy(update={"enabled": False})
           for name in ("overdue_submission", "silence")}
    r = r.model_copy(update={"rules": r.rules.model_copy(update=off)})

    assert engine.plan(s, date(2026, 9, 17), r, {"ln_forest"})[1] == []  # 1 working day allowed
    [m] = engine.plan(s, date(2026, 9, 18), r, {"ln_forest"})[1]
    assert (m.rule, m.level, m.recipient, m.to) == ("incomplete_key", "notice", "ln_credit_office",
                                                    ["ln_credit_office/steward"])
    assert "王敏" in m.body and "行政处罚决定书文号" in m.body and m.facts["records"] == 1
    # it never ages into the unit's open problems, and a single notice is all it gets
    causes = open_causes(s, date(2026, 10, 30), r)
    assert [c.rule for c in causes if c.unit == "ln_forest" and c.rule != "low_compliance"] == ["incomplete_key"]

    # September: ln_forest 1 of 2 records accepted (50%), below 90%; judged from October's first working day
    # (Oct 8, after National Day), and only with enough records (min_records)
    assert [c for c in open_causes(s, date(2026, 9, 30), r) if c.rule == "low_compliance"] == []
    assert [c for c in open_causes(s, date(2026, 10, 8), r) if c.rule == "low_compliance"] == []  # 2 < 20 records
    few = r.model_copy(update={"rules": r.rules.model_copy(update={
        "low_compliance": r.rules.low_compliance.model_copy(update={"min_records": 2})})})
    low = {c.unit: c for c in open_causes(s, date(2026, 10, 8), few) if c.rule == "low_compliance"}
    assert set(low) == {"ln_forest", "ln_tobacco", "ln_smsa"}
    assert (low["ln_forest"].period, low["ln_forest"].opened_on, low["ln_forest"].facts["compliance"]) == (
        "2026-09", date(2026, 10, 8), 0.5)
    [m] = [m for m in engine.plan(s, date(2026, 10, 8), few, {"ln_forest"})[1] if m.rule == "low_compliance"]
    assert m.level == "notice" and "50.0%" in m.title and "90.0%" in m.body
