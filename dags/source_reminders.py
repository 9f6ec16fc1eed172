"""Source reminders (催报催改): every day at 09:00 Beijing time, acting only on working days of the official
calendar. Refreshes the obligations (dbt), then sends the notices, reminders and escalations due today
(contracts/reminder_rules.yaml) through the delivery log: a rerun or a retry of the task sends nothing twice, a
failed send is retried by the next run after its backoff, and a target that stays undeliverable alerts the
engineers. A run for a past day (backfill, clear of an old run) sends nothing: `credit-platform remind --dry-run
--on DAY` shows what that day would have sent."""

from __future__ import annotations

from airflow.sdk import dag, task

from credit_platform.orchestration.defaults import cron_schedule, dag_kwargs, interval_day


@dag(
    dag_id="source_reminders",
    schedule=cron_schedule("0 9 * * *"),
    **dag_kwargs(),
    tags=["reminders", "notify"],
    doc_md=__doc__,
)
def source_reminders():
    @task.short_circuit
    def working_day_today(**context) -> bool:
        from credit_platform import clock
        from credit_platform.catalog.workdays import is_workday

        day = interval_day(context)
        if day != clock.today():
            print(f"run for {day}, not today ({clock.today()}): past days are not re-sent")
            return False
        return is_workday(day)

    @task
    def refresh_obligations() -> int:
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.reminders import obligations

        return obligations.refresh(task_settings())

    @task
    def send_reminders() -> dict:
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.reminders import engine

        result = engine.run(task_settings())
        failed = [d.key for d in result.delivered if not d.sent]
        summary = {"as_of": str(result.as_of), "acting": result.acting, "reason": result.reason,
                   "due": len(result.messages), "sent": len(result.sent_now), "failed": failed,
                   "alerts": len(result.alerts)}
        print(summary)
        return summary

    working_day_today() >> refresh_obligations() >> send_reminders()


source_reminders()
