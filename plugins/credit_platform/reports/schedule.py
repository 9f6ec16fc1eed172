"""When the monthly reports are due: the first working day of each month on China's official calendar, for the
month before; and which report models to rebuild (the warehouse build owns everything else)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from credit_platform.catalog.workdays import is_workday
from credit_platform.clock import BEIJING
from credit_platform.settings import Settings

# the report models (models/reports/reminders belongs to the reminders stage and its own DAG)
REPORT_SELECTION = ["--select", "path:seeds/reports", "path:models/reports",
                    "--exclude", "path:models/reports/reminders"]


def first_working_day(year: int, month: int) -> date:
    d = date(year, month, 1)
    while not is_workday(d):
        d += timedelta(days=1)
    return d


def report_period(day: date) -> str:
    """The month a run on `day` reports on: the previous one."""
    prev = day.replace(day=1) - timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def due(day: date) -> bool:
    """On or after the month's first working day (later days retry what failed; nothing is sent twice)."""
    return day >= first_working_day(day.year, day.month)


def period_cutoff(period: str) -> datetime:
    """The first moment after the period (Beijing): the warehouse must have been built after it."""
    y, m = map(int, period.split("-"))
    return datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=BEIJING)


def build_report_models(s: Settings):
    from credit_platform.warehouse import dbt_build

    outcome = dbt_build.run(s, ["build", *REPORT_SELECTION])
    if not outcome.success:
        raise RuntimeError(f"dbt build of the report models failed: {outcome.failed()[:20]}")
    return outcome
