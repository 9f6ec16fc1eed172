"""A record reason code is one fact: its priority and fix hint (gates/reasons.py), its message
(gates/messages.py), its planter (dev/generator.py) and the gate check that finds it must all exist together."""

from __future__ import annotations

import random
from datetime import date

import pytest

from credit_platform.catalog.items import catalog
from credit_platform.dev.generator import DefectPlanter, GenSpec, RecordFactory, write_csv
from credit_platform.gates.messages import BATCH_MESSAGES_ZH, record_message
from credit_platform.gates.reasons import BATCH_REASONS, FIX_ZH, PRIORITY, RECORD_REASONS
from credit_platform.gates.validation import validate_file

RECEIVED = date(2026, 11, 20)


def _planter(item: str) -> DefectPlanter:
    cat = catalog()
    return DefectPlanter(RecordFactory(cat.item(item), cat, random.Random(1)))


def test_every_reason_has_one_priority_and_a_fix_hint():
    assert len(set(RECORD_REASONS)) == len(RECORD_REASONS) == len(PRIORITY)
    assert set(FIX_ZH) == set(RECORD_REASONS) and all(FIX_ZH.values())
    assert set(BATCH_MESSAGES_ZH) == set(BATCH_REASONS)


def test_an_unknown_reason_has_no_message():
    item = catalog().item("administrative_penalty")
    with pytest.raises(ValueError, match="no message for reason"):
        record_message(item, catalog(), item.fields[0].code, "no_such_reason", "x", RECEIVED)


@pytest.mark.parametrize("reason", RECORD_REASONS)
def test_each_reason_is_planted_found_and_explained(tmp_path, reason):
    items = [code for code in sorted(catalog().items) if reason in _planter(code).applicable_reasons()]
    assert items, f"the generator cannot plant {reason}"
    data, truth = tmp_path / "d.csv", tmp_path / "t.csv"
    write_csv(GenSpec(items[0], 300, seed=3, rates={reason: 0.2}, received_on=RECEIVED), data, truth)
    report = validate_file(data, items[0], RECEIVED)
    assert report.rejections, f"{reason} planted in {items[0]} but not found by the gate"
    assert {r["reason"] for r in report.rejections} == {reason}
    for r in report.rejections:
        assert r["message_zh"] and FIX_ZH[r["reason"]]
