"""Defaults every DAG shares: owner, retries with backoff, the failure callback, interval helpers."""

from __future__ import annotations

import logging
from datetime import date, timedelta

log = logging.getLogger(__name__)

OWNER = "credit-data-platform"


def on_failure(context) -> None:
    """Tell the platform engineers which task failed, through the delivery log (kind "alert", CP_ALERT_URLS).
    The send result is checked and logged; never raises (a callback must not mask the task's own error)."""
    try:
        from credit_platform.notify import alerts
        from credit_platform.orchestration.runtime import task_settings

        ti = context.get("ti") or context.get("task_instance")
        result = alerts.task_failed(task_settings(), ti.dag_id, ti.task_id, ti.run_id, int(ti.try_number or 0),
                                    f"{type(context.get('exception')).__name__}: {context.get('exception')}",
                                    getattr(ti, "log_url", "") or "")
        if not result.sent:
            log.error("failure alert %s not delivered (attempt %s, retried later): %s", result.key,
                      result.attempts, result.last_error)
    except Exception:
        log.exception("failure alert could not be sent")


DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": on_failure,
}


def cron_schedule(*crons: str):
    """The timetable of a DAG that runs on Beijing cron ticks. run_immediately=0: a DAG first started between two
    ticks waits for the next one. Airflow's default runs the latest past tick at once when it lies within a tenth
    of the period (2.4 h for a daily cron), and an ingest run then takes what a unit dropped for the next tick."""
    from airflow.timetables.trigger import CronTriggerTimetable, MultipleCronTriggerTimetable

    from credit_platform.clock import TZ_NAME

    crons = tuple(sorted(set(crons)))
    if len(crons) == 1:
        return CronTriggerTimetable(crons[0], timezone=TZ_NAME, run_immediately=timedelta(0))
    return MultipleCronTriggerTimetable(*crons, timezone=TZ_NAME, run_immediately=timedelta(0))


def dag_kwargs(**overrides) -> dict:
    """What every DAG of the platform shares; a DAG file adds its id, schedule, tags and doc."""
    # No start_date: with one, Airflow (catchup off) runs the latest past interval as soon as a DAG is unpaused,
    # and that run takes whatever a unit had dropped for the next one. Without it the cron timetables wait
    # for the next tick (cron_schedule; tests/test_dagbag.py). Past days: `airflow backfill`.
    return {"catchup": False, "max_active_runs": 1, "default_args": DEFAULT_ARGS, **overrides}


def interval_day(context) -> date:
    """The business day a run covers: the logical date, or the run time for manual runs (no logical date)."""
    from credit_platform.clock import beijing_date

    moment = context.get("logical_date") or context["dag_run"].run_after
    return beijing_date(moment)
