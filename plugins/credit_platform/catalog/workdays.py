"""Working days on China's official calendar (holidays and the weekend days made working days).

The maintained `chinesecalendar` package is the source. The State Council publishes each year's arrangement
(国务院办公厅关于部分节假日安排的通知) in late autumn and the package follows some weeks later, so for a year
it does not cover yet the credit office enters the published arrangement in `contracts/calendar.yaml`. A year
in neither counts weekdays and says so once: when a deadline falls in it (`is_workday`), or when the landing
calendar table is rewritten (landing.schema.fill_calendar lists the years). Deadlines and rejection ages in
it are approximate until one of the two is updated (`landing.calendar.source` says which days are).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

import chinese_calendar
from pydantic import ValidationError

from credit_platform.catalog.items import CatalogError, StrictModel, friendly_error, read_yaml
from credit_platform.settings import contracts_dir as configured_contracts_dir

log = logging.getLogger(__name__)

Source = Literal["chinesecalendar", "contracts", "weekdays"]


class Arrangement(StrictModel):
    """One year's arrangement as published: weekdays off and weekend days worked (调休上班)."""

    holidays: list[date] = []
    workdays: list[date] = []


def load_arrangements(contracts_dir: Path | None = None) -> dict[int, Arrangement]:
    contracts_dir = contracts_dir or configured_contracts_dir()
    path = contracts_dir / "calendar.yaml"
    raw = read_yaml(path) or {}
    years = raw.get("years") if isinstance(raw, dict) else None
    if years is None:
        years = {}
    if not isinstance(years, dict):
        raise CatalogError(f"{path}: expected a `years:` mapping of year → {{holidays, workdays}}")
    out: dict[int, Arrangement] = {}
    for year, entry in years.items():
        if not isinstance(year, int):
            raise CatalogError(f"{path}: year {year!r} is not a year number")
        try:
            arr = Arrangement.model_validate(entry or {})
        except ValidationError as err:
            raise friendly_error(err, path, str(year), entry, kind="year") from None
        problems = [f"{d} is not in {year}" for d in arr.holidays + arr.workdays if d.year != year]
        problems += [f"holiday {d} is a weekend day already" for d in arr.holidays if d.weekday() >= 5]
        problems += [f"workday {d} is a weekday already" for d in arr.workdays if d.weekday() < 5]
        if problems:
            raise CatalogError(f"{path}: year {year}: " + "; ".join(problems))
        out[year] = arr
    return out


@cache
def warn_year(year: int) -> None:
    log.warning("no official holiday arrangement for %s (chinesecalendar nor contracts/calendar.yaml); "
                "counting weekdays for that year", year)


class OfficialCalendar:
    def __init__(self, arrangements: dict[int, Arrangement]) -> None:
        self._off = {y: set(a.holidays) for y, a in arrangements.items()}
        self._on = {y: set(a.workdays) for y, a in arrangements.items()}
        self._memo: dict[date, tuple[bool, Source]] = {}  # chinesecalendar scans all its dates on every call

    def day(self, d: date) -> tuple[bool, Source]:
        """Whether `d` is a working day, and where that comes from."""
        if d not in self._memo:
            self._memo[d] = self._day(d)
        return self._memo[d]

    def _day(self, d: date) -> tuple[bool, Source]:
        try:
            return chinese_calendar.is_workday(d), "chinesecalendar"
        except NotImplementedError:
            pass
        if d.year in self._off:
            return d in self._on[d.year] or (d.weekday() < 5 and d not in self._off[d.year]), "contracts"
        return d.weekday() < 5, "weekdays"  # the caller says so: once per year used, or once per table


@cache
def official_calendar() -> OfficialCalendar:
    return OfficialCalendar(load_arrangements())


@cache
def is_workday(d: date) -> bool:
    workday, source = official_calendar().day(d)
    if source == "weekdays":
        warn_year(d.year)
    return workday


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
