"""Mutated batches (CSV, XLSX, JSON lines) never crash gate 0/1: each gives a batch error or a report whose counts add up.

Seeded mutations of a good CSV and of a good workbook's XML parts (the first run of this kind found workbooks
without a sheet crashing with IndexError). Deterministic, so a failure names the case that caused it.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import date

import pytest

from credit_platform.dev.generator import GenSpec, generate_rows, write_csv, write_xlsx
from credit_platform.gates.validation import validate_file

RECEIVED = date(2026, 11, 20)
CASES = 60
CSV_SNIPPETS = [b'"', b",", b"\n", b"\r", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", "，".encode(), b"=cmd|", b'""',
                b"\\", "行政相对人名称".encode("gb18030")]
XML_SNIPPETS = [b"<", b">", b'"', b'<c r="ZZ99999" t="s"><v>99999</v></c>', b'<row r="0">', b"<v>1e400</v>",
                b't="d"', b"&#0;", b'<c r="A1048577">', b"</row>", b"<!DOCTYPE x [<!ENTITY a \"b\">]>"]


def _mutate(data: bytes, rng: random.Random, snippets: list[bytes], printable: bool = False) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b)) if b else 0
        op = rng.random()
        if op < 0.3 and b:
            b[i] = rng.randrange(32, 127) if printable else rng.randrange(256)
        elif op < 0.55:
            b[i:i] = rng.choice(snippets)
        elif op < 0.75 and b:
            del b[i:i + rng.randint(1, 50)]
        elif op < 0.9 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 200)]
        else:
            del b[i:]
    return bytes(b)


def _check(data: bytes, name: str) -> None:
    report = validate_file(data, "administrative_penalty", RECEIVED, name=name)
    if report.batch_error:
        assert report.batch_error["reason"] and report.batch_error["detail"]
        return
    assert report.rows == report.accepted + report.rejected
    assert {r["row"] for r in report.rejections} <= set(range(1, 10**6))


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "g.csv"
    write_csv(GenSpec("administrative_penalty", 30, seed=5, defect_rate=0.2, received_on=RECEIVED), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def good_xlsx(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "g.xlsx"
    write_xlsx(GenSpec("administrative_penalty", 30, seed=5, defect_rate=0.2, received_on=RECEIVED), path)
    return path.read_bytes()


@pytest.mark.parametrize("seed", range(3))
def test_mutated_csv_never_crashes(good_csv, seed):
    rng = random.Random(seed)
    for case in range(CASES):
        data = _mutate(good_csv, rng, CSV_SNIPPETS)
        name = f"case{case}." + rng.choice(["csv", "txt", "csv"])
        try:
            _check(data, name)
        except Exception as err:
            raise AssertionError(f"seed {seed} case {case} ({name}): {type(err).__name__}: {err}") from err


@pytest.mark.parametrize("seed", range(3))
def test_mutated_workbook_never_crashes(good_xlsx, seed):
    rng = random.Random(seed)
    src = zipfile.ZipFile(io.BytesIO(good_xlsx))
    parts = src.namelist()
    for case in range(CASES):
        target = rng.choice([p for p in parts if p.endswith((".xml", ".rels"))])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for part in parts:
                if rng.random() < 0.03:
                    continue  # a part missing from the package
                body = src.read(part)
                dst.writestr(part, _mutate(body, rng, XML_SNIPPETS, printable=True) if part == target else body)
        data = out.getvalue()
        if rng.random() < 0.1:
            i = rng.randrange(len(data))
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
        try:
            _check(data, f"case{case}.xlsx")
        except Exception as err:
            raise AssertionError(f"seed {seed} case {case} (mutated {target}): {type(err).__name__}: {err}") from err


JSON_SNIPPETS = [b"{", b"}", b"[", b"]", b'"', b":", b",", b"null", b"[1, [2]]", b'{"a": {"b": 1}}', b"1e999",
                 b"\n", b"\\u0000", b"\xff"]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    spec = GenSpec("administrative_penalty", 30, seed=5, defect_rate=0.2, received_on=RECEIVED)
    return [rec for rec, _ in generate_rows(spec)]


def _jsonl(records: list[dict]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()


@pytest.mark.parametrize("seed", range(2))
def test_mutated_json_lines_never_crash(records, seed):
    rng = random.Random(seed)
    good = _jsonl(records)
    for case in range(CASES):
        data = _mutate(good, rng, JSON_SNIPPETS)
        try:
            _check(data, f"case{case}.jsonl")
        except Exception as err:
            raise AssertionError(f"seed {seed} case {case}: {type(err).__name__}: {err}") from err


@pytest.mark.parametrize("value", [[1, 2], {"x": {"y": 1}}, True, 12345])
def test_a_json_value_of_another_type_is_judged_by_the_field_rules(records, value):
    # every record's document number an array (polars types the column as a list, which cast to text used to
    # crash the gate), an object, a boolean or a number: read as its JSON text, never a batch error
    report = validate_file(_jsonl([dict(r, CF_WSH=value) for r in records]), "administrative_penalty", RECEIVED,
                           name="api.jsonl")
    assert report.batch_error is None and report.rows == len(records)


def test_clashing_nested_values_in_one_key_do_not_fail_the_batch(records):
    # polars cannot infer one type for an object and an array under one key (this failed the whole batch)
    rows = [dict(r, CF_WSH={"a": 1}) for r in records[:2]] + [dict(records[2], CF_WSH=[1])] + records[3:]
    report = validate_file(_jsonl(rows), "administrative_penalty", RECEIVED, name="api.jsonl")
    assert report.batch_error is None and report.rows == len(records)


def test_a_line_that_is_not_an_object_is_a_clear_batch_error(records):
    data = _jsonl([dict(records[0], CF_WSH={"a": 1}), dict(records[1], CF_WSH={"b": [1]})]) + b"[1, 2]\n"
    report = validate_file(data, "administrative_penalty", RECEIVED, name="api.jsonl")
    assert report.batch_error["reason"] == "unreadable_file" and "第3行" in report.batch_error["detail"]


def test_a_workbook_claiming_a_future_zip_version_is_unreadable(good_xlsx):
    # the central directory's "version needed to extract" set to 12.7: zipfile raises NotImplementedError
    at = good_xlsx.index(b"PK\x01\x02") + 6
    data = good_xlsx[:at] + bytes([127, 0]) + good_xlsx[at + 2:]
    report = validate_file(data, "administrative_penalty", RECEIVED, name="future.xlsx")
    assert report.batch_error["reason"] == "unreadable_file"
