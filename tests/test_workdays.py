"""China's official working days: the maintained package first, then the office's calendar.yaml, then weekdays."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import psycopg
import pytest

from credit_platform.catalog import workdays
from credit_platform.catalog.items import CatalogError
from credit_platform.catalog.workdays import OfficialCalendar, load_arrangements
from credit_platform.dev import services
from credit_platform.ingest import landing_load
from credit_platform.landing.schema import fill_calendar
from credit_platform.settings import contracts_dir

# A made-up arrangement for a year the pinned package does not cover (2027 at the time of writing), written
# as an office would write the published one. Test data only: not the real 2027 arrangement.
FAKE_2030 = """
years:
  2030:
    holidays: [2030-01-01, 2030-10-01, 2030-10-02]
    workdays: [2030-09-29]
  2026:
    holidays: [2026-03-02]
"""


def _contracts(tmp_path: Path, text: str) -> Path:
    shutil.copytree(contracts_dir(), tmp_path / "contracts")
    (tmp_path / "contracts" / "calendar.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "contracts"


def test_the_repository_calendar_file_loads():
    assert isinstance(load_arrangements(), dict)


def test_an_office_arrangement_fills_a_year_the_package_lacks(tmp_path):
    cal = OfficialCalendar(load_arrangements(_contracts(tmp_path, FAKE_2030)))
    assert cal.day(date(2030, 1, 1)) == (False, "contracts")  # a Tuesday off
    assert cal.day(date(2030, 9, 29)) == (True, "contracts")  # a Sunday worked
    assert cal.day(date(2030, 1, 2)) == (True, "contracts")  # an ordinary Wednesday
    assert cal.day(date(2030, 1, 5)) == (False, "contracts")  # an ordinary Saturday
    # the package's own years are the package's: the entry for 2026 changes nothing
    assert cal.day(date(2026, 3, 2)) == (True, "chinesecalendar")
    assert cal.day(date(2026, 10, 1)) == (False, "chinesecalendar")
    assert cal.day(date(2026, 10, 10)) == (True, "chinesecalendar")  # a Saturday worked after National Day


def test_a_year_in_neither_counts_weekdays_and_says_so_once(tmp_path, caplog):
    cal = OfficialCalendar({})
    with caplog.at_level("WARNING"):
        assert cal.day(date(2029, 10, 1)) == (True, "weekdays")
        assert cal.day(date(2029, 10, 6)) == (False, "weekdays")
    assert caplog.text == "", "a bulk lookup (the calendar table) does not warn per date or year"
    workdays.warn_year.cache_clear()  # an earlier test in this process may have warned for 2039 already
    with caplog.at_level("WARNING"):
        assert workdays.is_workday(date(2039, 10, 3)) is True  # a Monday, no arrangement for 2039
        assert workdays.is_workday(date(2039, 10, 4)) is True
    assert caplog.text.count("no official holiday arrangement for 2039") == 1
    assert "calendar.yaml" in caplog.text


@pytest.mark.parametrize(("text", "message"), [
    ("years:\n  2030:\n    holidays: [2031-01-01]\n", "year 2030: 2031-01-01 is not in 2030"),
    ("years:\n  2030:\n    holidays: [2030-01-05]\n", "holiday 2030-01-05 is a weekend day already"),
    ("years:\n  2030:\n    workdays: [2030-01-02]\n", "workday 2030-01-02 is a weekday already"),
    ("years:\n  2030:\n    holidays: [2030-13-01]\n", "not a valid value: month must be in 1..12"),
    ("years:\n  2030:\n    vacations: [2030-01-02]\n", "vacations"),
    ("years:\n  next: {}\n", "year 'next' is not a year number"),
    ("years: [2030]\n", "expected a `years:` mapping"),
])
def test_a_wrong_arrangement_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(CatalogError, match=r"calendar\.yaml") as err:
        load_arrangements(_contracts(tmp_path, text))
    assert message in str(err.value)


def test_the_warehouse_calendar_follows_a_new_arrangement(settings, tmp_path):
    s = dataclasses.replace(settings, pg_database="credit_calendar_test")
    services.pg_ensure_role_and_db(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("create schema landing")  # a calendar from before `source` existed
        conn.execute("create table landing.calendar (day date primary key, is_workday boolean not null,"
                     " workday_seq integer not null)")
    landing_load.ensure_schema(s)

    def days(*which: date) -> list[tuple]:
        with psycopg.connect(s.pg_dsn()) as conn:
            return conn.execute("select day, is_workday, source, xmin::text from landing.calendar"
                                " where day = any(%s) order by day", (list(which),)).fetchall()

    jan = (date(2030, 1, 1), date(2030, 1, 2))
    before = days(*jan)
    assert [r[:3] for r in before] == [(jan[0], True, "weekdays"), (jan[1], True, "weekdays")]
    landing_load.ensure_schema(s)
    assert days(*jan) == before, "an unchanged calendar is not rewritten"

    with psycopg.connect(s.pg_dsn()) as conn:
        seq_before = conn.execute("select workday_seq from landing.calendar where day = '2030-12-31'").fetchone()[0]
        fill_calendar(conn, OfficialCalendar(load_arrangements(_contracts(tmp_path, FAKE_2030))))
    assert [r[:3] for r in days(*jan)] == [(jan[0], False, "contracts"), (jan[1], True, "contracts")]
    with psycopg.connect(s.pg_dsn()) as conn:
        # three weekdays off and one Sunday worked in 2030: two working days fewer by the end of the table
        assert conn.execute("select workday_seq from landing.calendar where day = '2030-12-31'").fetchone()[0] == (
            seq_before - 2)
        assert conn.execute("select count(distinct source) from landing.calendar where day < '2027-01-01'"
                            ).fetchone()[0] == 1
