"""Indicators and monthly reports on a hand-computed history (dev/report_scenario.py) landed through the real gates
into a database and buckets of their own: exact indicator values, the drill-down, XLSX re-read against the marts,
formula injection, the HTML in headless Chromium, a past month re-run after later corrections, delivery failures
retried without resending, and the reports_monthly DAG."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import openpyxl
import polars as pl
import psycopg
import pytest

from credit_platform import clock
from credit_platform.dev import report_scenario as sc
from credit_platform.dev import services
from credit_platform.reports import frames, gate, publish, schedule
from credit_platform.settings import Settings
from credit_platform.warehouse import dbt_build

DB, PREFIX = "credit_reports_test", "test-rpt-"
OCT = "2026-10"
HULUDAO_OFFICE = "huludao_credit_office"


@contextmanager
def env_of(s: Settings):
    """dbt and the CLI read CP_* from the environment: point them at this test's database, then restore."""
    keys = {"CP_PG_DATABASE": s.pg_database, "CP_S3_BUCKET_PREFIX": s.bucket_prefix}
    saved = {k: os.environ.get(k) for k in [*keys, "CP_PG_HOST", "CP_PG_PORT", "CP_PG_USER", "CP_PG_PASSWORD"]}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build(s: Settings) -> None:
    with env_of(s):
        # what the warehouse build owns and the report models read: seeds, the obligations and the case history
        for args in (["seed", "--select", "path:seeds"], ["run", "--select", "path:models/marts/obligations"],
                     ["run", "--select", "+fct_gov_dishonest_case_history"]):
            wh = dbt_build.run(s, args)
            assert wh.success, wh.failed()
        schedule.build_report_models(s)  # the report models with their data tests and unit tests


@pytest.fixture(scope="module")
def rs(settings: Settings) -> Settings:
    s = dataclasses.replace(settings, pg_database=DB, bucket_prefix=PREFIX)
    with services.pg_superuser_conn(s) as conn:
        conn.execute(f"drop database if exists {DB} with (force)")
    services.pg_ensure_role_and_db(s)
    services.ensure_buckets(s)
    from credit_platform import object_store
    from credit_platform.settings import ZONES

    c = object_store.client(s)
    for zone in ZONES:
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    sc.feed(s, sc.october_batches())
    build(s)
    return s


def rows(s: Settings, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, params).fetchall()


def test_october_indicators_hand_computed_for_unit_and_city(rs):
    got = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows(rs, """
        select indicator, numerator, denominator, value, flagged from reports.rpt_indicators
        where subject_type = 'unit' and subject_code = %s and period_type = 'month' and period = %s""",
        (sc.UNIT, OCT))}
    for indicator, (num, den) in sc.EXPECTED_OCTOBER.items():
        assert got[indicator][:2] == (num, den), indicator
        assert Fraction(str(got[indicator][2])).limit_denominator(1000) == Fraction(num, den), indicator
    assert got["lateness"][3] is True and got["timeliness"][3] is False  # 4/6 > 50 %: flagged for rectification
    # 完整率 from fct_obligations: obligations falling due in October, some met
    assert got["completeness"][1] > 0 and 0 <= got["completeness"][2] <= 1
    # Huludao has one unit: the city's figures are the unit's; the quarter so far is October
    city = {r[0]: (r[1], r[2]) for r in rows(rs, """select indicator, numerator, denominator from reports.rpt_indicators
        where subject_type = 'city' and subject_code = %s and period = %s""", (sc.CITY, OCT))}
    assert {k: city[k] for k in sc.EXPECTED_OCTOBER} == sc.EXPECTED_OCTOBER
    quarter = dict(rows(rs, """select indicator, denominator from reports.rpt_indicators where subject_code = %s
        and period_type = 'quarter' and period = '2026-Q4'""", (sc.UNIT,)))
    assert quarter["compliance"] == 13


def test_indicators_cli_json(rs, monkeypatch):
    from typer.testing import CliRunner

    from credit_platform.cli import app

    with env_of(rs):
        res = CliRunner().invoke(app, ["indicators", "--period", OCT, "--unit", sc.UNIT, "--json"])
        nope = CliRunner().invoke(app, ["indicators", "--period", OCT, "--unit", "nope"])
    assert res.exit_code == 0, res.output
    assert nope.exit_code == 64 and "unknown unit or city 'nope'" in nope.output
    out = {o["indicator"]: o for o in json.loads(res.stdout)}
    assert {k: (o["numerator"], o["denominator"]) for k, o in out.items() if k in sc.EXPECTED_OCTOBER} \
        == sc.EXPECTED_OCTOBER
    assert out["correction"]["unit"] == sc.UNIT and out["correction"]["period"] == OCT
    assert abs(out["correction"]["value"] - 1 / 5) < 1e-9


def test_drilldown_lists_the_records_behind_numerators_and_denominators(rs):
    dd = rows(rs, """select indicator, batch_id, row_no, records, in_numerator from reports.rpt_indicator_drilldown
        where subject_type = 'unit' and subject_code = %s and period = %s order by 1, 2, 3""", (sc.UNIT, OCT))
    by = {}
    for ind, batch, row, n, num in dd:
        by.setdefault(ind, []).append((batch, row, n, num))
    for indicator, (num, den) in sc.EXPECTED_OCTOBER.items():
        assert sum(n for *_, n, _ in by[indicator]) == den, indicator
        assert sum(n for *_, n, flag in by[indicator] if flag) == num, indicator
    # the unreadable upload stands for one record, with no row behind it
    assert [(r, n) for _b, r, n, _f in by["compliance"] if r is None] == [(None, 1)]
    # the two repeats: the duplicate row of the first batch and the copy of r1 on Oct 30
    received = {b: at for b, at in rows(rs, "select batch_id, received_at from landing.batches")}
    repeats = sorted((received[b].date().isoformat(), r) for b, r, _n, f in by["duplication"] if f)
    assert [d for d, _ in repeats] == ["2026-10-09", "2026-10-30"]
    # 及时率 lists the rejected records too: of Oct 20's batch r12 (readable date, late) and not r13 (unreadable)
    b5 = rows(rs, "select batch_id from landing.batches where received_at = '2026-10-20 10:00+08'")[0][0]
    assert rows(rs, "select row_no, decision_date, on_time from landing.rejected_records where batch_id = %s"
                    " order by row_no", (b5,)) == [(1, date(2026, 9, 30), False), (2, None, None)]
    assert [(r, flag) for b, r, _n, flag in by["timeliness"] if b == b5] == [(1, False)]
    assert [(r, flag) for b, r, _n, flag in by["lateness"] if b == b5] == [(1, True)]
    # all five rejected records with a readable decision date, on time: r3, r4, r5 of the first batch
    rejected = rows(rs, """select d.in_numerator from reports.rpt_indicator_drilldown d
        join reports.rpt_rejected_records r on r.batch_id = d.batch_id and r.row_no = d.row_no
        where d.indicator = 'timeliness' and d.subject_type = 'unit' and d.period = %s order by r.received_at""", (OCT,))
    assert [f for (f,) in rejected] == [True, True, True, False, False]


def test_gov_cases_as_of_october(rs):
    cols = list(sc.EXPECTED_GOV_OCTOBER)
    for where in ("scope = 'all' and dimension = 'total'", f"scope = 'all' and dimension = 'city' and dim_value = '{sc.CITY}'"):
        got = rows(rs, f"select {', '.join(cols)}, resolution_rate from reports.rpt_gov_case_summary"
                       f" where period = %s and {where}", (OCT,))
        assert dict(zip(cols, got[0][:-1], strict=True)) == sc.EXPECTED_GOV_OCTOBER
        assert Fraction(str(got[0][-1])).limit_denominator(100) == Fraction(2, 3)


def _xlsx_sheet(data: bytes, title_part: str):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    name = next(n for n in wb.sheetnames if title_part in n)
    return wb, wb[name]


def test_xlsx_reread_equals_the_marts_with_formats_frozen_headers_and_charts(rs):
    pub = publish.publish(rs, "data_quality", HULUDAO_OFFICE, OCT)
    from credit_platform import object_store

    data = object_store.get(object_store.client(rs), rs.bucket("reports"), pub.keys[0])
    assert pub.keys[0] == f"data_quality/{HULUDAO_OFFICE}/{OCT}/data_quality-{HULUDAO_OFFICE}-{OCT}.xlsx"
    wb, ws = _xlsx_sheet(data, "排名")
    assert wb.sheetnames[0] == "通报"
    header = [c.value for c in ws[3]]
    assert header[:5] == ["全省排名", "信源单位", "所属地区", "收到记录数", "通过校验数"] and "迟报率" in header and header[-1] == "上月全省排名"
    assert ws.freeze_panes == "A4"
    record = next(r for r in ws.iter_rows(min_row=4, values_only=False) if r[1].value == "葫芦岛市公共信用信息共享平台")
    values = dict(zip(header, record, strict=False))
    marts = dict(rows(rs, """select indicator, value from reports.rpt_indicators where subject_type = 'unit'
        and subject_code = %s and period_type = 'month' and period = %s""", (sc.UNIT, OCT)))
    for zh, code in (("合规率", "compliance"), ("迟报率", "lateness"), ("整改率", "correction"),
                     ("重复报送率", "duplication"), ("完整率", "completeness")):
        assert abs(values[zh].value - float(marts[code])) < 1e-12, zh
        assert values[zh].number_format == "0.0%"
    assert values["收到记录数"].value == 13 and values["收到记录数"].number_format == "#,##0"
    assert ws.column_dimensions["B"].width >= 30  # the unit names fit
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert charts, "native Excel charts"
    _, flagged = _xlsx_sheet(data, "迟报率")
    assert [c.value for c in flagged[4]][:2] == ["葫芦岛市公共信用信息共享平台", "葫芦岛市"]


def test_formula_injection_is_neutralised(rs):
    assert gate.neutralise("=1+1") == "'=1+1" and gate.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert gate.neutralise("-2") == "'-2" and gate.neutralise("某县人民政府") == "某县人民政府"
    _r, body = publish.produce(rs, "gov_cases", HULUDAO_OFFICE, OCT)
    _, ws = _xlsx_sheet(body["xlsx"], "清单")
    names = [ws.cell(row=i, column=1) for i in range(4, ws.max_row + 1)]
    hostile = [c for c in names if "HYPERLINK" in str(c.value)]
    assert hostile and all(c.data_type == "s" and c.value.startswith("'=") for c in hostile)
    # the page shows the name as it came (escaped, inert in HTML), without the spreadsheet's apostrophe
    html = body["html"].decode()
    assert "=HYPERLINK(&#34;http://x&#34;)某镇政府" in html and "&#39;=HYPERLINK" not in html


def test_gate_refuses_a_frame_with_a_clear_id_number_or_a_rate_out_of_range(rs):
    r = frames.build(rs, "data_quality", HULUDAO_OFFICE, OCT)
    bad = r.sections[0]
    from credit_platform.standards.identifiers import make_resident_id

    bad.frame = bad.frame.with_columns(pl.lit(f"某单位{make_resident_id('21010219900307451')}").alias("unit_name"))
    with pytest.raises(gate.GateError, match="no_clear_id_numbers"):
        gate.check(r)
    r = frames.build(rs, "data_quality", HULUDAO_OFFICE, OCT)
    r.sections[0].frame = r.sections[0].frame.with_columns(pl.lit(1.5).alias("compliance"))
    with pytest.raises(gate.GateError, match="ranking"):
        gate.check(r)
    r = frames.build(rs, "data_quality", HULUDAO_OFFICE, OCT)
    r.reconciliations[0] = (r.reconciliations[0][0], r.reconciliations[0][1] + 1, r.reconciliations[0][2])
    with pytest.raises(gate.GateError, match="reconcile"):
        gate.check(r)


# --- units and cities without data: not scored, not ranked, no change against nothing ------------------------------
PROVINCE_OFFICE = "ln_credit_office"


def test_units_without_data_are_listed_unranked_after_the_ranked_and_kept_out_of_the_chart(rs):
    import re

    r = frames.build(rs, "data_quality", PROVINCE_OFFICE, OCT)
    ranking = r.sections[0].frame
    # in October only Huludao's platform and the court sent data
    sent = set(ranking.filter(pl.col("received") > 0)["unit_code"].to_list())
    assert sent == {sc.UNIT, sc.COURT}
    ranked = ranking.filter(pl.col("rank").is_not_null())
    assert set(ranked["unit_code"].to_list()) == sent and ranking["rank"].to_list()[:2] == sorted(ranked["rank"])
    silent = ranking.filter(pl.col("received") == 0)
    assert silent.height == ranking.height - 2 and silent["score"].null_count() == silent.height
    assert ranking["unit_code"].to_list()[2:] == silent["unit_code"].to_list()  # after the ranked ones
    # 完整率 of a unit with obligations due and nothing received is a real 0 %, not "no data"
    assert (silent.filter(pl.col("completeness").is_not_null())["completeness"] == 0).all()
    assert silent.filter(pl.col("completeness").is_not_null()).height > 0
    # Huludao sent nothing in September: no score then, so no change and no previous rank (not +score against 0)
    hld = ranking.filter(pl.col("unit_code") == sc.UNIT).row(0, named=True)
    assert hld["score"] is not None and hld["score_change"] is None and hld["prev_rank"] is None
    assert any("本月未报送数据的单位" in line and f"{silent.height}家" in line for line in r.headline)

    _r, body = publish.produce(rs, "data_quality", PROVINCE_OFFICE, OCT)
    page = body["html"].decode()
    section = page.split('<section id="ranking">')[1].split("</section>")[0]
    svg = section.split("<svg")[1].split("</svg>")[0]
    assert svg.count("</title></rect>") == 2  # two bars, no empty axis slots
    assert svg.count('transform="rotate(-35') == 2
    table_rows = section.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    hld_row = next(tr for tr in table_rows if "葫芦岛市公共信用信息共享平台" in tr)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", hld_row)
    assert cells[-2:] == ["—", "—"]  # 得分较上月, 上月排名
    for tr in table_rows[2:]:
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", tr)
        assert cells[0] == "—" and cells[-3:] == ["无数据", "—", "—"], cells

    _wb, ws = _xlsx_sheet(body["xlsx"], "排名")
    header = [c.value for c in ws[3]]
    score_col = header.index("综合得分")
    sheet = list(ws.iter_rows(min_row=4, values_only=True))
    scores = [row[score_col] for row in sheet]
    assert scores[2:] == ["无数据"] * silent.height and all(isinstance(v, int | float) for v in scores[:2])
    hld_cells = dict(zip(header, next(r for r in sheet if r[1] == "葫芦岛市公共信用信息共享平台"), strict=False))
    assert hld_cells["得分较上月"] == "—" and hld_cells["上月排名"] == "—"
    assert {r[0] for r in sheet[2:]} == {"—"}  # no rank
    with zipfile.ZipFile(io.BytesIO(body["xlsx"])) as z:
        chart = next(z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart"))
    assert "$B$4:$B$5<" in chart  # the chart's categories: the two ranked units only


def test_cities_without_data_are_not_assessed_or_ranked(rs):
    r = frames.build(rs, "city_assessment", PROVINCE_OFFICE, OCT)
    table = r.sections[0].frame
    assessed = table.filter(pl.col("rank").is_not_null())
    assert assessed["city_code"].to_list() == [sc.CITY]  # only Huludao's unit sent data; the court is provincial
    others = table.filter(pl.col("city_code") != sc.CITY)
    assert others["composite"].null_count() == others.height and not others["has_data"].any()
    assert others["data_quality_score"].null_count() == others.height
    assert r.sections[0].chart_count() == 1
    _r, body = publish.produce(rs, "city_assessment", PROVINCE_OFFICE, OCT)
    assert body["html"].decode().count("无数据") == 2 * others.height  # 数据质量得分 and 综合得分 of each
    assert not any(h.startswith("本市") for h in r.headline)


def test_a_city_office_gets_the_whole_ranking_and_its_own_place_in_the_headline(rs):
    own = frames.build(rs, "city_assessment", HULUDAO_OFFICE, OCT)
    province = frames.build(rs, "city_assessment", PROVINCE_OFFICE, OCT)
    assert own.sections[0].frame.equals(province.sections[0].frame)
    composite = own.sections[0].frame.filter(pl.col("city_code") == sc.CITY)["composite"][0]
    assert f"本市（葫芦岛市）综合得分{composite:.1f}分，全省排名第1/1。" in own.headline
    dalian = frames.build(rs, "city_assessment", "dalian_credit_office", OCT)
    assert "本市（大连市）本月无数据质量得分，不参与考核排名。" in dalian.headline


# --- the HTML in a real browser ---------------------------------------------------------------------------------
def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe or not shutil.which("pdftotext") or not subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        # a new machine has no package lists yet: update them first (install fails without them)
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "fonts-noto-cjk", "poppler-utils"],
                       check=True, capture_output=True, timeout=900)
        exe = shutil.which("chromium")
    return exe


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Rows of RGB(A) pixels of an 8-bit PNG (what Chromium writes), unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, out, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return width, bpp, out


def test_html_renders_offline_in_headless_chromium(rs, tmp_path):
    exe = _chromium()
    _, body = publish.produce(rs, "data_quality", "ln_credit_office", OCT)
    page = body["html"].decode()
    assert "http://" not in page.split("<body>")[0] and "<script" not in page and "<link" not in page
    path = tmp_path / "report.html"
    path.write_bytes(body["html"])
    shot, pdf = tmp_path / "shot.png", tmp_path / "print.pdf"
    subprocess.run([exe, *CHROMIUM_FLAGS, "--window-size=1200,1600", f"--screenshot={shot}", path.as_uri()],
                   check=True, capture_output=True, timeout=120)
    subprocess.run([exe, *CHROMIUM_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri()],
                   check=True, capture_output=True, timeout=120)
    width, bpp, pixels = _png_pixels(shot.read_bytes())
    colours = {}
    for line in pixels[::2]:
        for x in range(0, width * bpp, bpp * 2):
            px = line[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
    bar = bytes.fromhex("2f5597")  # the first series' colour: the ranking chart drew bars
    assert sum(n for px, n in colours.items() if max(abs(a - b) for a, b in zip(px, bar, strict=True)) < 12) > 500
    heading = bytes.fromhex("b00000")  # the red 通报 title and rule
    assert sum(n for px, n in colours.items() if max(abs(a - b) for a, b in zip(px, heading, strict=True)) < 24) > 50
    dark = sum(n for px, n in colours.items() if max(px) < 90)
    assert dark > 2000, "text was drawn"
    # Chinese is drawn with a CJK font (what fontconfig gives Chromium for zh), and the text is really there
    # (printed as an A4 page; Chromium embeds nameless Type 3 fonts, so the text is checked, not font names)
    font = subprocess.run(["fc-match", ":lang=zh-cn"], capture_output=True, text=True, check=True).stdout
    assert "CJK" in font, font
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "信源单位数据质量通报" in text and "葫芦岛市公共信用信息共享平台" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "(A4)" in info, info  # the print stylesheet's @page size


# --- reproducible past months --------------------------------------------------------------------------------
def test_past_month_rerun_after_later_corrections_is_identical(rs):
    first = {rep: publish.publish(rs, rep, office, OCT)
             for rep in ("gov_cases", "data_quality") for office in (HULUDAO_OFFICE,)}
    from credit_platform import object_store

    c = object_store.client(rs)
    stored = {k: object_store.get(c, rs.bucket("reports"), k) for p in first.values() for k in p.keys}
    oct_rows = rows(rs, "select * from reports.rpt_indicators where period = %s order by 1, 2, 3, 4, 5, 6", (OCT,))
    sc.feed(rs, sc.later_batches())  # Nov 3: r10 corrected within its window; case C deleted
    build(rs)
    assert rows(rs, "select * from reports.rpt_indicators where period = %s order by 1, 2, 3, 4, 5, 6", (OCT,)) \
        == oct_rows
    for rep in ("gov_cases", "data_quality"):
        again = publish.publish(rs, rep, HULUDAO_OFFICE, OCT)
        assert again.status == "unchanged" and not again.differs
        _, body = publish.produce(rs, rep, HULUDAO_OFFICE, OCT)
        assert body["xlsx"] == stored[again.keys[0]] and body["html"] == stored[again.keys[1]]
    # the later data count where they belong: November's gov cases, r10's correction was October's (after cutoff)
    nov = rows(rs, """select outstanding_start, resolved, outstanding_end, cleared from reports.rpt_gov_case_summary
        where period = '2026-11' and scope = 'all' and dimension = 'city' and dim_value = %s""", (sc.CITY,))
    assert nov == [(1, 1, 0, True)]
    oct_corrected = rows(rs, """select corrected_by_batch is not null, corrected_in_window from
        reports.rpt_rejected_records where unit_code = %s and received_at >= '2026-10-30' and not duplicate_only""",
                         (sc.UNIT,))
    assert oct_corrected == [(True, True)]


# --- delivery ----------------------------------------------------------------------------------------------------
def test_failed_delivery_recorded_and_retried_without_resending(rs):
    pubs = [publish.publish(rs, "city_assessment", o, OCT) for o in ("dalian_credit_office", "anshan_credit_office")]
    outbox = rs.outbox_dir
    before = len(list(outbox.glob("*.json"))) if outbox.exists() else 0
    refused = ("json://127.0.0.1:9/",)  # nothing listens on the discard port: the send fails
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=sc.BEIJING)
    with env_of(rs):
        bad = publish.deliver(rs, pubs[0], targets=refused, now=t0)
        good = publish.deliver(rs, pubs[1], now=t0)
    assert (bad.status, bad.sent_now, bad.attempts) == ("failed", False, 1) and bad.last_error
    assert (good.status, good.sent_now) == ("sent", True)
    assert len(list(outbox.glob("*.json"))) == before + 1
    # the outbox, like a mail, carries the files: the notice says so and lists them
    sent = json.loads(max(outbox.glob("*anshan_credit_office*.json")).read_text(encoding="utf-8"))
    assert "请查收附件或通过以下链接下载" in sent["body"]
    assert sorted(sent["attachments"]) == [f"城市信用考核表（{OCT}）.html", f"城市信用考核表（{OCT}）.xlsx"]
    recorded = rows(rs, "select key, status, attempts, kind, recipient from ops.notices where key like %s order by 1",
                    (f"report:city_assessment:%:{OCT}",))
    assert recorded == [(f"report:city_assessment:anshan_credit_office:{OCT}", "sent", 1, "report",
                         "anshan_credit_office"),
                        (f"report:city_assessment:dalian_credit_office:{OCT}", "failed", 1, "report",
                         "dalian_credit_office")]
    later = t0 + timedelta(hours=1)  # past the first backoff
    with env_of(rs):
        again = [publish.deliver(rs, p, now=later) for p in pubs]  # the office's own target works again
    assert [(r.status, r.sent_now, r.attempts) for r in again] == [("sent", True, 2), ("sent", False, 1)]
    assert len(list(outbox.glob("*.json"))) == before + 2, "the one already sent was not sent again"


# --- the DAG -----------------------------------------------------------------------------------------------------
def test_first_working_day_on_the_official_calendar():
    assert schedule.first_working_day(2026, 10) == date(2026, 10, 8)   # National Day
    assert schedule.first_working_day(2026, 11) == date(2026, 11, 2)   # Nov 1 is a Sunday
    assert not schedule.due(date(2026, 10, 7)) and schedule.due(date(2026, 10, 8))
    assert schedule.report_period(date(2026, 1, 5)) == "2025-12"


def test_reports_monthly_dag_sends_each_report_once(rs, airflow_db, monkeypatch):
    import pendulum
    from airflow.sdk import dag, task

    from credit_platform.dev.dag_runner import load_dag_module, run_dag
    from credit_platform.orchestration.assets import MARTS_ASSET

    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_WAREHOUSE",
                       f"postgres://{rs.pg_user}:{rs.pg_password}@{rs.pg_host}:{rs.pg_port}/{DB}")
    monkeypatch.setenv("CP_S3_BUCKET_PREFIX", PREFIX)
    monkeypatch.setenv("CP_PG_DATABASE", DB)
    mod = load_dag_module("reports_monthly")
    holiday = run_dag(mod.reports_monthly(), pendulum.datetime(2026, 10, 7, 9, tz="Asia/Shanghai"))
    states = {ti.task_id: ti.state for ti in holiday.get_task_instances()}
    assert states["first_working_day_reached"] == "success" and states["deliver_reports"] == "skipped"

    @dag(dag_id="test_marts_producer", schedule=None, start_date=pendulum.datetime(2026, 1, 1))
    def producer():
        @task(outlets=[MARTS_ASSET])
        def built():
            return "ok"
        built()

    assert run_dag(producer()).state == "success"  # a warehouse build after October closed
    outbox = rs.outbox_dir
    count = lambda: len(list(outbox.glob("*.json"))) if outbox.exists() else 0  # noqa: E731
    before = count()
    run = run_dag(mod.reports_monthly(), pendulum.datetime(2026, 11, 2, 9, tz="Asia/Shanghai"))
    assert run.state == "success"
    n_reports = len(frames.REPORTS) * 15
    sent = rows(rs, "select count(*) from ops.notices where kind = 'report' and subject_period = %s"
                    " and status = 'sent'", (OCT,))[0][0]
    assert sent == n_reports
    first_count = count()
    assert first_count - before <= n_reports  # some were sent by the tests above, none twice
    rerun = run_dag(mod.reports_monthly(), pendulum.datetime(2026, 11, 3, 9, tz="Asia/Shanghai"))
    assert rerun.state == "success" and count() == first_count


def test_report_cli_says_where_it_wrote_and_refuses_bad_input(rs):
    from typer.testing import CliRunner

    from credit_platform.cli import app

    with env_of(rs):
        ok = CliRunner().invoke(app, ["report", "serious_ledger", "--period", OCT, "--office", HULUDAO_OFFICE,
                                      "--no-build"])
        bad_period = CliRunner().invoke(app, ["report", "gov_cases", "--period", "2026-13", "--no-build"])
        no_data = CliRunner().invoke(app, ["report", "gov_cases", "--period", "2019-01", "--office",
                                           HULUDAO_OFFICE, "--no-build"])
        unknown = CliRunner().invoke(app, ["report", "nonsense", "--period", OCT, "--no-build"])
        no_office = CliRunner().invoke(app, ["report", "gov_cases", "--period", OCT, "--office", "nope",
                                             "--no-build"])
        this_month = CliRunner().invoke(app, ["report", "gov_cases", "--period", clock.today().strftime("%Y-%m"),
                                              "--office", HULUDAO_OFFICE, "--no-build"])
    assert ok.exit_code == 0, ok.output
    line = json.loads(ok.stdout)
    assert line["files"][0] == (f"s3://{PREFIX}reports/serious_ledger/{HULUDAO_OFFICE}/{OCT}/"
                                f"serious_ledger-{HULUDAO_OFFICE}-{OCT}.xlsx")
    assert line["status"] in ("written", "unchanged")
    assert [Path(p).name for p in line["local"]] == ["严重失信主体认定信息台账通报（2026-10）.xlsx",
                                                    "严重失信主体认定信息台账通报（2026-10）.html"]
    assert Path(line["local"][0]).read_bytes()[:2] == b"PK"
    assert bad_period.exit_code == 64 and "YYYY-MM" in bad_period.output
    assert no_data.exit_code == 1 and "no figures for period 2019-01" in no_data.output
    assert unknown.exit_code == 64 and "unknown report" in unknown.output
    assert no_office.exit_code == 64 and "unknown office 'nope'" in no_office.output
    # a month that is not over is not published: write-once would keep its half month under 截至<month end>
    assert this_month.exit_code == 64 and "has not ended" in this_month.output


def test_a_month_that_has_not_ended_is_not_published(rs):
    with pytest.raises(frames.ReportError, match="2026-10 has not ended"):
        publish.publish(rs, "gov_cases", HULUDAO_OFFICE, OCT, today=date(2026, 10, 31))
    assert publish.period_ended(OCT, today=date(2026, 11, 1))
    assert publish.period_ended("2026-12", today=date(2027, 1, 1))
    assert not publish.period_ended("2026-12", today=date(2026, 12, 31))
