"""Hostile input the gates must handle by themselves (no services): ID numbers outside personal fields,
values the database cannot store, duplicate headers, truncated files, invisible characters, header-only files.
Every scan for clear ID numbers uses the platform's own scanner (standards.pii.find_ids)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import openpyxl
import polars as pl
import pytest

from credit_platform.catalog.items import catalog
from credit_platform.gates.record_contract import validate_frame
from credit_platform.gates.validation import validate_file
from credit_platform.ingest.staged_zone import with_key_hash
from credit_platform.standards.identifiers import make_resident_id
from credit_platform.standards.pii import find_ids, redact_column, redact_ids

RECEIVED = date(2026, 11, 20)
HEADER = ("行政相对人名称,行政相对人类别,行政相对人代码_1（统一社会信用代码）,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,"
          "处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
          "数据来源单位统一社会信用代码")
USCC = "91210100MA0PQR128P"


def row(no: int, facts: str = "当事人虚假宣传", uscc: str = USCC) -> str:
    return (f"沈阳兴盛商贸有限公司,法人及非法人组织,{uscc},王伟,沈市监罚〔2026〕{no}号,虚假宣传,\"{facts}\","
            "《反不正当竞争法》第二十条,罚款；警告,罚款2000元,0.2,2026/11/02,20271102,沈阳市市场监督管理局,"
            "11230500001755309F,沈阳市市场监督管理局,11230500001755309F")


ID = make_resident_id("21010219800101001")
FULL_WIDTH = ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# --- the scanner ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [ID, f"身份证{ID}号", f"abc{ID}def", f"\\u00a0{ID}", f"\\n{ID}\\t", FULL_WIDTH,
                                  f"9{ID}", ID.lower(), json.dumps({"备注": f"x{ID}"}),
                                  json.dumps({"备注": f"身份证{ID}"}, ensure_ascii=True)])
def test_the_scanner_finds_ids_however_they_are_glued(text):
    assert find_ids(text), text
    assert not find_ids(redact_ids(text)), redact_ids(text)


@pytest.mark.parametrize("text", ["91210100MA0PQR128P", "123456789012345678", "21010219801301001X",  # month 13
                                  "沈市监罚〔2026〕1号", "0.2", "20271102", "6222021234567890123"])
def test_the_scanner_leaves_other_numbers_alone(text):
    assert redact_ids(text) == text


def test_old_15_digit_ids_and_the_column_form():
    assert find_ids("x 210102800101001，y") == [(2, 17)]
    # no check digit: glued to letters it is not taken for one (hex hashes would be)
    assert find_ids("a387e9b785866880621931bc") == []
    col = pl.Series([None, "clean", f"a{ID}", "12345"])
    assert redact_column(col).to_list() == [None, "clean", f"a{redact_ids(ID)}", "12345"]


# --- ID numbers in the wrong place ---------------------------------------------------------------

def test_ids_in_free_text_and_in_a_uscc_column_never_leave_the_gate_in_clear():
    data = "\n".join([HEADER, row(1, facts=f"当事人身份证号{ID}，已核实"), row(2, uscc=ID), row(3, facts=FULL_WIDTH)])
    chunks: list = []
    report = validate_file((data + "\n").encode(), "administrative_penalty", RECEIVED, on_chunk=chunks.append,
                           name="b.csv")
    assert report.rows == 3 == report.accepted + report.rejected
    # the ID in the USCC column is masked, so it fails the format: wrong data, rejected with a clean message
    assert {(r["row"], r["reason"]) for r in report.rejections} == {(2, "invalid_format")}
    frame = pl.concat([c.frame for c in chunks])
    text = json.dumps(report.as_json(), ensure_ascii=False) + frame.write_csv()
    assert not find_ids(text)
    assert "2101**********" in text


# --- values the database cannot store ------------------------------------------------------------

def test_a_nul_after_the_first_8_kib_rejects_its_record_only():
    rows = [row(i) for i in range(1, 60)]
    rows.append(row(60, facts="坏\x00值"))
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    assert data.index(b"\x00") > 8192
    report = validate_file(data, "administrative_penalty", RECEIVED, name="b.csv")
    assert report.batch_error is None
    assert report.rows == 60 and report.rejected == 1
    [rej] = report.rejections
    assert (rej["row"], rej["reason"]) == (60, "invalid_character") and "不可见字符" in rej["message_zh"]


def test_nul_in_xlsx_and_json_lines_rejects_the_record():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    good = next(iter(pl.read_csv(io.StringIO(HEADER + "\n" + row(1)), infer_schema=False).rows()))
    ws.append(list(good))
    bad = list(next(iter(pl.read_csv(io.StringIO(HEADER + "\n" + row(2)), infer_schema=False).rows())))
    bad[6] = "坏POISON值"
    ws.append(bad)
    buf = io.BytesIO()
    wb.save(buf)
    # Excel's escape of a control character in a cell, `_x0000_`, which openpyxl reads back as NUL
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info).replace(b"POISON", b"_x0000_"))
    chunks: list = []
    report = validate_file(out.getvalue(), "administrative_penalty", RECEIVED, on_chunk=chunks.append, name="b.xlsx")
    assert report.rows == 2 == report.accepted + report.rejected
    facts = chunks[0].frame.get_column("CF_SY").to_list()
    # openpyxl's streaming reader keeps the escape as text, so a workbook cannot carry NUL into a value
    # (a raw NUL byte is not XML: unreadable_file); if it ever did, the record would be rejected, not loaded
    assert all("\x00" not in v for v in facts) or report.rejections[0]["reason"] == "invalid_character"

    names = HEADER.split(",")
    rec = dict(zip(names, good, strict=True))
    lines = [json.dumps(rec, ensure_ascii=False), json.dumps({**rec, "违法事实": "坏\u0000值"}),
             json.dumps({**rec, "处罚决定书文号": "x3", "违法事实": "坏"}).replace("坏", "\\ud800")]
    report = validate_file(("\n".join(lines) + "\n").encode(), "administrative_penalty", RECEIVED, name="b.jsonl")
    assert report.rows == 3 == report.accepted + report.rejected
    assert {(r["row"], r["reason"]) for r in report.rejections} >= {(2, "invalid_character")}


# --- nothing dropped without a word --------------------------------------------------------------

def test_a_duplicate_header_is_a_batch_error_naming_the_column():
    data = (HEADER + ",违法事实\n" + row(1) + ",另一份事实\n").encode()
    report = validate_file(data, "administrative_penalty", RECEIVED, name="b.csv")
    assert report.batch_error["reason"] == "duplicate_columns"
    assert "违法事实" in report.batch_error["message_zh"]


@pytest.mark.parametrize("tail, why", [('"某公司', "引号未闭合"), ("沈阳某公司,法人及非法人组织", "只有2列")])
def test_a_file_that_ends_mid_record_is_reported_as_truncated(tail, why):
    data = (HEADER + "\n" + row(1) + "\n" + tail).encode()
    report = validate_file(data, "administrative_penalty", RECEIVED, name="b.csv")
    assert report.batch_error["reason"] == "truncated_file" and why in report.batch_error["detail"]
    # a last line without a line break but complete is not truncation
    assert validate_file((HEADER + "\n" + row(1)).encode(), "administrative_penalty", RECEIVED,
                         name="b.csv").batch_error is None


def test_unknown_columns_are_warned_and_a_header_only_file_has_no_rows():
    report = validate_file((HEADER + f",备用{ID}\n").encode(), "administrative_penalty", RECEIVED, name="b.csv")
    assert report.batch_error is None and report.rows == 0
    assert report.warnings and not find_ids(" ".join(report.warnings))


def test_invisible_characters_do_not_change_the_natural_key():
    item = catalog().item("administrative_penalty")
    plain = pl.read_csv(io.StringIO(HEADER + "\n" + row(1)), infer_schema=False)
    names = {f.name: f.code for f in item.fields}
    frame = plain.rename(lambda h: names.get(h.replace("_1（统一社会信用代码）", ""), h))
    frame = frame.select([c for c in frame.columns if c in item.codes])
    dirty = frame.with_columns([(pl.lit("\ufeff") + pl.col(c) + pl.lit("\u200b")).alias(c) for c in item.natural_key])
    a = validate_frame(item, frame, RECEIVED).frame
    b = validate_frame(item, dirty, RECEIVED).frame
    assert with_key_hash(a, item)["natural_key_hash"].to_list() == with_key_hash(b, item)["natural_key_hash"].to_list()
