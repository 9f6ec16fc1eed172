"""`credit-platform validate` on real files: every reason code, every encoding and format, exact ground truth."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from credit_platform.dev.generator import GenSpec, write_csv, write_xlsx
from credit_platform.gates.reasons import BATCH_REASONS, RECORD_REASONS

CLI = str(Path(sys.executable).parent / "credit-platform")
RECEIVED = date(2026, 11, 20)
ALL_REASONS = {r: 0.05 for r in RECORD_REASONS}  # 55% of rows carry one planted defect


def validate(path: Path, item: str = "administrative_penalty") -> tuple[int, dict]:
    proc = subprocess.run([CLI, "validate", str(path), "--item", item, "--received-on", RECEIVED.isoformat()],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be ONE JSON object, got {proc.stdout[:500]!r} / {proc.stderr[-500:]}"
    return proc.returncode, json.loads(lines[0])


def truth(path: Path) -> set[tuple[int, str, str]]:
    with open(path, encoding="utf-8") as fh:
        return {(int(r["row"]), r["field"], r["reason"]) for r in csv.DictReader(fh)}


def got(report: dict) -> set[tuple[int, str, str]]:
    return {(r["row"], r["field"], r["reason"]) for r in report["rejections"]}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_every_reason_code_in_csv_matches_ground_truth(tmp_path, encoding):
    spec = GenSpec("administrative_penalty", 600, seed=11, rates=ALL_REASONS, received_on=RECEIVED)
    data, planted = tmp_path / "penalties.csv", tmp_path / "truth.csv"
    write_csv(spec, data, planted, encoding=encoding)
    rc, report = validate(data)
    assert rc == 0 and report["batch_error"] is None
    assert got(report) == truth(planted)
    assert {r for _, _, r in got(report)} == set(RECORD_REASONS)
    rejected_rows = {row for row, _, _ in got(report)}
    assert report["rows"] == 600
    assert report["rejected"] == len(rejected_rows)
    assert report["accepted"] == 600 - len(rejected_rows)
    for r in report["rejections"]:
        assert r["message_zh"] and set(r) == {"row", "field", "reason", "message_zh"}


def test_every_reason_code_in_xlsx_with_real_date_cells(tmp_path):
    spec = GenSpec("administrative_penalty", 400, seed=12, rates=ALL_REASONS, received_on=RECEIVED)
    data, planted = tmp_path / "penalties.xlsx", tmp_path / "truth.csv"
    write_xlsx(spec, data, planted)
    rc, report = validate(data)
    assert rc == 0
    assert got(report) == truth(planted)
    assert {r for _, _, r in got(report)} == set(RECORD_REASONS)


@pytest.mark.parametrize("item", ["administrative_license", "dishonest_judgment_debtor", "gov_dishonest_debtor_case",
                                  "utility_payment", "serious_gov_dishonesty", "administrative_inspection"])
def test_other_items_match_ground_truth(tmp_path, item):
    spec = GenSpec(item, 500, seed=13, defect_rate=0.3, received_on=RECEIVED)
    data, planted = tmp_path / "batch.csv", tmp_path / "truth.csv"
    write_csv(spec, data, planted)
    rc, report = validate(data, item)
    assert rc == 0 and got(report) == truth(planted)


HEADER = ("行政相对人名称,行政相对人类别,行政相对人代码_1（统一社会信用代码）,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,"
          "处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
          "数据来源单位统一社会信用代码")
GOOD = ("沈阳兴盛商贸有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,沈市监罚〔2026〕1号,虚假宣传,\"经查，\n当事人虚假宣传\","
        "《反不正当竞争法》第二十条,罚款；警告,罚款2000元,0.2,2026/11/02,20271102,沈阳市市场监督管理局,11230500001755309F,"
        "沈阳市市场监督管理局,11230500001755309F")


def test_quoted_newlines_crlf_and_header_variants(tmp_path):
    f = tmp_path / "b.csv"
    header = HEADER.replace("行政相对人名称", " 行政相对人 名称 ").replace("（统一社会信用代码）", "(统一社会信用代码)")
    person = ("王某,自然人,,,沈市监罚〔2026〕2号,虚假宣传,事实,依据,警告,警告,,2026-11-03,2027-11-03,"
              "沈阳市市场监督管理局,11230500001755309F,沈阳市市场监督管理局,11230500001755309F")
    f.write_bytes((header + ",多余列\r\n" + GOOD + ",x\r\n" + person + ",y\r\n").encode("utf-8"))
    rc, report = validate(f)
    assert rc == 0
    assert report["rows"] == 2 and report["accepted"] == 1
    # the second record (after a quoted newline) is row 2, and the person lacks 证件类型/证件号码
    assert got(report) == {(2, "CF_XDR_ZJLX", "required_missing"), (2, "CF_XDR_ZJHM", "required_missing")}
    assert any("多余列" in w for w in report["warnings"])


def test_national_codes_as_headers_and_full_width_normalisation(tmp_path):
    from credit_platform.catalog.items import catalog

    item = catalog().item("administrative_penalty")
    names = {f.name: f.code for f in item.fields}
    header = ",".join(names.get(h, h) for h in HEADER.replace("（统一社会信用代码）", "(统一社会信用代码)").split(","))
    header = header.replace("行政相对人代码_1(统一社会信用代码)", "CF_XDR_SHXYM")
    full_width_uscc = "９１２１０１００ＭＡ０ＰＱＲ１２８Ｐ"
    row = GOOD.replace("91210100MA0PQR128P", full_width_uscc).replace("2026/11/02", "２０２６－１１－０２")
    (tmp_path / "c.csv").write_text(header + "\n" + row + "\n", encoding="utf-8")
    rc, report = validate(tmp_path / "c.csv")
    assert rc == 0, report
    assert report["accepted"] == 1, report["rejections"]


def test_id_numbers_are_masked_in_messages(tmp_path):
    clear = "210102198001010011"  # wrong check digit: its message must not show it
    person = ("王某,自然人,,,沈市监罚〔2026〕3号,虚假宣传,事实,依据,警告,警告,,2026-11-03,2027-11-03,"
              "沈阳市市场监督管理局,11230500001755309F,沈阳市市场监督管理局,11230500001755309F,身份证," + clear)
    (tmp_path / "d.csv").write_text(HEADER + ",证件类型,证件号码\n" + person + "\n", encoding="utf-8")
    proc = subprocess.run([CLI, "validate", str(tmp_path / "d.csv"), "--item", "administrative_penalty",
                           "--received-on", "2026-11-20"], capture_output=True, text=True)
    report = json.loads(proc.stdout)
    assert got(report) == {(1, "CF_XDR_ZJHM", "invalid_checksum")}
    assert clear not in proc.stdout + proc.stderr
    assert "2101**********0011" in report["rejections"][0]["message_zh"]
    assert report["rejections"][0]["message_zh"].endswith("号码以打码形式显示，请填写完整的正确号码。")


def test_a_resident_id_whose_birth_date_is_no_day_is_rejected_even_with_a_right_check_digit(tmp_path):
    from credit_platform.standards.identifiers import make_resident_id

    ids = [make_resident_id(f"210100{born}975") for born in ("19961326", "19960230", "19960229")]
    rows = [(f"王某,自然人,,,沈市监罚〔2026〕{n}号,虚假宣传,事实,依据,警告,警告,,2026-11-03,2027-11-03,"
             f"沈阳市市场监督管理局,11230500001755309F,沈阳市市场监督管理局,11230500001755309F,身份证,{i}")
             for n, i in enumerate(ids, start=1)]
    (tmp_path / "b.csv").write_text(HEADER + ",证件类型,证件号码\n" + "\n".join(rows) + "\n", encoding="utf-8")
    rc, report = validate(tmp_path / "b.csv")
    assert rc == 0
    # 1996-02-29 is a real day: only the first two are wrong numbers
    assert got(report) == {(1, "CF_XDR_ZJHM", "invalid_format"), (2, "CF_XDR_ZJHM", "invalid_format")}
    assert all("出生日期" in r["message_zh"] for r in report["rejections"])
    assert not any(i in json.dumps(report, ensure_ascii=False) for i in ids)


def test_an_id_number_typed_into_a_remark_is_kept_masked_and_the_unit_is_told(tmp_path):
    clear = "210102198001010010"
    rows = [GOOD + ",当事人身份证" + clear, GOOD.replace("〔2026〕1号", "〔2026〕2号") + ",无"]
    (tmp_path / "r.csv").write_text(HEADER + ",备注\n" + "\n".join(rows) + "\n", encoding="utf-8")
    rc, report = validate(tmp_path / "r.csv")
    assert rc == 0 and report["accepted"] == 2
    assert report["warnings"] == ["以下字段中填写了身份证号码，平台已打码保存（不保存明文），请核对业务系统的导出：「备注」1条"]
    assert clear not in json.dumps(report, ensure_ascii=False)


def _batch_error(tmp_path, name: str, content: bytes) -> tuple[int, dict]:
    f = tmp_path / name
    f.write_bytes(content)
    return validate(f)


def test_batch_errors(tmp_path):
    cases = {
        "empty_file": ("empty.csv", b""),
        "unsupported_format": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        "undecodable_text": ("bad.csv", HEADER.encode() + b"\n\x81\x30\xff\xfe\x80\x80,\x81\n"),
        "missing_columns": ("cols.csv", "行政相对人名称,处罚类别\n某公司,罚款\n".encode()),
        "unreadable_file": ("broken.xlsx", b"PK\x03\x04" + b"not really a zip" * 20),
        "duplicate_columns": ("dup.csv", (HEADER + ",行政相对人名称\n").encode()),
        "truncated_file": ("cut.csv", (HEADER + '\n"某公司').encode()),
        "too_large": ("wide.csv", (HEADER + "".join(f",x{i}" for i in range(400)) + "\n").encode()),
    }
    seen = set()
    for reason, (name, content) in cases.items():
        rc, report = _batch_error(tmp_path, name, content)
        assert rc == 2, (reason, report)
        assert report["batch_error"]["reason"] == reason
        assert report["batch_error"]["detail"]
        assert report["rows"] == 0 and report["rejections"] == []
        seen.add(reason)
    assert seen == set(BATCH_REASONS) - {"load_failed"}  # load_failed is the loader's, after the gates


def test_missing_columns_are_named(tmp_path):
    rc, report = _batch_error(tmp_path, "cols.csv", "行政相对人名称,处罚类别\n某公司,罚款\n".encode())
    assert rc == 2
    assert "处罚决定日期（CF_JDRQ）" in report["batch_error"]["detail"]


@pytest.mark.parametrize(("content", "says"), [
    (HEADER.encode() + b'\n"unterminated,1\n2,3\n', "引号不配对"),  # broken quoting
    # more fields than the header, on the file's fourth line: the clerk is told which
    (HEADER.encode() + b"\n" + b"a," * 2 + b"a\n" + b"a\n" + b"a," * 40 + b"\n",
     f"第4行有41列，多于表头的{HEADER.count(',') + 1}列"),
])
def test_broken_csv_is_a_clear_batch_error(tmp_path, content, says):
    rc, report = _batch_error(tmp_path, "broken.csv", content)
    assert rc == 2 and report["batch_error"]["reason"] == "unreadable_file"
    assert "CSV" in report["batch_error"]["detail"] and says in report["batch_error"]["detail"]
    assert report["batch_error"]["message_zh"].count("重新导出") <= 1  # the advice once, not twice


def _good_xlsx(tmp_path: Path, rows: int) -> Path:
    good = tmp_path / "good.xlsx"
    write_xlsx(GenSpec("administrative_penalty", rows, seed=1, received_on=RECEIVED), good)
    return good


def test_truncated_xlsx_is_unreadable(tmp_path):
    good = _good_xlsx(tmp_path, 50)
    data = good.read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    rc, report = validate(tmp_path / "cut.xlsx")
    assert rc == 2 and report["batch_error"]["reason"] == "unreadable_file"
    assert zipfile.is_zipfile(good)


def test_hostile_content_is_data_not_code(tmp_path):
    hostile = GOOD.replace("虚假宣传", "=cmd|' /C calc'!A0").replace("王伟", "<script>alert(1)</script>")
    (tmp_path / "h.csv").write_text(HEADER + "\n" + hostile + "\n", encoding="utf-8")
    rc, report = validate(tmp_path / "h.csv")
    assert rc == 0 and report["accepted"] == 1


def test_unknown_item_is_a_friendly_error(tmp_path):
    (tmp_path / "x.csv").write_text("a\n1\n")
    proc = subprocess.run([CLI, "validate", str(tmp_path / "x.csv"), "--item", "no_such_item"],
                          capture_output=True, text=True)
    assert proc.returncode == 64
    assert "unknown catalog item 'no_such_item'" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = subprocess.run([CLI, "validate", str(tmp_path / "nope.csv"), "--item", "administrative_penalty"],
                             capture_output=True, text=True)
    assert (missing.returncode, missing.stdout) == (64, "") and "nope.csv is not a file" in missing.stderr


def test_zip_bomb_xlsx_is_refused_before_parsing(tmp_path):
    # a workbook whose sheet XML is 300 MB of padding that compresses to a few hundred KB
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                fh.write(chunk)
    assert bomb.stat().st_size < 2 << 20
    rc, report = validate(bomb)
    assert rc == 2 and report["batch_error"]["reason"] == "too_large"  # a limit of gates/limits.py (#10)
    assert "疑似恶意文件" in report["batch_error"]["detail"]


def test_xml_entity_expansion_is_refused(tmp_path):
    good = _good_xlsx(tmp_path, 5)
    evil = tmp_path / "evil.xlsx"
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = laughs.encode()
            dst.writestr(info, data)
    rc, report = validate(evil)
    assert rc == 2 and report["batch_error"]["reason"] == "unreadable_file"
    assert "XML实体" in report["batch_error"]["detail"]  # defusedxml stopped it, not a crash (said in Chinese)


def test_transcoded_copy_of_a_gbk_file_is_removed(tmp_path, monkeypatch):
    """A GB18030 batch is transcoded to UTF-8 in a temp dir; that copy holds clear ID numbers and must go."""
    import tempfile

    from credit_platform.gates.validation import validate_file

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = tmp_path / "gbk.csv"
    write_csv(GenSpec("administrative_penalty", 50, seed=3, received_on=RECEIVED), data, tmp_path / "t.csv",
              encoding="gb18030")
    report = validate_file(data, "administrative_penalty", RECEIVED)
    assert report.encoding == "gb18030" and report.rows == 50
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_a_batch_in_memory_reads_exactly_like_the_file(tmp_path, fmt):
    """Ingestion gates the raw-zone bytes without a temp file; the result must not depend on that."""
    from credit_platform.gates.validation import validate_file

    spec = GenSpec("administrative_penalty", 300, seed=5, rates=ALL_REASONS, received_on=RECEIVED)
    if fmt == "xlsx":
        path = tmp_path / "b.xlsx"
        write_xlsx(spec, path, tmp_path / "t.csv")
    else:
        path = tmp_path / "b.csv"
        write_csv(spec, path, tmp_path / "t.csv", encoding=fmt)
    from_file = validate_file(path, "administrative_penalty", RECEIVED)
    in_memory = validate_file(path.read_bytes(), "administrative_penalty", RECEIVED, name=path.name)
    assert in_memory.as_json() == from_file.as_json() and from_file.rejected > 0
    assert in_memory.encoding == from_file.encoding


def test_json_lines_in_memory(tmp_path):
    from credit_platform.gates.validation import validate_file

    data = b'{"CF_WSH": "x"}\n{"CF_WSH": "y"}\n'
    report = validate_file(data, "administrative_penalty", RECEIVED, name="api.jsonl")
    # read as JSON (keys are headers): only the other required columns are missing
    assert report.batch_error["reason"] == "missing_columns"
    assert "CF_XDR_MC" in report.batch_error["detail"] and "CF_WSH" not in report.batch_error["detail"]


def test_a_workbook_without_its_sheet_is_unreadable(tmp_path):
    good = _good_xlsx(tmp_path, 5)
    sheetless = tmp_path / "sheetless.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(sheetless, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                dst.writestr(info, src.read(info.filename))
    rc, report = validate(sheetless)
    assert rc == 2 and report["batch_error"]["reason"] == "unreadable_file"
    assert "没有工作表" in report["batch_error"]["detail"]
