"""The demo's reminders stage (dev.demo_reminders): a replay of the last weeks for three units, through the real
pipeline, dbt and delivery. Run twice on the same day it sends nothing the second time (`make demo` twice)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import psycopg

from credit_platform.catalog.registry import registry
from credit_platform.dev import demo_reminders, services

TODAY = date(2026, 10, 20)  # the replay starts 16 working days earlier, before National Day


def _notices(s) -> list[tuple]:
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute("select key, recipient, attempts, sent_at, body from ops.notices order by key").fetchall()


def test_the_replay_escalates_lists_only_its_units_and_a_second_run_sends_nothing(settings, capsys):
    s = dataclasses.replace(settings, pg_database="credit_demo_replay_test")
    d = demo_reminders._settings(s)
    with services.pg_superuser_conn(s) as conn:  # a first replay, whatever an earlier run of the suite left
        conn.execute(f"drop database if exists {d.pg_database} with (force)")
    assert demo_reminders.run(s, TODAY) == 0
    first = _notices(d)
    outbox = sorted(p.name for p in s.outbox_dir.glob("*.json"))
    keys = [k for k, *_ in first]
    out = capsys.readouterr().out
    assert "督办" in out
    # the summary has one line per sequence, named by its subject (two items overdue are two lines, not one)
    assert re.search(r"ln_forest\s+逾期未报送\s+administrative_penalty@\S+\s+notice 20", out)
    assert re.search(r"ln_forest\s+逾期未报送\s+administrative_license@\S+\s+notice 20", out)
    office_bodies = [b for k, r, *_, b in first if k.startswith("reminder:ln_forest:overdue_submission:")
                     and k.endswith(":escalation") and r == "ln_credit_office"]
    assert office_bodies
    office_body = office_bodies[0]
    reg = registry()
    # the office's list names the replayed units behind, not the 60-odd units this database never heard of
    assert reg.unit("ln_forest").name_zh in office_body
    assert reg.unit("ln_amr").name_zh not in office_body
    assert any(k.endswith(":escalation:copy") for k in keys)

    assert demo_reminders.run(s, TODAY) == 0
    assert "nothing is sent again" in capsys.readouterr().out
    assert _notices(d) == first
    assert sorted(p.name for p in s.outbox_dir.glob("*.json")) == outbox
