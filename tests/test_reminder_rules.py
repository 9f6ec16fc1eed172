"""contracts/reminder_rules.yaml is validated when loaded, with errors that name the file and the key; the level
schedule in working days (pure functions)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest
import yaml

from credit_platform.catalog.items import CatalogError
from credit_platform.clock import BEIJING
from credit_platform.reminders.causes import Cause
from credit_platform.reminders.engine import Message, acting_now, bundle, due_level
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


def _message(unit: str, subject: str, level: str = "notice", kind: str = "reminder", recipient: str | None = None,
             targets: tuple[str, ...] = ("outbox://u",)) -> Message:
    body = f"{unit}单位：\n第一行 {subject}\n如至12月8日仍未解决…\n如有疑问请联系：信用办。\n（本消息由平台自动发送）"
    return Message(f"reminder:{unit}:open_problems:{subject}:{level}", kind, unit, "open_problems", level, "p",
                   subject, recipient or unit, targets, ["outbox://u"], [f"{unit}/liaison"],
                   f"【提醒】{unit}单位：事项{subject}", body, f"why {subject}", date(2026, 12, 1))


def test_a_units_messages_of_one_level_and_day_go_out_as_one_listing_each_matter():
    a1, a2, a3 = (_message("a", s) for s in ("b1", "b2", "b3"))
    other_level = _message("a", "b4", level="reminder")
    escalation = _message("a", "b5", level="escalation", kind="escalation", recipient="office")
    alone = _message("c", "b6")
    out = bundle([a1, escalation, a2, alone, a3, other_level])
    [b] = [m for m in out if m.parts]
    assert out == [b, escalation, alone, other_level]  # each kept in place, the bundle where its first part was
    assert b.key.startswith("reminder-bundle:a:notice:") and b.parts == [a1, a2, a3]
    # its key is its parts: the same matters again (a failed send retried the next day) are the same message
    assert bundle([a3, a1, a2])[0].key == b.key != bundle([a1, a2])[0].key
    # a part already sent today (a rerun) stays alone: delivery skips it, and the others are not sent twice
    a2_sent = dataclasses.replace(a2, already_sent=True)
    assert [m.key for m in bundle([a1, a2_sent, a3])] == [bundle([a1, a3])[0].key, a2.key]
    assert b.title == "【提醒】a单位：3项事项待处理"
    assert b.body.splitlines() == [
        "a单位：", "贵单位目前有以下3项事项待处理：",
        "（一）事项b1", "第一行 b1", "如至12月8日仍未解决…",
        "（二）事项b2", "第一行 b2", "如至12月8日仍未解决…",
        "（三）事项b3", "第一行 b3", "如至12月8日仍未解决…",
        "如有疑问请联系：信用办。", "（本消息由平台自动发送）"]
    # the delivery log gets every part under its own key, sent with the bundle (sequences keep their levels)
    assert b.notice().meta["parts"] == [m.key for m in (a1, a2, a3)]
    assert [p["key"] for p in b.as_json()["parts"]] == [m.key for m in (a1, a2, a3)]
    assert "targets_masked" not in json.dumps(b.as_json())
