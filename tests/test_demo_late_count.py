"""The demo's lateness and rejections equal its ground truth: every record the demo planted late (and every copy of one sent
again by another unit or channel) is flagged `on_time = false`, and nothing else is — whatever weekday the
demo runs on (a Saturday run counts Friday deadlines as passed). In a database and buckets of its own."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import psycopg

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import registry
from credit_platform.dev import demo_data, services
from credit_platform.dev import simulated_sources as src
from credit_platform.ingest import landing_load
from credit_platform.ingest.pipeline import extract_and_land, ingest_batch


def test_the_demo_late_count_equals_its_ground_truth(settings):
    s = dataclasses.replace(settings, pg_database="credit_latetest", frontend_database="credit_frontend_latetest",
                            bucket_prefix="latetest-")
    services.pg_ensure_role_and_db(s)
    services.ensure_buckets(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        for schema in ("landing", "online_fill", "ops"):
            conn.execute(f"drop schema if exists {schema} cascade")
    with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname ~ '^(fe|api)_'").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
    c = object_store.client(s)
    for zone in ("inbox", "raw", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    landing_load.ensure_schema(s)
    day = clock.today()  # the pipeline dates batches by today's Beijing date: the demo is fed for today
    for p in (s.home / f"demo-fed-{s.pg_database}-{day}", demo_data.truth_path(s, day)):
        p.unlink(missing_ok=True)
    demo_data.feed(s, day)
    truth = json.loads(demo_data.truth_path(s, day).read_text(encoding="utf-8"))

    def ingest(unit) -> None:  # the ingest DAG's two steps (the DAGs themselves run in test_feedback_loop)
        for ch in unit.channels:
            for landed in extract_and_land(s, unit.code, ch.channel):
                ingest_batch(s, landed)

    api = src.start_api_server(s)
    try:  # units are independent, and each mostly waits on the services: four at a time
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(ingest, registry().units.values()))
    finally:
        api.shutdown()

    union = " union all ".join(f"select on_time from landing.{i.table}" for i in catalog().items.values())
    with psycopg.connect(s.pg_dsn()) as conn:
        late, = conn.execute(f"select count(*) filter (where on_time = false) from ({union}) x").fetchone()
        received, = conn.execute("select sum(rows) from landing.batches").fetchone()
    assert truth["late_record_ids"] and late == truth["late_records_loaded"]
    assert received == truth["records"]  # the online-fill twins included: they are fed like any record
    # every record with a planted defect (and every copy of one) is rejected, and nothing else but the one
    # corrupt upload, the demo's only batch refused whole
    with psycopg.connect(s.pg_dsn()) as conn:
        record_rejects, = conn.execute(
            "select sum(rejected) from landing.batches where batch_error_reason is null").fetchone()
        whole = conn.execute("select unit_code from landing.batches where batch_error_reason is not null").fetchall()
    assert record_rejects == truth["planted_defects"]
    assert whole == [("ln_hurd",)]
