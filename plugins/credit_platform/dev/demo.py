"""`make demo`: run the platform on the embedded default and print what it produced and where."""

from __future__ import annotations

import time

import psycopg

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import registry
from credit_platform.dev import airflow_env, demo_reports, services
from credit_platform.ingest import landing_load
from credit_platform.settings import ZONES, Settings


def _ingest_all(s: Settings) -> tuple[int, list[str]]:
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    mod = load_dag_module("ingest_units")
    failed = []
    units = list(registry().units.values())
    for i, unit in enumerate(units, 1):
        run = run_dag(mod.build(unit))
        if run.state != "success":
            failed.append(unit.code)
        print(f"\r  ingest__{unit.code:<24} {i:>3}/{len(units)} {run.state}", end="", flush=True)
    print()
    return len(units), failed


def _unit_table(s: Settings) -> None:
    reg = registry()
    tables = list(catalog().items)
    late_sql = " union all ".join(f"select unit_code, on_time from landing.{t}" for t in tables)
    with psycopg.connect(s.pg_dsn()) as conn:
        ledger = {r[0]: r[1:] for r in conn.execute(
            "select unit_code, count(*), sum(rows), sum(accepted), sum(rejected),"
            " count(*) filter (where status = 'rejected') from landing.batches group by 1").fetchall()}
        late = dict(conn.execute(f"select unit_code, count(*) filter (where on_time = false) from ({late_sql}) x"
                                 " group by 1").fetchall())
        dup_sql = " union all ".join(f"select natural_key_hash, unit_code from landing.{t}" for t in tables)
        dups, units_dups = conn.execute(
            f"select count(*), count(*) filter (where units > 1) from (select natural_key_hash,"
            f" count(distinct unit_code) as units from ({dup_sql}) x group by 1 having count(*) > 1) d").fetchone()
    print(f"  {'unit':<22} {'channel':<12} {'batches':>7} {'received':>8} {'loaded':>7} {'rejected':>8}"
          f" {'late':>5}  name")
    totals = [0, 0, 0, 0, 0]
    for code, unit in reg.units.items():
        n, rows, acc, rej, _bad = ledger.get(code, (0, 0, 0, 0, 0))
        lt = late.get(code, 0)
        for i, v in enumerate((n, rows, acc, rej, lt)):
            totals[i] += v or 0
        print(f"  {code:<22} {unit.channels[0].channel:<12} {n:>7} {rows or 0:>8} {acc or 0:>7} {rej or 0:>8}"
              f" {lt:>5}  {unit.name_zh}")
    print(f"  {'TOTAL':<22} {'':<12} {totals[0]:>7} {totals[1]:>8} {totals[2]:>7} {totals[3]:>8} {totals[4]:>5}")
    print(f"  decisions loaded more than once (多头报送): {dups}, of which by more than one unit: {units_dups}"
          " — one golden record each is the warehouse's job")


def run(s: Settings) -> int:
    started = time.monotonic()
    print("== services")
    for st in services.up(s):
        print(f"  {st.name}: {st.address} pid={st.pid} data={st.detail}")
    print("== airflow metadata DB")
    airflow_env.migrate(s)
    airflow_env.apply(s)  # this process runs the DAGs with dag.test()
    print(f"  AIRFLOW_HOME={s.airflow_home}")
    landing_load.ensure_schema(s)

    from credit_platform.dev import demo_data, demo_history, simulated_sources

    api = simulated_sources.start_api_server(s)
    print(f"== source systems (stand-ins): API on {s.source_api_base}, front-end DB {s.frontend_database}")
    fed = demo_data.feed(s, clock.today())
    if fed.skipped:
        print("  today's demo data were fed by an earlier run: running the DAGs again on the same input")
    else:
        print(f"  fed {fed.records} records by channel {fed.by_channel}; planted defects {fed.planted},"
              f" late {fed.late}, copies of decisions on other channels/units {fed.duplicates},"
              f" plus one corrupt upload; ground truth in {demo_data.truth_path(s, clock.today())}")
    print("== history: the two previous months replayed through the same ingestion code")
    print("  " + demo_history.replay(s).describe())
    print("== ingest DAGs (dag.test, one per source unit)")
    n, failed = _ingest_all(s)
    api.shutdown()
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    print("== warehouse build (triggered by the landing Assets in production; dbt build on the landing sources)")
    wh = run_dag(load_dag_module("warehouse_build").warehouse_build())
    print(f"  warehouse_build: {wh.state}")
    if wh.state == "success":
        demo_history.summary(s)
    from credit_platform.dev import demo_reminders
    demo_reminders.run(s)
    reports_ok = demo_reports.run(s)
    print("== per source unit (landing.batches)")
    _unit_table(s)
    print("== object store (s3://" + s.s3_endpoint + ")")
    c = object_store.client(s)
    for zone in ZONES:
        objs = list(c.list_objects(s.bucket(zone), recursive=True))
        print(f"  {s.bucket(zone):<12} {len(objs):>5} objects" + (f"  e.g. {objs[-1].object_name}" if objs else ""))
    print(f"  feedback workbooks (问题数据清单): s3://{s.bucket('feedback')}/<unit>/<item>/dt=…/<batch>-问题数据清单.xlsx")
    print(f"== notices (outbox {s.outbox_dir})")
    files = sorted(s.outbox_dir.glob("*.json"))
    print(f"  {len(files)} notices; newest: {files[-1].name if files else '-'}")
    ok = not failed and wh.state == "success" and reports_ok
    print(f"== done in {time.monotonic() - started:.0f}s: {n} ingest DAG runs"
          + ("" if ok else f"; FAILED: {failed or ''} warehouse_build={wh.state}"))
    return 0 if ok else 1
