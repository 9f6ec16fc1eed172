"""contracts/reminder_rules.yaml is validated when loaded, with errors that name the file and the key; the level
schedule in working days (pure functions)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml

from credit_platform.catalog.items import CatalogError
from credit_platform.clock import BEIJING
from credit_platform.reminders.causes import Cause
from credit_platform.reminders.engine import acting_now, due_level
from credit_platform.reminders.rules import load_rules, rules
from credit_platform.settings import contracts_dir

BASE = yaml.safe_load((contracts_dir() / "reminder_rules.yaml").read_text(encoding="utf-8"))


def load(tmp_path, change) -> None:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    change(data)
    (tmp_path / "reminder_rules.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_rules(tmp_path)


def test_the_repository_rules_load():
    r = load_rules()
    assert r.levels.offsets() == [("notice", 0), ("reminder", 2), ("escalation", 5)]
    assert 0 < r.rules.low_compliance.threshold <= 1


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["levels"].update(reminder=7), "levels must be increasing"),
    (lambda d: d["rules"]["low_compliance"].update(threshold=90), "rules.low_compliance.threshold"),
    (lambda d: d["rules"]["overdue_submission"].update(grace_working_day=2), "grace_working_day"),
    (lambda d: d["rules"]["silence"].update(period="fortnight"), "rules.silence.period"),
    (lambda d: d["office_hours"].update(start="18:00"), "is not before end"),
    (lambda d: d["rules"].pop("open_problems"), "rules.open_problems"),
])
def test_mistakes_are_clear_errors_naming_file_and_key(tmp_path, change, message):
    with pytest.raises(CatalogError) as err:
        load(tmp_path, change)
    assert "reminder_rules.yaml" in str(err.value) and message in str(err.value)


def test_not_yaml_is_a_clear_error(tmp_path):
    (tmp_path / "reminder_rules.yaml").write_text("levels: [notice\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_rules(tmp_path)


def cause(open_days: int) -> Cause:
    return Cause("u", "overdue_submission", "x@p", "p", date(2026, 9, 29), open_days)


OFFSETS = rules().levels.offsets()


def test_levels_in_order_never_skipped_and_spaced_from_the_previous_send():
    assert due_level(cause(0), OFFSETS, {}) == (
        "notice", "逾期未报送: past the rule's limit since 2026-09-29 (+0 working days)")
    assert due_level(cause(1), OFFSETS, {"notice": 1}) is None
    assert due_level(cause(2), OFFSETS, {"notice": 2})[0] == "reminder"
    # the job was down for a week: the notice goes first, not the escalation
    assert due_level(cause(9), OFFSETS, {})[0] == "notice"
    # the notice went out late (1 working day ago): the reminder waits for the full gap of 2
    assert due_level(cause(4), OFFSETS, {"notice": 1}) is None
    assert due_level(cause(5), OFFSETS, {"notice": 5, "reminder": 3})[0] == "escalation"
    assert due_level(cause(6), OFFSETS, {"notice": 6, "reminder": 4, "escalation": 1}) is None


def test_office_hours_and_working_days_in_beijing_time():
    r = rules()
    assert acting_now(datetime(2026, 10, 9, 10, 0, tzinfo=BEIJING), r)[0]
    assert acting_now(datetime(2026, 10, 10, 10, 0, tzinfo=BEIJING), r)[0]  # 调休 Saturday
    assert not acting_now(datetime(2026, 10, 5, 10, 0, tzinfo=BEIJING), r)[0]  # National Day
    assert not acting_now(datetime(2026, 10, 9, 18, 0, tzinfo=BEIJING), r)[0]
    # 01:30 UTC is 09:30 in Beijing: inside office hours whatever the host's time zone
    from datetime import UTC
    assert acting_now(datetime(2026, 10, 9, 1, 30, tzinfo=UTC), r)[0]
