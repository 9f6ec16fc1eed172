"""Working days on China's official calendar (holidays and the weekend days made working days).

Uses the maintained `chinesecalendar` package. For a year it does not cover yet (the State Council
publishes each year's arrangement in late autumn), weekdays are used and a warning is logged once: update
the pinned package when the new arrangement is out.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import cache

import chinese_calendar

log = logging.getLogger(__name__)


@cache
def _warn_year(year: int) -> None:
    log.warning("chinesecalendar has no holiday data for %s; counting weekdays for that year", year)


@cache
def is_workday(d: date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        _warn_year(d.year)
        return d.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n ≥ 0; n = 0 returns start)."""
    d, left = start, n
    while left > 0:
        d += timedelta(days=1)
        if is_workday(d):
            left -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: 0 when end ≤ start. A decision on day D received on the 7th working day
    after D is 7 working days old."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))


def previous_workday(d: date) -> date:
    while not is_workday(d):
        d -= timedelta(days=1)
    return d
