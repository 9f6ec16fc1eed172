"""The reminder rules (contracts/reminder_rules.yaml), validated when loaded: a mistake is a CatalogError that
names the file and the key, never a stack trace."""

from __future__ import annotations

from datetime import time
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from credit_platform.catalog.items import CONTRACTS_DIR, CatalogError, _friendly, _read_yaml, _Strict

LEVELS = ("notice", "reminder", "escalation")
LEVEL_ZH = {"notice": "提醒", "reminder": "催办", "escalation": "督办"}
RULE_ZH = {"overdue_submission": "逾期未报送", "open_problems": "问题数据未整改",
           "incomplete_key": "关键字段缺失无法匹配整改", "low_compliance": "合规率偏低", "silence": "长期未报送数据"}


class Levels(_Strict):
    """Working days after the cause opens at which each level is due."""

    notice: int = Field(0, ge=0)
    reminder: int = Field(2, ge=0)
    escalation: int = Field(5, ge=0)

    @model_validator(mode="after")
    def _increasing(self) -> Levels:
        if not self.notice < self.reminder < self.escalation:
            raise ValueError("levels must be increasing: notice < reminder < escalation (working days)")
        return self

    def offsets(self) -> list[tuple[str, int]]:
        return [(lv, getattr(self, lv)) for lv in LEVELS]


class OfficeHours(_Strict):
    start: time
    end: time

    @model_validator(mode="after")
    def _order(self) -> OfficeHours:
        if self.start >= self.end:
            raise ValueError(f"office hours start {self.start} is not before end {self.end}")
        return self


class _Rule(_Strict):
    enabled: bool = True
    levels: Levels | None = None  # default: the file's `levels`


class OverdueSubmission(_Rule):
    grace_working_days: int = Field(ge=0)


class OpenProblems(_Rule):
    correct_within_working_days: int = Field(ge=0)


class IncompleteKey(_Strict):
    enabled: bool = True
    after_working_days: int = Field(ge=0)
    route_to_role: Literal["steward", "office"] = "steward"


class LowCompliance(_Rule):
    threshold: float = Field(gt=0, le=1)
    min_records: int = Field(1, ge=1)


class Silence(_Rule):
    period: Literal["week", "month"]
    periods: int = Field(ge=1)


class RuleSet(_Strict):
    overdue_submission: OverdueSubmission
    open_problems: OpenProblems
    incomplete_key: IncompleteKey
    low_compliance: LowCompliance
    silence: Silence


class ReminderRules(_Strict):
    office_hours: OfficeHours
    levels: Levels
    links_valid_days: int = Field(7, ge=1, le=7)  # S3 presigned URLs last at most 7 days
    undeliverable_alert_after: int = Field(3, ge=1)
    contact_zh: str = Field(min_length=1)
    rules: RuleSet

    def levels_of(self, rule: str) -> Levels:
        return getattr(self.rules, rule).levels or self.levels


def load_rules(contracts_dir: Path = CONTRACTS_DIR) -> ReminderRules:
    path = contracts_dir / "reminder_rules.yaml"
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping with office_hours, levels and rules")
    try:
        return ReminderRules.model_validate(raw)
    except ValidationError as err:
        raise _friendly(err, path, None, raw) from None


@cache
def rules() -> ReminderRules:
    return load_rules()
