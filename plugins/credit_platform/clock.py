"""Business time is Beijing time: received dates, deadlines, report periods and `dt=` keys are China's calendar
days, whatever time zone the machine or the scheduler runs in (a UTC host is a day behind from 16:00)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ_NAME = "Asia/Shanghai"  # the IANA name, for what takes a name (cron timetables, PostgreSQL, pendulum)
BEIJING = ZoneInfo(TZ_NAME)


def today() -> date:
    return datetime.now(BEIJING).date()


def beijing_date(moment: datetime) -> date:
    """The Beijing calendar day of an aware moment (a naive one is taken as Beijing time already)."""
    return moment.astimezone(BEIJING).date() if moment.tzinfo else moment.date()
