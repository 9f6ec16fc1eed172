"""`make demo`: run the platform on the embedded default and print what it produced and where.

On a terminal the DAG stage draws a progress bar; in a log file (not a TTY) it writes one plain line per DAG.
Each stage is one call in `run()`; a stage of another package adds one line there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import psycopg
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import Unit, registry
from credit_platform.dev import airflow_env, demo_reports, services
from credit_platform.ingest import landing_load
from credit_platform.settings import ZONES, Settings

CHANNEL_SHORT_ZH = {"batch_file": "文件上传", "frontend_db": "前置机", "api": "API", "online_fill": "在线填报"}


def _console() -> Console:
    # a log file gets plain text wide enough for the tables (rich would assume 80 columns)
    return Console(highlight=False) if sys.stdout.isatty() else Console(width=140, no_color=True, highlight=False)


def heading(text: str) -> None:
    print(f"== {text}", flush=True)


def run_ingest(s: Settings, units: Iterable[Unit]) -> tuple[int, list[str]]:
    """The DAG stage: one `dag.test()` run per unit's ingest DAG; returns (runs, failed unit codes)."""
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    mod = load_dag_module("ingest_units")
    units = list(units)
    failed: list[str] = []
    tty = sys.stdout.isatty()
    with Progress(TextColumn("  {task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_console(), disable=not tty, transient=False) as bar:
        task = bar.add_task("ingest DAGs", total=len(units))
        for i, unit in enumerate(units, 1):
            bar.update(task, description=f"ingest__{unit.code}")
            state = run_dag(mod.build(unit)).state
            if state != "success":
                failed.append(unit.code)
            bar.advance(task)
            if not tty:
                print(f"  ingest__{unit.code:<26} {i:>3}/{len(units)}  {state}", flush=True)
            elif state != "success":
                bar.console.print(f"  ingest__{unit.code}: {state}")
    return len(units), failed


def unit_table(s: Settings, day=None) -> dict[str, int]:
    """Today's batches per unit, every channel of the unit, totals; returns the received count per channel."""
    day = day or clock.today()
    reg = registry()
    tables = list(catalog().items)
    today = ("(received_at at time zone 'Asia/Shanghai')::date = %s")
    late_sql = " union all ".join(f"select unit_code, on_time, received_at from landing.{t}" for t in tables)
    with psycopg.connect(s.pg_dsn()) as conn:
        ledger = {r[0]: r[1:] for r in conn.execute(
            f"select unit_code, count(*), sum(rows), sum(accepted), sum(rejected),"
            f" count(*) filter (where batch_error_reason is not null) from landing.batches where {today} group by 1",
            (day,)).fetchall()}
        by_channel = dict(conn.execute(f"select channel, sum(rows) from landing.batches where {today} group by 1",
                                       (day,)).fetchall())
        late = dict(conn.execute(f"select unit_code, count(*) filter (where on_time = false) from ({late_sql}) x"
                                 f" where {today} group by 1", (day,)).fetchall())
        dup_sql = " union all ".join(f"select natural_key_hash, unit_code from landing.{t}" for t in tables)
        dups, units_dups = conn.execute(
            f"select count(*), count(*) filter (where units > 1) from (select natural_key_hash,"
            f" count(distinct unit_code) as units from ({dup_sql}) x group by 1 having count(*) > 1) d").fetchone()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)
    headers = ["单位代码", "报送渠道", "批次", "接收", "入库", "拒收", "整批拒收", "迟报", "单位名称"]
    totals = [0] * 6
    rows = []
    for code, unit in reg.units.items():
        n, received, acc, rej, whole = (int(v or 0) for v in ledger.get(code, (0, 0, 0, 0, 0)))
        values = (n, received, acc, rej, whole, int(late.get(code, 0)))
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        channels = "+".join(CHANNEL_SHORT_ZH[c.channel] for c in unit.channels)
        rows.append([code, channels, *map(str, values), unit.name_zh])
    footer = ["合计", "", *map(str, totals), f"{len(rows)} 个单位"]
    for i, (h, f) in enumerate(zip(headers, footer, strict=True)):
        table.add_column(h, footer=f, justify="right" if 2 <= i <= 7 else "left", no_wrap=True)
    for r in rows:
        table.add_row(*r)
    _console().print(table)
    print(f"  decisions loaded more than once (多头报送): {dups}, of which by more than one unit: {units_dups}"
          " — one golden record each is the warehouse's job")
    return {k: int(v or 0) for k, v in by_channel.items()}


def reconcile(fed, received_by_channel: dict[str, int]) -> bool:
    """The table's received column against what the stand-ins were fed, channel by channel."""
    if fed.skipped:
        print(f"  received today by channel: {received_by_channel} (fed by an earlier run)")
        return True
    ok = received_by_channel == fed.by_channel
    print(f"  received {sum(received_by_channel.values())} = fed {fed.records}: "
          + ("yes, per channel too" if ok else f"NO — received {received_by_channel}, fed {fed.by_channel}"))
    return ok


def object_store_summary(s: Settings) -> None:
    heading(f"object store (s3://{s.s3_endpoint})")
    c = object_store.client(s)
    for zone in ZONES:
        objs = list(c.list_objects(s.bucket(zone), recursive=True))
        print(f"  {s.bucket(zone):<12} {len(objs):>5} objects" + (f"  e.g. {objs[-1].object_name}" if objs else ""))
    print(f"  feedback workbooks (问题数据清单): s3://{s.bucket('feedback')}/<unit>/<item>/dt=…/<batch>-问题数据清单.xlsx")


class _MonthlyFeed:
    """Scenario batches landed in arrival order, up to a given month (a second demo lands them again: unchanged
    bytes, already in the raw zone)."""

    def __init__(self, s: Settings, batches: list) -> None:
        self.s, self.pending, self.fed = s, sorted(batches, key=lambda b: b[2]), 0

    def feed_before(self, month: date | None) -> int:
        from credit_platform.dev import report_scenario

        end = None if month is None else datetime(month.year, month.month, 1, tzinfo=clock.BEIJING)
        due = [b for b in self.pending if end is None or b[2] < end]
        self.pending = self.pending[len(due):]
        self.fed += len(report_scenario.feed(self.s, due)) if due else 0
        return len(due)


def _month_end_build(s: Settings, month: date) -> bool:
    """The warehouse build at the end of a replayed month (the nightly build then): the case snapshot records the
    month's end state, so the snapshot, too, answers "as of the end of that month"."""
    from credit_platform.warehouse.dbt_build import build_warehouse

    out = build_warehouse(s)
    result = "success" if out.success else f"FAILED {out.failed()}"
    print(f"  end of {month:%Y-%m}: warehouse build (the nightly build then): {result}")
    return out.success


def run(s: Settings) -> int:
    started = time.monotonic()
    if any(st.running for st in services.airflow_status(s) if st.name == "airflow-scheduler"):
        # dag.test() runs share the metadata DB with it, and the scheduler would run their tasks a second time
        print("the scheduler of `make up` is running on this metadata database: stop it first (`make down`),"
              " or trigger the DAGs in its UI", file=sys.stderr)
        return 1
    heading("services")
    for st in services.up(s):
        print(f"  {st.name}: {st.address} pid={st.pid} data={st.detail}")
    heading("airflow metadata DB")
    airflow_env.migrate(s)
    airflow_env.apply(s)  # this process runs the DAGs with dag.test()
    print(f"  database {airflow_env.airflow_database(s)} on {s.pg_host}:{s.pg_port}; AIRFLOW_HOME={s.airflow_home}")
    landing_load.ensure_schema(s)

    from credit_platform.dev import demo_data, demo_history, report_scenario

    # the history first: its online-fill pulls would otherwise take today's entries into past months' batches.
    # The reports' hand-computed scenario of 2026-09/10 (dev/report_scenario.py) is fed month by month with it,
    # and the warehouse built at each month's end as the nightly build would have: the case snapshot then holds
    # every month's end state, and the warehouse's case months and the reports' figures read the same cases.
    heading("history: the two previous months replayed through the same ingestion code")
    scenario = _MonthlyFeed(s, report_scenario.october_batches())
    first = demo_history.months(clock.today())[0]
    month_builds = []
    # (a second demo the same day lands nothing new: no month-end builds then)
    if scenario.feed_before(first) and not demo_history.replayed_already(s, clock.today()):
        month_builds.append(_month_end_build(s, first - timedelta(days=1)))

    def month_end(month: date) -> None:
        scenario.feed_before(demo_history.next_month(month))
        month_builds.append(_month_end_build(s, month))

    print("  " + demo_history.replay(s, after_month=month_end).describe())
    scenario.feed_before(None)
    print(f"  and the reports' hand-computed scenario of 2026-09/10: {scenario.fed} batches"
          " (dev/report_scenario.py)")
    api = services.source_api_up(s)  # stays up after the demo (`make down` stops it) for the API units' DAGs
    heading(f"source systems (stand-ins): API on {api.address} (pid {api.pid}), front-end DB {s.frontend_database}")
    fed = demo_data.feed(s, clock.today())
    if fed.skipped:
        print("  today's demo data were fed by an earlier run: running the DAGs again on the same input")
    else:
        print(f"  fed {fed.records} records by channel {fed.by_channel}; with a planted defect {fed.planted}"
              " (copies included: each is rejected, the 拒收 total below),"
              f" late {fed.late} (with their copies {fed.late + fed.late_copies} late records, the 迟报 total"
              f" below), copies of decisions on other channels/units {fed.duplicates},"
              " plus one corrupt upload (the 整批拒收 below);"
              f" ground truth in {demo_data.truth_path(s, clock.today())}")
    heading("ingest DAGs (dag.test, one per source unit)")
    n, failed = run_ingest(s, registry().units.values())
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    heading("warehouse build (triggered by the landing Assets under the scheduler; dbt build on the landing sources)")
    wh = run_dag(load_dag_module("warehouse_build").warehouse_build())
    print(f"  warehouse_build: {wh.state}")
    if wh.state == "success":
        demo_history.summary(s)
    from credit_platform.dev import demo_reminders
    demo_reminders.run(s)
    reports_ok = demo_reports.run(s)
    heading("per source unit, today's batches (landing.batches)")
    adds_up = reconcile(fed, unit_table(s))
    object_store_summary(s)
    heading(f"notices (outbox {s.outbox_dir})")
    files = sorted(s.outbox_dir.glob("*.json"))
    print(f"  {len(files)} notices; newest: {files[-1].name if files else '-'}")
    ok = not failed and wh.state == "success" and all(month_builds) and adds_up and reports_ok
    heading(f"done in {time.monotonic() - started:.0f}s: {n} ingest DAG runs"
            + ("" if ok else f"; FAILED: {failed or ''} warehouse_build={wh.state} month-end builds={month_builds}"
                             f" totals add up={adds_up}"))
    print("  the platform as services, with the scheduler and the UI: make up (stop everything: make down)")
    return 0 if ok else 1
