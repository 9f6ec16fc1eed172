"""Check digits: the standards' own examples, and properties over generated identifiers."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_platform.gates.record_contract import identifier_checks
from credit_platform.standards import identifiers as ids


@pytest.mark.parametrize("code", ["91350100M000100Y43", "11230500001755309F", "91230500MA1B3N1N2M", "91210100MA0PQR128P"])
def test_known_valid_uscc(code):
    assert ids.uscc_status(code) == "ok"


def test_known_invalid_codes():
    assert ids.uscc_status("91310000MA1FL0XL2B") == "invalid_checksum"
    assert ids.uscc_status("91310000MA1FL0XL2") == "invalid_format"
    assert ids.uscc_status("91310000MA1FL0XLIB") == "invalid_format"  # I is not in the charset
    assert ids.resident_id_status("210102198001010011") == "invalid_checksum"
    assert ids.org_code_status("MA1FL0XL-2") == "invalid_checksum"


@pytest.mark.parametrize("code", ["11010519491231002X", "440524188001010014", "210102198001010010", "11010519491231002x"])
def test_known_valid_resident_ids(code):
    assert ids.resident_id_status(code) == "ok"


@pytest.mark.parametrize("birth", ["19961326", "19960230", "20990101", "19960000", "18690101"])
def test_a_resident_id_with_an_impossible_birth_date_is_malformed_whatever_its_check_digit(birth):
    code = ids.make_resident_id(f"210100{birth}975")
    assert ids.resident_id_status(code) == "invalid_format"
    fmt, _ = identifier_checks("resident_id", pl.col("c"))
    assert pl.DataFrame({"c": [code]}).select(fmt.alias("f"))["f"].to_list() == [False]


@pytest.mark.parametrize("code", ["D2143569-X", "00175530-9", "M000100Y-4", "D2143569X"])
def test_known_valid_org_codes(code):
    assert ids.org_code_status(code) == "ok"


uscc_bodies = st.text(alphabet=ids.USCC_CHARSET, min_size=17, max_size=17)
# address code + a real birth date + sequence: a check digit alone does not make a resident ID
id_bodies = st.builds(lambda region, born, seq: f"{region}{born:%Y%m%d}{seq}",
                      st.text(alphabet="0123456789", min_size=6, max_size=6),
                      st.dates(date(1900, 1, 1), date(2025, 12, 31)),
                      st.text(alphabet="0123456789", min_size=3, max_size=3))


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(ids.USCC_CHARSET))
@settings(max_examples=300)
def test_any_single_character_change_breaks_a_uscc(body, pos, ch):
    code = ids.make_uscc(body)
    if ids.USCC_RE.match(code):
        assert ids.uscc_status(code) == "ok"
    changed = code[:pos] + ch + code[pos + 1:]
    if changed != code:
        assert ids.uscc_status(changed) != "ok"


@given(id_bodies, st.integers(0, 17), st.sampled_from("0123456789X"))
@settings(max_examples=300)
def test_any_single_character_change_breaks_a_resident_id(body, pos, ch):
    code = ids.make_resident_id(body)
    assert ids.resident_id_status(code) == "ok"
    changed = code[:pos] + ch + code[pos + 1:]
    if changed != code:
        assert ids.resident_id_status(changed) != "ok"


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.integers(0, 8), st.sampled_from("0123456789"))
@settings(max_examples=300)
def test_any_single_digit_change_breaks_an_org_code(body, pos, ch):
    # mod 11 over values up to 35 cannot see a letter swap that moves a value by 11 (0 ↔ B); digits it always sees
    code = body + ids.org_code_check_char(body)
    assert ids.org_code_status(code) == "ok"
    changed = code[:pos] + ch + code[pos + 1:]
    if changed != code and not (pos == 8 and ch == "X"):
        assert ids.org_code_status(changed) != "ok"


@given(st.lists(st.one_of(uscc_bodies.map(ids.make_uscc), st.text(alphabet=ids.USCC_CHARSET + "IOZ", max_size=19)),
                min_size=1, max_size=30))
@settings(max_examples=100)
def test_vectorised_uscc_check_agrees_with_python(codes):
    fmt, check = identifier_checks("uscc", pl.col("c"))
    out = pl.DataFrame({"c": codes}).select(fmt.alias("fmt"), (fmt & check).alias("ok"))
    for code, f_ok, ok in zip(codes, out["fmt"], out["ok"], strict=True):
        status = ids.uscc_status(code)
        assert f_ok == (status != "invalid_format")
        assert ok == (status == "ok")


@given(st.lists(st.one_of(id_bodies.map(ids.make_resident_id), st.text(alphabet="0123456789X", max_size=19)),
                min_size=1, max_size=30))
@settings(max_examples=100)
def test_vectorised_resident_id_check_agrees_with_python(codes):
    fmt, check = identifier_checks("resident_id", pl.col("c"))
    out = pl.DataFrame({"c": codes}).select((fmt & check).alias("ok"))
    assert out["ok"].to_list() == [ids.resident_id_status(c) == "ok" for c in codes]
