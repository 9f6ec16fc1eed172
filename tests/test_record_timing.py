"""Timing of a record (decision date → deadline → on time), the one computation for accepted and rejected
records (ingest/staged_zone.timing): a decision dated after its arrival has no deadline to meet."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import polars as pl

from credit_platform.catalog.items import catalog
from credit_platform.ingest.staged_zone import timing

ITEM = catalog().item("administrative_penalty")  # deadline: 7 working days from CF_JDRQ


def test_future_and_far_future_decision_dates_are_unreadable_not_on_time():
    received = SimpleNamespace(received_date=date(2026, 11, 27))  # a Friday
    frame = pl.DataFrame({ITEM.deadline.from_: ["2026-11-18", "2026-11-17", "2026-12-01", "9999-12-31", "x"]})
    out = timing(frame, ITEM, received)
    assert out.get_column("decision_date").to_list() == [date(2026, 11, 18), date(2026, 11, 17), None, None, None]
    # 11-18 + 7 working days = 11-27 (on time); 11-17 + 7 = 11-26 (late)
    assert out.get_column("on_time").to_list() == [True, False, None, None, None]
