"""Demo stage: last month's reports for every credit office, produced by the reports_monthly DAG (as on the first
working day of this month) and delivered to the local outbox; prints where they are and a few headline figures.

The demo lands the hand-computed October 2026 history of dev/report_scenario.py before its warehouse build
(through the real gates; landing it again changes nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pendulum
import psycopg

from credit_platform import clock, object_store
from credit_platform.dev import report_scenario
from credit_platform.reports import schedule
from credit_platform.settings import Settings
from credit_platform.warehouse import dbt_build


def run(s: Settings) -> bool:
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    print("== monthly reports (reports_monthly DAG: last month, every credit office, delivered to the outbox)")
    today = clock.today()
    period = schedule.report_period(today)
    # the obligations (完整率) as of the history just landed; the rest of the warehouse is the build's
    dbt_build.run(s, ["run", "--select", "fct_obligations"])
    first = schedule.first_working_day(today.year, today.month)
    print(f"  period {period}: the run of {first} (first working day of the month on the official calendar)")
    started = datetime.now(UTC)
    run = run_dag(load_dag_module("reports_monthly").reports_monthly(),
                  pendulum.datetime(first.year, first.month, first.day, 9, tz="Asia/Shanghai"))
    print(f"  reports_monthly: {run.state}")
    c = object_store.client(s)
    bucket = s.bucket("reports")
    manifests = [o.object_name for o in c.list_objects(bucket, recursive=True)
                 if o.object_name.endswith(".manifest.json") and f"/{period}/" in o.object_name]
    by_report: dict[str, list[dict]] = {}
    for key in sorted(manifests):
        m = json.loads(object_store.get(c, bucket, key))
        by_report.setdefault(m["title_zh"], []).append(m)
    print(f"  {len(manifests)} reports in s3://{bucket}/<report>/<office>/{period}/ (XLSX + HTML + manifest each)")
    for title, ms in by_report.items():
        province = next((m for m in ms if m["office"] == "ln_credit_office"), ms[0])
        key = f"{province['report']}/{province['office']}/{period}/{province['report']}-{province['office']}-{period}"
        print(f"  {title}: {len(ms)} offices, e.g. s3://{bucket}/{key}.html")
        print(f"    {province['headline'][0]}")
    with psycopg.connect(s.pg_dsn()) as conn:
        sent = conn.execute("select status, count(*), count(*) filter (where sent_at >= %s) from ops.notices"
                            " where kind = 'report' and subject_period = %s group by 1 order by 1",
                            (started, period)).fetchall() if conn.execute(
            "select to_regclass('ops.notices')").fetchone()[0] else []
    recorded = {status: n for status, n, _ in sent}
    now = sum(n for _, _, n in sent)
    print(f"  deliveries of {period} (ops.notices, each sent once): {recorded or 'none'}, {now} of them by this run;"
          f" copies in {s.outbox_dir} and {s.home / 'reports-out'}")
    print(f"  on demand: credit-platform report data_quality --period {period} --office ln_credit_office;"
          f" credit-platform indicators --period {period} --unit {report_scenario.UNIT} --json")
    return run.state == "success"
