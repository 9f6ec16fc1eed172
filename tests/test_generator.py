"""The generator: deterministic, streaming, realistic, and its ground truth is exact for every item."""

from __future__ import annotations

import csv
import inspect
from datetime import date

import pytest

from credit_platform.catalog.items import catalog
from credit_platform.catalog.workdays import is_workday
from credit_platform.dev.generator import GenSpec, generate_rows, write_csv
from credit_platform.gates.validation import validate_file
from credit_platform.standards.identifiers import resident_id_status, uscc_status

RECEIVED = date(2026, 11, 20)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_csv(GenSpec("administrative_penalty", 300, seed=5, received_on=RECEIVED), a)
    write_csv(GenSpec("administrative_penalty", 300, seed=5, received_on=RECEIVED), b)
    write_csv(GenSpec("administrative_penalty", 300, seed=6, received_on=RECEIVED), c)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_rows_stream_lazily():
    rows = generate_rows(GenSpec("administrative_penalty", 10_000_000, received_on=RECEIVED))
    assert inspect.isgenerator(rows)
    first = [next(rows) for _ in range(5)]
    assert len(first) == 5


def test_clean_records_are_realistic():
    item = catalog().item("administrative_penalty")
    for rec, planted in generate_rows(GenSpec("administrative_penalty", 500, defect_rate=0, received_on=RECEIVED)):
        assert planted is None
        assert is_workday(date.fromisoformat(rec["CF_JDRQ"]))
        assert date.fromisoformat(rec["CF_JDRQ"]) <= RECEIVED
        if rec["CF_XDR_LB"] == "自然人":
            assert resident_id_status(rec["CF_XDR_ZJHM"]) == "ok" and rec["CF_XDR_SHXYM"] is None
        else:
            assert uscc_status(rec["CF_XDR_SHXYM"]) == "ok" and rec["CF_FRDB"]
        if "罚款" in rec["CF_CFLB"]:
            assert float(rec["CF_NR_FK"]) > 0
    assert item.by_role("decision_date").code == "CF_JDRQ"


@pytest.mark.parametrize("item", sorted(catalog().items))
def test_ground_truth_equals_validate_for_every_item(tmp_path, item):
    data, truth = tmp_path / "d.csv", tmp_path / "t.csv"
    write_csv(GenSpec(item, 800, seed=21, defect_rate=0.4, received_on=RECEIVED), data, truth)
    report = validate_file(data, item, RECEIVED)
    with open(truth, encoding="utf-8") as fh:
        expected = {(int(r["row"]), r["field"], r["reason"]) for r in csv.DictReader(fh)}
    assert expected, "no defects were planted"
    assert {(r["row"], r["field"], r["reason"]) for r in report.rejections} == expected


def test_generate_cli_with_per_reason_rates(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "credit-platform")
    out, truth = tmp_path / "g.csv", tmp_path / "t.csv"
    proc = subprocess.run([cli, "generate", "--item", "administrative_penalty", "--rows", "300", "--out", str(out),
                           "--truth", str(truth), "--rate", "invalid_date=0.1", "--rate", "too_long=0.05",
                           "--received-on", "2026-11-20"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open(truth, encoding="utf-8") as fh:
        reasons = [r["reason"] for r in csv.DictReader(fh)]
    assert set(reasons) == {"invalid_date", "too_long"} and 20 <= len(reasons) <= 80
    bad = subprocess.run([cli, "generate", "--item", "administrative_penalty", "--out", str(out),
                          "--rate", "no_such_reason=0.1"], capture_output=True, text=True)
    assert bad.returncode == 64 and "unknown reason codes" in bad.stderr
