"""`make demo`: run the platform on the embedded default and print what it produced and where."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date

import psycopg

from credit_platform import airflow_env, object_store, services
from credit_platform.settings import ZONES, Settings


def _run_dag(s: Settings, dag_id: str, day: date) -> int:
    env = {**os.environ, **airflow_env.airflow_environ(s)}
    log = s.home / "demo-logs" / f"{dag_id}-{day.isoformat()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        rc = subprocess.call([airflow_env.airflow_bin(), "dags", "test", dag_id, day.isoformat()],
                             env=env, stdout=out, stderr=subprocess.STDOUT)
    state = airflow_env.last_run_state(s, dag_id) if rc == 0 else f"exit {rc}"
    print(f"  {dag_id} {day}: {state}  (log: {log})")
    return 0 if state == "success" else 1


def run(s: Settings) -> int:
    started = time.monotonic()
    print("== services")
    for st in services.up(s):
        print(f"  {st.name}: {st.address} pid={st.pid} data={st.detail}")
    print("== airflow metadata DB")
    airflow_env.migrate(s)
    print(f"  AIRFLOW_HOME={s.airflow_home}")
    print("== DAG runs (airflow dags test)")
    failures = _run_dag(s, "walking_skeleton", date.today())
    print("== object store (s3://" + s.s3_endpoint + ")")
    c = object_store.client(s)
    for zone in ZONES:
        objs = list(c.list_objects(s.bucket(zone), recursive=True))
        print(f"  {s.bucket(zone):<12} {len(objs):>5} objects" + (f"  e.g. {objs[-1].object_name}" if objs else ""))
    print("== warehouse (" + s.pg_dsn().split("@")[1] + ")")
    with psycopg.connect(s.pg_dsn()) as conn:
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('landing','staging','intermediate','marts') order by 1, 2"
        ).fetchall():
            n = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema}.{table}: {n} rows")
    print(f"== notices (outbox {s.outbox_dir})")
    for path in sorted(s.outbox_dir.glob("*.json"))[-5:]:
        print(f"  {path.name}")
    print(f"== done in {time.monotonic() - started:.0f}s" + ("" if not failures else f", {failures} DAG run(s) FAILED"))
    return 1 if failures else 0
