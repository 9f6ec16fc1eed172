"""The four monthly reports as frames read from the rpt_ models (dbt computes every number; this module only
selects the office's scope and the period, orders rows and names columns in Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
import psycopg

from credit_platform.catalog.indicators import indicators
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import Office, registry
from credit_platform.reports.model import Chart, Column, Report, Section
from credit_platform.settings import Settings

SCHEMA = "reports"
PROVINCE = "210000"
INDICATOR_ORDER = ("compliance", "timeliness", "lateness", "completeness", "correction", "duplication")


class ReportError(ValueError):
    """The report cannot be produced as asked (unknown report, office or period); the message says why."""


_PG_TYPES = {"int2": pl.Int64, "int4": pl.Int64, "int8": pl.Int64, "numeric": pl.Float64, "float4": pl.Float64,
             "float8": pl.Float64, "bool": pl.Boolean, "date": pl.Date, "text": pl.Utf8, "varchar": pl.Utf8}


def query(conn: psycopg.Connection, sql: str, params: tuple | dict = ()) -> pl.DataFrame:
    """Rows as a frame typed from the result's columns (an empty result keeps its types); numeric becomes float
    for rendering (exact in the database, rounded only by the display formats)."""
    cur = conn.execute(sql, params)
    schema = {}
    for d in cur.description:
        info = conn.adapters.types.get(d.type_code)
        schema[d.name] = _PG_TYPES.get(info.name if info else "", pl.Utf8)
    rows = [tuple(float(v) if schema[n] == pl.Float64 and v is not None else v for n, v in zip(schema, r, strict=True))
            for r in cur.fetchall()]
    return pl.DataFrame(rows, schema=schema, orient="row")


def office(code: str) -> Office:
    try:
        return registry().offices[code]
    except KeyError:
        raise ReportError(f"unknown office {code!r}; offices: {', '.join(registry().offices)}") from None


def city_scope(o: Office) -> str | None:
    """None for the provincial office (every city), else the office's city code."""
    return None if o.level == "province" else o.region[:4] + "00"


def period_row(conn: psycopg.Connection, period: str) -> dict:
    row = conn.execute(f"select period, period_start, period_end, prev_period from {SCHEMA}.rpt_periods"
                       " where period = %s", (period,)).fetchone()
    if row is None:
        have = [r[0] for r in conn.execute(f"select period from {SCHEMA}.rpt_periods order by 1").fetchall()]
        raise ReportError(f"no figures for period {period}; the warehouse has {', '.join(have) or 'none'}"
                          " (run the warehouse build first)")
    return {"period": row[0], "start": row[1], "end": row[2], "prev": row[3]}


def _cutoff_zh(end: date) -> str:
    nxt = end + timedelta(days=1)
    return f"数据统计截至{end.year}年{end.month}月{end.day}日24时（{nxt.isoformat()} 00:00 北京时间之前收到的数据）"


SILENT_NAMED = 10  # units without data named in the headline up to this many; more are only in the table


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


# --- 信源单位数据质量通报 ------------------------------------------------------------------------------------
def data_quality(conn: psycopg.Connection, o: Office, period: str) -> Report:
    p = period_row(conn, period)
    ind = indicators()
    scope = city_scope(o)
    unit_filter = "" if scope is None else "and u.office_code = %(office)s"
    args = {"period": period, "office": o.code}
    pivot = ", ".join(
        f"max(i.value) filter (where i.indicator = '{c}') as {c}" for c in INDICATOR_ORDER)
    ranking = query(conn, f"""
        select s.rank, u.unit_name, u.city_name, c.received, c.accepted, {pivot},
               s.score, s.change as score_change, s.prev_rank, s.has_data, u.unit_code
        from {SCHEMA}.rpt_scores s
        join {SCHEMA}.rpt_units u on u.unit_code = s.subject_code
        join {SCHEMA}.rpt_unit_month_counts c on c.unit_code = s.subject_code and c.period = s.period
        join {SCHEMA}.rpt_indicators i on i.subject_type = 'unit' and i.subject_code = s.subject_code
             and i.period_type = 'month' and i.period = s.period
        where s.subject_type = 'unit' and s.period_type = 'month' and s.period = %(period)s {unit_filter}
        group by s.rank, u.unit_name, u.city_name, c.received, c.accepted, s.score, s.change, s.prev_rank,
                 s.has_data, u.city_code, u.unit_code
        order by s.rank nulls last, u.city_code, u.unit_code""", args)
    silent = ranking.filter(~pl.col("has_data"))
    threshold = ind.get("lateness").flag_above
    flagged = query(conn, f"""
        select u.unit_name, u.city_name, i.numerator as late, i.denominator as timed, i.value as lateness,
               i.prev_value as prev_lateness
        from {SCHEMA}.rpt_indicators i join {SCHEMA}.rpt_units u on u.unit_code = i.subject_code
        where i.subject_type = 'unit' and i.period_type = 'month' and i.period = %(period)s
          and i.indicator = 'lateness' and i.flagged {unit_filter}
        order by i.value desc, u.unit_code""", args)
    names = {code: item.name_zh for code, item in catalog().items.items()}
    open_problems = query(conn, f"""
        select u.unit_name, op.item_code, op.open_records, op.overdue_records, op.oldest_age_working_days
        from {SCHEMA}.rpt_open_problems op join {SCHEMA}.rpt_units u on u.unit_code = op.unit_code
        where op.period = %(period)s {unit_filter}
        order by op.oldest_age_working_days desc, op.open_records desc, u.unit_code, op.item_code""", args)
    open_problems = open_problems.with_columns(
        pl.col("item_code").replace_strict(names, default=pl.col("item_code")).alias("item_name"))
    dup = query(conn, f"""
        select u.unit_name, c.received, c.repeats, c.repeats_of_other_units,
               case when c.received > 0 then c.repeats::numeric / c.received end as duplication
        from {SCHEMA}.rpt_unit_month_counts c join {SCHEMA}.rpt_units u on u.unit_code = c.unit_code
        where c.period = %(period)s and c.repeats > 0 {unit_filter}
        order by c.repeats desc, u.unit_code""", args)
    ledger_received = conn.execute(f"""
        select coalesce(sum(case when b.batch_error_reason is not null and b.rows = 0 then 1 else b.rows end), 0),
               coalesce(sum(b.accepted), 0)
        from landing.batches b join {SCHEMA}.rpt_units u on u.unit_code = b.unit_code
        where to_char(b.received_at at time zone 'Asia/Shanghai', 'YYYY-MM') = %(period)s {unit_filter}""",
        args).fetchone()
    n = ind.names_zh
    total_received = int(ranking["received"].sum() or 0)
    total_accepted = int(ranking["accepted"].sum() or 0)
    scored = ranking.filter(pl.col("score").is_not_null())
    where = "全省" if scope is None else registry().regions.get(scope, scope)
    senders = (f"{ranking.height}家信源单位中{ranking.height - silent.height}家" if silent.height
               else f"{ranking.height}家信源单位共")
    compliance = _pct(total_accepted / total_received if total_received else None)
    headline = [
        f"{p['period'][:4]}年{int(p['period'][5:])}月，{where}{senders}报送记录{total_received:,}条，"
        f"通过目录校验{total_accepted:,}条，合规率{compliance}。",
        (f"迟报率超过{threshold:.0%}的单位{flagged.height}家，列入通报整改；" if flagged.height
         else f"没有迟报率超过{threshold:.0%}的单位；")
        + f"尚未整改的问题数据{int(open_problems['open_records'].sum() or 0):,}条。",
    ]
    if scored.height:
        headline.append(f"综合得分第一：{scored['unit_name'][0]}（{scored['score'][0]:.1f}分）。")
    if silent.height:
        names = silent["unit_name"].to_list()
        headline.append(f"本月未报送数据的单位{silent.height}家，不计综合得分、不参与排名，列于排名表末"
                        + (f"：{'、'.join(names)}。" if len(names) <= SILENT_NAMED else "。"))
    # ranks are among every unit of the province: a city office's table of its own units says so
    rank_zh = "排名" if scope is None else "全省排名"
    ranking_cols = [Column("rank", rank_zh, "int", none_zh="—"), Column("unit_name", "信源单位"),
                    Column("city_name", "所属地区"),
                    Column("received", "收到记录数", "int"), Column("accepted", "通过校验数", "int")]
    ranking_cols += [Column(c, n[c], "pct") for c in INDICATOR_ORDER]
    ranking_cols += [Column("score", "综合得分", "score", none_zh="无数据"),
                     Column("score_change", "得分较上月", "change_score", none_zh="—"),
                     Column("prev_rank", f"上月{rank_zh}", "int", none_zh="—")]
    return Report(
        code="data_quality", title_zh="信源单位数据质量通报", office_code=o.code, office_name=o.name_zh,
        period=period, cutoff_zh=_cutoff_zh(p["end"]), headline=headline,
        figures={"units": ranking.height, "received": total_received, "accepted": total_accepted,
                 "flagged_units": flagged.height, "open_problems": int(open_problems["open_records"].sum() or 0)},
        sections=[
            Section("ranking", "一、信源单位数据质量排名", ranking, ranking_cols,
                    Chart("bar", "综合得分（前20名）", "unit_name", ("score",)),
                    note_zh="综合得分 = Σ 权重 × 指标得分（迟报率、重复报送率以 1 − 比率计），"
                            "本月无分母的指标不计入并按其余权重折算；权重见考核指标定义。"
                            "本月未报送数据的单位不计得分、不排名（“无数据”），其完整率按到期未报送如实列示；"
                            "上月无得分的，得分较上月、上月排名记“—”。",
                    within=[("accepted", "received")]),
            Section("flagged", f"二、迟报率超过{threshold:.0%}、列入整改的单位", flagged,
                    [Column("unit_name", "信源单位"), Column("city_name", "所属地区"),
                     Column("late", "迟报记录数", "int"), Column("timed", "可判断时限记录数", "int"),
                     Column("lateness", "迟报率", "pct"), Column("prev_lateness", "上月迟报率", "pct")],
                    Chart("bar", "迟报率", "unit_name", ("lateness",)), within=[("late", "timed")],
                    empty_zh="本月无迟报率超过阈值的单位。"),
            Section("open_problems", "三、尚未整改的问题数据", open_problems,
                    [Column("unit_name", "信源单位"), Column("item_name", "信息项"),
                     Column("open_records", "未整改记录数", "int"),
                     Column("overdue_records", f"超过{ind.correction_window_working_days}个工作日未整改", "int"),
                     Column("oldest_age_working_days", "最长已挂起（工作日）", "int")],
                    within=[("overdue_records", "open_records")], empty_zh="本月末无未整改的问题数据。"),
            Section("duplication", "四、多头报送（重复报送）情况", dup,
                    [Column("unit_name", "信源单位"), Column("received", "收到记录数", "int"),
                     Column("repeats", "重复报送记录数", "int"),
                     Column("repeats_of_other_units", "其中与其他单位重复", "int"),
                     Column("duplication", "重复报送率", "pct")],
                    Chart("bar", "重复报送记录数", "unit_name", ("repeats", "repeats_of_other_units")),
                    within=[("repeats_of_other_units", "repeats"), ("repeats", "received")],
                    empty_zh="本月无重复报送。"),
        ],
        reconciliations=[("收到记录数", total_received, float(ledger_received[0])),
                         ("通过校验数", total_accepted, float(ledger_received[1]))],
    )


# --- 政府机构失信被执行人专项治理通报 --------------------------------------------------------------------------
GOV_COUNTS = [Column("outstanding_start", "期初未化解", "int"), Column("new_cases", "本月新增", "int"),
              Column("resolved", "本月化解", "int"), Column("resolved_performed", "其中：履行", "int"),
              Column("resolved_settled", "和解", "int"), Column("resolved_deleted", "删除", "int"),
              Column("outstanding_end", "期末未化解", "int"), Column("resolution_rate", "化解率", "pct"),
              Column("outstanding_amount_wan", "未化解金额（万元）", "num")]
GOV_SUMS = [(("resolved_performed", "resolved_settled", "resolved_deleted"), "resolved")]


def gov_cases(conn: psycopg.Connection, o: Office, period: str) -> Report:
    p = period_row(conn, period)
    scope = city_scope(o)
    ind = indicators()
    args = {"period": period, "city": scope}
    total_where = ("scope = 'all' and dimension = 'total'" if scope is None
                   else "scope = 'all' and dimension = 'city' and dim_value = %(city)s")
    total = query(conn, f"select * from {SCHEMA}.rpt_gov_case_summary where period = %(period)s and {total_where}",
                  args)
    cities = query(conn, f"""select * from {SCHEMA}.rpt_gov_case_summary where period = %(period)s
        and scope = 'all' and dimension = 'city' {'' if scope is None else 'and dim_value = %(city)s'}
        order by outstanding_end desc, resolved desc, dim_value""", args)
    breakdown_scope = "'all'" if scope is None else "%(city)s"
    by_type = query(conn, f"""select * from {SCHEMA}.rpt_gov_case_summary where period = %(period)s
        and scope = {breakdown_scope} and dimension = 'agency_type' order by outstanding_end desc, dim_value""", args)
    by_level = query(conn, f"""select * from {SCHEMA}.rpt_gov_case_summary where period = %(period)s
        and scope = {breakdown_scope} and dimension = 'agency_level' order by outstanding_end desc, dim_value""",
                     args)
    cases = query(conn, f"""select agency_name, agency_uscc, court, case_no, agency_type, agency_level, amount_wan,
               listed_on, age_days, age_bucket
        from {SCHEMA}.rpt_gov_case_month where period = %(period)s and outstanding_end
        {'' if scope is None else 'and city_code = %(city)s'}
        order by age_days desc, case_no""", args)
    labels = ind.age_bucket_labels()
    cases = cases.with_columns(pl.col("age_bucket").map_elements(lambda b: labels[int(b) - 1],
                                                                  return_dtype=pl.Utf8).alias("age_label"))
    t = total.row(0, named=True) if total.height else {}
    ageing = pl.DataFrame({"bucket": labels,
                           "cases": [int(t.get(f"age_bucket_{i}", 0) or 0) for i in range(1, len(labels) + 1)]})
    cleared = cities.filter(pl.col("cleared")).select("dim_name", "outstanding_start", "new_cases", "resolved")
    trend = query(conn, f"""select g.period, g.outstanding_end, g.new_cases, g.resolved
        from {SCHEMA}.rpt_gov_case_summary g
        where g.period <= %(period)s and g.period > to_char(to_date(%(period)s || '-01', 'YYYY-MM-DD')
              - interval '12 months', 'YYYY-MM') and {total_where.replace('scope', 'g.scope')
                                                        .replace('dimension', 'g.dimension')
                                                        .replace('dim_value', 'g.dim_value')}
        order by g.period""", args)
    where = "全省" if scope is None else registry().regions.get(scope, scope)
    n = {k: int(t.get(k, 0) or 0) for k in ("outstanding_start", "new_cases", "resolved", "resolved_performed",
                                            "resolved_settled", "resolved_deleted", "outstanding_end")}
    headline = [
        f"截至{p['end'].year}年{p['end'].month}月末，{where}政府机构失信被执行人案件"
        f"期初未化解{n['outstanding_start']}件，本月新增{n['new_cases']}件，化解{n['resolved']}件"
        f"（履行{n['resolved_performed']}件、和解{n['resolved_settled']}件、删除{n['resolved_deleted']}件），"
        f"期末未化解{n['outstanding_end']}件，化解率{_pct(t.get('resolution_rate'))}。",
    ]
    if scope is None:
        headline.append(f"本月实现清零的地区：{'、'.join(cleared['dim_name'].to_list()) or '无'}。")
    city_cols = [Column("dim_name", "地区"), *GOV_COUNTS, Column("age_bucket_4", f"{labels[-1]}", "int")]
    dim_cols = [Column("dim_value", "类别"), *GOV_COUNTS]
    return Report(
        code="gov_cases", title_zh="政府机构失信被执行人专项治理通报", office_code=o.code, office_name=o.name_zh,
        period=period, cutoff_zh=_cutoff_zh(p["end"]), headline=headline,
        figures={"outstanding_start": int(t.get("outstanding_start", 0)), "new": int(t.get("new_cases", 0)),
                 "resolved": int(t.get("resolved", 0)), "outstanding_end": int(t.get("outstanding_end", 0)),
                 "resolution_rate": t.get("resolution_rate")},
        sections=[
            Section("total", "一、总体情况", total, [Column("dim_name", "范围"), *GOV_COUNTS], sums=GOV_SUMS),
            Section("by_city", "二、分地区情况", cities, city_cols,
                    Chart("bar", "期末未化解与本月化解案件数（按地区）", "dim_name", ("outstanding_end", "resolved")),
                    sums=GOV_SUMS, within=[("age_bucket_4", "outstanding_end")]),
            Section("by_type", "三、分机构类型情况", by_type, dim_cols, sums=GOV_SUMS),
            Section("by_level", "四、分层级情况", by_level, dim_cols, sums=GOV_SUMS),
            Section("ageing", "五、未化解案件账龄分布", ageing,
                    [Column("bucket", "账龄（自列入失信名单之日起）"), Column("cases", "案件数", "int")],
                    Chart("bar", "账龄分布", "bucket", ("cases",))),
            Section("cases", "六、未化解案件清单", cases,
                    [Column("agency_name", "被执行机构"), Column("agency_uscc", "统一社会信用代码"),
                     Column("court", "执行法院"), Column("case_no", "案号"), Column("agency_type", "机构类型"),
                     Column("agency_level", "层级"), Column("amount_wan", "欠款金额（万元）", "num"),
                     Column("listed_on", "列入日期", "date"), Column("age_days", "账龄（天）", "int"),
                     Column("age_label", "账龄区间")], empty_zh="本月末无未化解案件。"),
            Section("cleared", "七、实现清零的地区", cleared,
                    [Column("dim_name", "地区"), Column("outstanding_start", "期初未化解", "int"),
                     Column("new_cases", "本月新增", "int"), Column("resolved", "本月化解", "int")],
                    empty_zh="本月无新实现清零的地区。"),
            Section("trend", "八、近12个月趋势", trend,
                    [Column("period", "月份"), Column("outstanding_end", "期末未化解", "int"),
                     Column("new_cases", "新增", "int"), Column("resolved", "化解", "int")],
                    Chart("line", "未化解、新增与化解案件数", "period", ("outstanding_end", "new_cases", "resolved"),
                          max_points=12)),
        ],
        reconciliations=[("期末未化解案件数", float(t.get("outstanding_end", 0)), float(cases.height)),
                         ("账龄分布合计", float(ageing["cases"].sum()), float(t.get("outstanding_end", 0)))],
    )


# --- 严重失信 ledger report --------------------------------------------------------------------------------
def serious_ledger(conn: psycopg.Connection, o: Office, period: str) -> Report:
    p = period_row(conn, period)
    scope = city_scope(o)
    args = {"period": period, "city": scope, "office": o.code}
    city_filter = "" if scope is None else "and city_code = %(city)s"
    sums = "sum(identifications) as identifications, sum(active) as active, sum(ended) as ended," \
           " sum(new_in_period) as new_in_period"
    by_kind = query(conn, f"""select kind_zh, list_type, {sums} from {SCHEMA}.rpt_serious_month
        where period = %(period)s {city_filter} group by 1, 2 order by 1, 3 desc, 2""", args)
    by_body = query(conn, f"""select authority, kind_zh, {sums} from {SCHEMA}.rpt_serious_month
        where period = %(period)s {city_filter} group by 1, 2 order by 3 desc, 1, 2""", args)
    silent = query(conn, f"""select unit_name, item_code from {SCHEMA}.rpt_serious_silent_units
        where period = %(period)s {'' if scope is None else 'and office_code = %(office)s'}
        order by unit_code, item_code""", args)
    names = {code: item.name_zh for code, item in catalog().items.items()}
    silent = silent.with_columns(pl.col("item_code").replace_strict(names, default=pl.col("item_code"))
                                 .alias("item_name"))
    ledger_total = conn.execute(f"""select count(*) from (
        select distinct item_code, natural_key_hash from (
            select 'a' as item_code, natural_key_hash, unit_code, received_at from landing.serious_dishonesty_list
            union all select 'b', natural_key_hash, unit_code, received_at from landing.serious_gov_dishonesty
            union all select 'c', natural_key_hash, unit_code, received_at from landing.serious_judicial_dishonesty
        ) x join {SCHEMA}.rpt_units u using (unit_code)
        where x.received_at < (%(end)s::date + 1)::timestamp at time zone 'Asia/Shanghai' {city_filter}) y""",
        {**args, "end": p["end"]}).fetchone()[0]
    total = int(by_kind["identifications"].sum() or 0)
    cols = [Column("identifications", "认定总数", "int"), Column("active", "有效期内", "int"),
            Column("ended", "已届满", "int"), Column("new_in_period", "本月新增", "int")]
    headline = [f"截至{p['end'].year}年{p['end'].month}月末，共归集严重失信认定信息{total}条，"
                f"其中有效期内{int(by_kind['active'].sum() or 0)}条、"
                f"本月新增{int(by_kind['new_in_period'].sum() or 0)}条；"
                f"{silent['unit_name'].n_unique()}家负有报送义务的单位本月未报送。"]
    return Report(
        code="serious_ledger", title_zh="严重失信主体认定信息台账通报", office_code=o.code, office_name=o.name_zh,
        period=period, cutoff_zh=_cutoff_zh(p["end"]), headline=headline,
        figures={"identifications": total, "active": int(by_kind["active"].sum() or 0),
                 "silent_units": silent["unit_name"].n_unique()},
        sections=[
            Section("by_kind", "一、按认定类别", by_kind,
                    [Column("kind_zh", "认定类别"), Column("list_type", "名单类别"), *cols],
                    Chart("bar", "认定数（有效期内 / 已届满）", "list_type", ("active", "ended")),
                    sums=[(("active", "ended"), "identifications")], within=[("new_in_period", "identifications")]),
            Section("by_body", "二、按认定机关", by_body,
                    [Column("authority", "认定机关"), Column("kind_zh", "认定类别"), *cols],
                    sums=[(("active", "ended"), "identifications")]),
            Section("silent", "三、本月未报送的单位", silent,
                    [Column("unit_name", "信源单位"), Column("item_name", "应报送信息项")],
                    empty_zh="负有报送义务的单位本月均有报送。"),
        ],
        reconciliations=[("认定总数", float(total), float(ledger_total))],
    )


# --- 城市信用考核表 ------------------------------------------------------------------------------------------
def city_assessment(conn: psycopg.Connection, o: Office, period: str) -> Report:
    p = period_row(conn, period)
    ind = indicators()
    pivot = ", ".join(f"max(i.value) filter (where i.indicator = '{c}') as {c}" for c in INDICATOR_ORDER)
    table = query(conn, f"""
        select a.rank, a.city_name, a.outstanding_end, a.resolution_rate, {pivot}, a.data_quality_score,
               a.composite, a.cleared, a.has_data, a.city_code
        from {SCHEMA}.rpt_city_assessment a
        left join {SCHEMA}.rpt_indicators i on i.subject_type = 'city' and i.subject_code = a.city_code
             and i.period_type = 'month' and i.period = a.period
        where a.period = %(period)s
        group by a.rank, a.city_name, a.outstanding_end, a.resolution_rate, a.data_quality_score, a.composite,
                 a.cleared, a.has_data, a.city_code
        order by a.rank nulls last, a.city_code""", {"period": period})
    # 清零: 是 when the city's last outstanding case was resolved this month; — when it had none to resolve
    table = table.with_columns(pl.when(pl.col("cleared")).then(pl.lit("是"))
                               .when(pl.col("outstanding_end") > 0).then(pl.lit("否"))
                               .otherwise(pl.lit("—")).alias("cleared_zh"))
    n = ind.names_zh
    ca = ind.city_assessment
    cols = [Column("rank", "排名", "int", none_zh="—"), Column("city_name", "城市"),
            Column("outstanding_end", "政府机构失信未化解案件", "int"),
            Column("resolution_rate", "政府机构失信化解率", "pct")]
    cols += [Column(c, n[c], "pct") for c in INDICATOR_ORDER]
    cols += [Column("data_quality_score", "数据质量得分", "score", none_zh="无数据"),
             Column("composite", "综合得分", "score", none_zh="无数据"), Column("cleared_zh", "本月清零")]
    first = table.filter(pl.col("composite").is_not_null())
    silent = table.filter(~pl.col("has_data"))
    headline = [f"{p['end'].year}年{p['end'].month}月城市信用考核：综合得分 = "
                f"政府机构失信化解率 × {ca.gov_case_weight:.0%} + 数据质量得分 × {ca.data_quality_weight:.0%}"
                "（无案件需化解的城市按数据质量得分计）。"]
    if first.height:
        headline.append(f"综合得分第一：{first['city_name'][0]}（{first['composite'][0]:.1f}分）。")
    # every office gets the whole province's ranking (a city is assessed against its peers); a city office's
    # headline says where it stands
    scope = city_scope(o)
    own = table.filter(pl.col("city_code") == scope) if scope else table.clear()
    if own.height:
        c = own.row(0, named=True)
        headline.append(f"本市（{c['city_name']}）" + (
            f"综合得分{c['composite']:.1f}分，全省排名第{c['rank']}/{first.height}。" if c["composite"] is not None
            else "本月无数据质量得分，不参与考核排名。"))
    if silent.height:
        headline.append(f"本月全市信源单位均未报送数据、不参与考核排名的城市{silent.height}个："
                        f"{'、'.join(silent['city_name'].to_list())}。")
    return Report(
        code="city_assessment", title_zh="城市信用考核表", office_code=o.code, office_name=o.name_zh,
        period=period, cutoff_zh=_cutoff_zh(p["end"]), headline=headline,
        figures={"cities": table.height, "first": first["city_name"][0] if first.height else None},
        sections=[Section("assessment", "城市信用考核排名", table, cols,
                          Chart("bar", "综合得分", "city_name", ("composite",)))],
    )


REPORTS: dict[str, tuple[str, Callable[[psycopg.Connection, Office, str], Report]]] = {
    "gov_cases": ("政府机构失信被执行人专项治理通报", gov_cases),
    "serious_ledger": ("严重失信主体认定信息台账通报", serious_ledger),
    "data_quality": ("信源单位数据质量通报", data_quality),
    "city_assessment": ("城市信用考核表", city_assessment),
}


def build(s: Settings, report: str, office_code: str, period: str) -> Report:
    if report not in REPORTS:
        raise ReportError(f"unknown report {report!r}; reports: {', '.join(REPORTS)}")
    o = office(office_code)
    with psycopg.connect(s.pg_dsn()) as conn:
        return REPORTS[report][1](conn, o, period)
