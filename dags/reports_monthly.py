"""Monthly reports to the credit offices (政府机构失信被执行人专项治理通报, 严重失信台账通报, 信源单位数据质量通报,
城市信用考核表) for the month before, on the first working day of each month on China's official calendar.

The cron fires at 09:00 Beijing on days 1–12; a short-circuit skips the days before the month's first working day
(holidays such as National Day push it to Oct 8). The run then needs a fresh `warehouse.marts` Asset (a warehouse
build after the month closed), rebuilds the report models, writes every report once to s3://reports/… and
delivers each through the delivery log: a rerun — or the next day's run — sends nothing twice and retries only
what failed."""

from __future__ import annotations

from airflow.sdk import dag, task

from credit_platform.orchestration.assets import MARTS_ASSET
from credit_platform.orchestration.defaults import cron_schedule, dag_kwargs


@dag(
    dag_id="reports_monthly",
    schedule=cron_schedule("0 9 1-12 * *"),
    **dag_kwargs(),
    tags=["reports"],
    doc_md=__doc__,
)
def reports_monthly():
    @task.short_circuit
    def first_working_day_reached(**context) -> bool:
        from credit_platform.orchestration.defaults import interval_day
        from credit_platform.reports import schedule

        return schedule.due(interval_day(context))

    @task(inlets=[MARTS_ASSET])
    def warehouse_fresh(*, inlet_events=None, **context) -> str:
        from airflow.exceptions import AirflowException

        from credit_platform.orchestration.defaults import interval_day
        from credit_platform.reports import schedule

        period = schedule.report_period(interval_day(context))
        events = list(inlet_events[MARTS_ASSET]) if inlet_events is not None else []
        latest = max((e.timestamp for e in events), default=None)
        if latest is None or latest < schedule.period_cutoff(period):
            # fails this run (retried with backoff); the next day's run checks again
            raise AirflowException(f"warehouse.marts not updated since {period} closed (last: {latest});"
                                   " the reports wait for a warehouse build")
        return period

    @task
    def build_models(period: str) -> str:
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.reports import schedule

        schedule.build_report_models(task_settings())
        return period

    @task
    def publish_reports(period: str) -> dict:
        from credit_platform.catalog.registry import registry
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.reports import frames, gate, publish

        s = task_settings()
        out, errors = [], []
        for office in registry().offices:
            for report in frames.REPORTS:
                try:
                    p = publish.publish(s, report, office, period)
                except (frames.ReportError, gate.GateError) as err:  # the others still go out today
                    errors.append(f"{report}/{office}: {err}")
                    continue
                out.append({"report": p.report, "office": p.office, "period": p.period, "keys": p.keys,
                            "status": p.status, "title_zh": p.title_zh, "figures": p.figures})
        return {"published": out, "errors": errors}

    @task
    def deliver_reports(batch: dict) -> dict:
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.reports import publish

        s = task_settings()
        results = [publish.deliver(s, publish.Published(**p)) for p in batch["published"]]
        failed = [r.key for r in results if not r.sent]
        summary = {"sent_now": sum(r.sent_now for r in results),
                   "already_sent": sum(r.sent and not r.sent_now for r in results), "failed": failed,
                   "not_published": batch["errors"]}
        if failed or batch["errors"]:
            raise RuntimeError(f"{len(failed)} deliveries failed (recorded in ops.notices, retried by the next run),"
                               f" {len(batch['errors'])} reports not published: {failed[:5]} {batch['errors'][:5]}")
        return summary

    period = warehouse_fresh()
    first_working_day_reached() >> period
    deliver_reports(publish_reports(build_models(period)))


reports_monthly()
