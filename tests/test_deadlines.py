"""Deadlines by date: a record is late when it arrives after the day its deadline falls on (decision date + N
working days on China's official calendar, 调休 working weekends included) — a weekend or holiday arrival after
that day is late. Property tests over the whole of 2026, Spring Festival and National Day included."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_platform.catalog.workdays import add_working_days, is_workday, working_days_between
from credit_platform.ingest.staged_zone import deadlines, on_time

YEAR = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
N = st.integers(min_value=1, max_value=20)


def test_the_issue_case_a_saturday_after_a_friday_deadline_is_late():
    # decision Wed 2026-11-18, 7 working days → Fri 11-27; Sat 11-28 and Mon 11-30 are late, Fri on time
    assert deadlines(pl.Series([date(2026, 11, 18)]), 7).to_list() == [date(2026, 11, 27)]
    flags = [on_time(pl.Series([date(2026, 11, 18)]), r, 7).item()
             for r in (date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30))]
    assert flags == [True, False, False, False]


def test_spring_festival_and_national_day_push_the_deadline():
    # Spring Festival 2026: Feb 15–23 off, Saturday Feb 14 and Saturday Feb 28 worked (调休)
    assert deadlines(pl.Series([date(2026, 2, 12)]), 3).item() == date(2026, 2, 24)  # 13, 14 (Sat, worked), 24
    assert deadlines(pl.Series([date(2026, 2, 26)]), 2).item() == date(2026, 2, 28)  # 27, 28 (Sat, worked)
    # National Day 2026: Oct 1–7 off, Sunday Sep 20 and Saturday Oct 10 worked
    assert deadlines(pl.Series([date(2026, 9, 29)]), 4).item() == date(2026, 10, 10)  # 30, Oct 8, 9, 10 (Sat)
    # received on the holiday's last day, after a deadline that fell before the holiday: late
    assert on_time(pl.Series([date(2026, 9, 25)]), date(2026, 10, 7), 3).item() is False
    assert on_time(pl.Series([date(2026, 9, 28)]), date(2026, 10, 7), 3).item() is True  # 29, 30, Oct 8


@settings(max_examples=400, deadline=None)
@given(decided=YEAR, n=N, after=st.integers(min_value=0, max_value=60))
def test_late_exactly_when_n_working_days_passed_before_the_arrival_day(decided, n, after):
    received = decided + timedelta(days=after)
    flag = on_time(pl.Series([decided]), received, n).item()
    # independent characterisation: the deadline day lies strictly before the arrival day exactly when at
    # least N working days fall in (decided, received)
    passed = working_days_between(decided, received - timedelta(days=1))
    assert flag == (passed < n)


@settings(max_examples=300, deadline=None)
@given(decided=YEAR, n=N)
def test_the_deadline_is_a_working_day_n_working_days_after_the_decision(decided, n):
    due = deadlines(pl.Series([decided]), n).item()
    assert is_workday(due) and working_days_between(decided, due) == n
    assert due == add_working_days(decided, n)
    # every day after it — weekend, holiday or working day — is late; the deadline day itself is not
    for later in range(0, 10):
        day = due + timedelta(days=later)
        assert on_time(pl.Series([decided]), day, n).item() is (later == 0)


@settings(max_examples=100, deadline=None)
@given(decisions=st.lists(st.one_of(YEAR, st.none()), min_size=1, max_size=30), n=N, received=YEAR)
def test_vectorised_flags_equal_one_by_one_and_nulls_stay_null(decisions, n, received):
    flags = on_time(pl.Series(decisions, dtype=pl.Date), received, n).to_list()
    assert flags == [None if d is None else received <= add_working_days(d, n) for d in decisions]
