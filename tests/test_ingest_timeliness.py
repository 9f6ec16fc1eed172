"""Timeliness (按时报送) measured in working days on China's official calendar."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from credit_platform.catalog.workdays import add_working_days, previous_workday
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import run_dag
from tests.ingest_support import TODAY, q


def test_timeliness_is_measured_in_working_days(env, dags):
    s = env
    on_time_day = previous_workday(TODAY - timedelta(days=1))
    late_day = previous_workday(TODAY - timedelta(days=30))
    assert add_working_days(late_day, 7) < TODAY <= add_working_days(on_time_day, 7)
    header = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码"
    row = "沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,{no},违规,事实,依据,警告,警告,{day},2099-12-31,辽宁省农业农村厅,11230500001755309F,辽宁省农业农村厅,11230500001755309F"
    body = "\n".join([header, row.format(no="辽农罚〔2026〕1号", day=on_time_day), row.format(no="辽农罚〔2026〕2号", day=late_day)])
    src.drop_in_inbox(s, "ln_agri", "administrative_penalty", "t.csv", body.encode())
    assert run_dag(dags["ingest__ln_agri"]).state == "success"
    assert q(s, "select cf_wsh, on_time from landing.administrative_penalty where unit_code = 'ln_agri' order by 1") == [
        ("辽农罚〔2026〕1号", True), ("辽农罚〔2026〕2号", False)]


def test_deadlines_follow_the_official_calendar():
    from credit_platform.ingest.staged_zone import deadlines

    # National Day 2026: Oct 1-7 off, Saturday Oct 10 worked: 4 working days after Sep 29 are Sep 30, Oct 8, 9, 10.
    # Weekday arithmetic would give Oct 5.
    due = deadlines(pl.Series([date(2026, 9, 29), date(2026, 10, 9), None]), 4)
    assert due.to_list() == [date(2026, 10, 10), date(2026, 10, 14), None]
