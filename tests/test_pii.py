"""Keyed hash, natural-key hash and masking of personal ID numbers (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import json

import polars as pl

from credit_platform.standards.pii import keyed_hash, masked, stable_key_hash


def test_keyed_hash_is_hmac_sha256_and_keeps_nulls():
    ids = pl.Series("id", ["11010519491231002X", None, "110105194912310029"])
    got = keyed_hash(ids, "k1").to_list()
    assert got[0] == hmac.new(b"k1", b"11010519491231002X", hashlib.sha256).hexdigest()
    assert got[1] is None
    assert got[0] != got[2]
    assert keyed_hash(ids, "k2").to_list()[0] != got[0]  # the key matters: no dictionary attack without it


def test_natural_key_hash_is_stable_across_versions():
    got = stable_key_hash(pl.Series(["辽住建罚〔2026〕1号\x1f某公司", None])).to_list()
    assert got == [hashlib.blake2b("辽住建罚〔2026〕1号\x1f某公司".encode(), digest_size=12).hexdigest(), None]


def test_masked_keeps_region_prefix_and_last_four_only():
    out = pl.DataFrame({"v": ["11010519491231002X", "1234567", None]}).select(masked(pl.col("v")))["v"].to_list()
    assert out == ["1101**********002X", "*******", None]


def test_one_masking_rule_for_values_columns_and_free_text():
    from credit_platform.standards.pii import mask_id, redact_ids

    assert mask_id("21010219800101123X") == "2101**********123X"
    values = ["", "1", "1234567", "12345678", "123456789", "210102800101001", "21010219800101123X", "字母ABCD1234"]
    column = pl.DataFrame({"v": values}).select(masked(pl.col("v")))["v"].to_list()
    assert column == [mask_id(v) for v in values]
    assert redact_ids("证件 21010219800101123X") == f"证件 {mask_id('21010219800101123X')}"


def test_id_shaped_numbers_in_free_text_are_masked():
    from credit_platform.standards.pii import redact_ids

    assert redact_ids("第3行 21010219800101001X 无法解析; old 210102800101001") == (
        "第3行 2101**********001X 无法解析; old 2101*******1001")
    # USCCs, longer digit runs and short numbers are not ID numbers
    assert redact_ids("91210100MA0PQR128P 1234567890123456789 n=12345") == (
        "91210100MA0PQR128P 1234567890123456789 n=12345")


def test_a_batch_error_never_carries_a_clear_id_number(tmp_path):
    from datetime import date

    from credit_platform.gates.validation import validate_file

    # a binary file named after a person's ID number: gate 0 quotes the file name in its message
    path = tmp_path / "21010219800101001X.dat"
    path.write_bytes(b"\x00\x01\x02 binary")
    report = validate_file(path, "administrative_penalty", date(2026, 11, 20))
    assert report.batch_error["reason"] == "unsupported_format"
    assert "2101**********001X" in report.batch_error["detail"]
    assert "21010219800101001X" not in json.dumps(report.as_json(), ensure_ascii=False)
