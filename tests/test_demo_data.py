"""The demo's data feed: every unit through its own channel, late records, and the same decision reported
2–4 times over units and channels (多头报送), with a ground-truth file — in databases and buckets of its own."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import psycopg

from credit_platform import object_store
from credit_platform.catalog.registry import registry
from credit_platform.dev import demo_data, services


def test_feed_reaches_every_channel_and_writes_ground_truth(settings):
    s = dataclasses.replace(settings, pg_database="credit_feedtest", frontend_database="credit_frontend_feedtest",
                            bucket_prefix="feedtest-")
    services.pg_ensure_role_and_db(s)
    services.ensure_buckets(s)
    from credit_platform.ingest import landing_load

    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists online_fill cascade")
    with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname ~ '^(fe|api)_'").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
    c = object_store.client(s)
    for obj in c.list_objects(s.bucket("inbox"), recursive=True):
        c.remove_object(s.bucket("inbox"), obj.object_name)
    landing_load.ensure_schema(s)
    day = date(2026, 11, 20)
    for p in (s.home / f"demo-fed-{s.pg_database}-{day}", demo_data.truth_path(s, day)):
        p.unlink(missing_ok=True)

    fed = demo_data.feed(s, day)
    assert set(fed.by_channel) == {"batch_file", "frontend_db", "api", "online_fill"}
    truth = json.loads(demo_data.truth_path(s, day).read_text(encoding="utf-8"))
    assert truth["records"] == fed.records > 2000 and truth["planted_defects"] > 0 and truth["late_record_ids"]
    copies = [len(v) + 1 for v in truth["duplicate_groups"].values()]
    assert copies and min(copies) >= 2 and max(copies) <= 4
    assert any(n >= 3 for n in copies), "some decisions arrive through three units/channels"

    reg = registry()
    inbox_units = {o.object_name.split("/")[0] for o in c.list_objects(s.bucket("inbox"), recursive=True)}
    assert inbox_units == {u.code for u in reg.units.values() if u.channels[0].channel == "batch_file"}
    with psycopg.connect(s.pg_dsn()) as conn:
        online_units = {r[0] for r in conn.execute("select distinct unit_code from online_fill.entries").fetchall()}
    assert {u.code for u in reg.units.values() if u.channels[0].channel == "online_fill"} <= online_units
    with psycopg.connect(s.pg_dsn(s.frontend_database)) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname ~ '^(fe|api)_'")}
    assert {f"fe_{u.code}" for u in reg.units.values() if u.channels[0].channel == "frontend_db"} <= schemas
    assert {f"api_{u.code}" for u in reg.units.values() if u.channels[0].channel == "api"} <= schemas

    again = demo_data.feed(s, day)  # the same day twice: nothing is fed twice
    assert again.skipped and again.records == 0
