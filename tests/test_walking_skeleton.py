"""The walking skeleton, run for real with dag.test(): S3 raw zone, pandera, COPY, dbt, apprise."""

from __future__ import annotations

import hashlib
import json

import pendulum
import psycopg

from credit_platform import object_store, skeleton
from tests.conftest import run_dag

DAY = pendulum.datetime(2026, 11, 20, tz="UTC")


def _dag():
    import importlib

    from credit_platform.settings import REPO_ROOT

    spec = importlib.util.spec_from_file_location("walking_skeleton_dag", REPO_ROOT / "dags" / "walking_skeleton.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.walking_skeleton()


def _landing_rows(settings, bid):
    with psycopg.connect(settings.pg_dsn()) as conn:
        return conn.execute(
            "select record_no, subject_uscc, fine_wan_yuan from landing.skeleton_penalties where batch_id = %s"
            " order by record_no", (bid,)).fetchall()


def test_skeleton_dag_lands_validates_loads_builds_and_notifies(airflow_db):
    settings = airflow_db
    before = set(settings.outbox_dir.glob("*.json")) if settings.outbox_dir.exists() else set()
    data = skeleton.sample_csv(DAY.date())
    bid = skeleton.batch_id(data)

    run = run_dag(_dag(), DAY)
    assert run.state == "success"

    c = object_store.client(settings)
    raw_key = f"skeleton/demo_unit/dt=2026-11-20/{bid}.csv"
    assert object_store.get(c, settings.bucket("raw"), raw_key) == data
    manifest = json.loads(object_store.get(c, settings.bucket("raw"), raw_key + ".manifest.json"))
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["bytes"] == len(data)

    rows = _landing_rows(settings, bid)
    assert len(rows) == 3
    assert {r[1][:2] for r in rows} == {"91", "11"}

    with psycopg.connect(settings.pg_dsn()) as conn:
        staged = conn.execute(
            "select count(*) from staging.stg_skeleton__penalties where batch_id = %s", (bid,)).fetchone()[0]
    assert staged == 3

    new = sorted(set(settings.outbox_dir.glob("*.json")) - before)
    notices = [json.loads(p.read_text(encoding="utf-8")) for p in new]
    ours = [n for n in notices if n["recipient"] == "credit-office" and bid in n["body"]]
    assert ours, f"no notice for batch {bid} in {new}"
    assert "已入库 3 条" in ours[0]["body"]

    # A rerun for the same interval changes nothing: same object, same rows.
    again = run_dag(_dag(), DAY)
    assert again.state == "success"
    assert _landing_rows(settings, bid) == rows
    assert len(list(c.list_objects(settings.bucket("raw"), prefix="skeleton/demo_unit/dt=2026-11-20/"))) == 2
