"""Business days are Beijing days, whatever the host's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from credit_platform.clock import BEIJING, beijing_date, today
from credit_platform.orchestration.defaults import interval_day


def test_an_evening_in_utc_is_the_next_day_in_beijing():
    assert str(beijing_date(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))) == "2026-11-27"
    assert str(beijing_date(datetime(2026, 11, 26, 15, 59, tzinfo=UTC))) == "2026-11-26"
    assert str(beijing_date(datetime(2026, 11, 26, 23, 0))) == "2026-11-26"  # naive: Beijing time already
    assert today() == datetime.now(BEIJING).date()


def test_a_run_scheduled_after_midnight_beijing_covers_that_beijing_day():
    # a 00:30 Beijing cron fires at 16:30 UTC the day before
    context = {"logical_date": datetime(2026, 11, 26, 16, 30, tzinfo=UTC)}
    assert str(interval_day(context)) == "2026-11-27"
    manual = {"logical_date": None, "dag_run": SimpleNamespace(run_after=datetime(2026, 11, 26, 1, 0, tzinfo=UTC))}
    assert str(interval_day(manual)) == "2026-11-26"
