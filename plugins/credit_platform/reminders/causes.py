"""What is wrong as of a day: the open causes of every rule, computed in SQL from the dbt facts
(marts.fct_obligations), the ledger (landing.batches, landing.rejections) and the official calendar
(landing.calendar). Python only decides which level each cause has reached and renders it.

Every query is evaluated "as of" a Beijing calendar day, so a timeline can be replayed and a past day
re-evaluated (a batch received or a rejection corrected after that day does not count for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import psycopg
from psycopg.rows import dict_row

from credit_platform.reminders.rules import ReminderRules
from credit_platform.settings import Settings

_AS_OF = "a as (select day, workday_seq as seq, is_workday from landing.calendar where day = %(as_of)s)"
_BJ = "at time zone 'Asia/Shanghai'"


@dataclass(frozen=True)
class Cause:
    unit: str
    rule: str
    subject: str              # what the sequence is about, part of the idempotency key (item@period, batch id …)
    period: str               # the subject period (ops.notices.subject_period)
    opened_on: date           # first working day the cause held
    working_days_open: int    # working days since opened_on (0 on that day)
    facts: dict = field(default_factory=dict)     # numbers for the message (computed here, in SQL)
    behind: list[dict] = field(default_factory=list)  # the obligations or records behind it (no clear IDs)


def open_causes(s: Settings, as_of: date, r: ReminderRules) -> list[Cause]:
    with psycopg.connect(s.pg_dsn()) as conn:
        cur = conn.cursor(row_factory=dict_row)
        if cur.execute("select 1 from landing.calendar where day = %s", (as_of,)).fetchone() is None:
            raise ValueError(f"{as_of} is outside the official calendar table (landing.calendar)")
        out: list[Cause] = []
        rs = r.rules
        if rs.overdue_submission.enabled:
            out += _overdue(cur, as_of, rs.overdue_submission.grace_working_days)
        if rs.open_problems.enabled:
            out += _open_problems(cur, as_of, rs.open_problems.correct_within_working_days, complete_key=True)
        if rs.incomplete_key.enabled:
            out += _open_problems(cur, as_of, rs.incomplete_key.after_working_days, complete_key=False)
        if rs.low_compliance.enabled:
            out += _low_compliance(cur, as_of, rs.low_compliance.threshold, rs.low_compliance.min_records)
        if rs.silence.enabled:
            out += _silence(cur, as_of, rs.silence.period, rs.silence.periods)
    return sorted(out, key=lambda c: (c.unit, c.rule, c.subject))


def _overdue(cur, as_of: date, grace: int) -> list[Cause]:
    # obligations whose deadline + grace has passed with nothing received by as_of; one cause per unit × item,
    # about its oldest such obligation (one late batch meets them all, see fct_obligations)
    rows = cur.execute(f"""
        with {_AS_OF},
        overdue as (
            select o.* from marts.fct_obligations o cross join a
            where o.due_date < a.day and a.seq > o.due_workday_seq + %(grace)s
              and (o.first_received_date is null or o.first_received_date > a.day)
        )
        select o.unit_code, o.item_code, o.frequency, min(o.period) as first_period, max(o.period) as last_period,
               count(*) as periods, min(o.due_date) as first_due, o.supervising_office,
               a.seq - (min(o.due_workday_seq) + %(grace)s + 1) as working_days_open,
               a.seq - min(o.due_workday_seq) as working_days_late, a.day - min(o.due_date) as days_late,
               (select c.day from landing.calendar c
                where c.is_workday and c.workday_seq = min(o.due_workday_seq) + %(grace)s + 1) as opened_on,
               json_agg(json_build_object('period', o.period, 'due_date', o.due_date) order by o.period)
                   as obligations
        from overdue o cross join a
        group by o.unit_code, o.item_code, o.frequency, o.supervising_office, a.seq, a.day
        order by 1, 2""", {"as_of": as_of, "grace": grace}).fetchall()
    return [Cause(r["unit_code"], "overdue_submission", f"{r['item_code']}@{r['first_period']}", r["first_period"],
                  r["opened_on"], r["working_days_open"],
                  {k: r[k] for k in ("item_code", "frequency", "first_period", "last_period", "periods", "first_due",
                                     "working_days_late", "days_late")} | {"grace_working_days": grace},
                  r["obligations"]) for r in rows]


def _open_problems(cur, as_of: date, within: int, complete_key: bool) -> list[Cause]:
    # rejected records of a batch still open on as_of (not corrected by then), older than `within` working
    # days; duplicate rows need no correction. Records whose natural key is incomplete can never be matched
    # by a correction: they form their own rule (to the office's steward) instead of ageing here.
    rule = "open_problems" if complete_key else "incomplete_key"
    rows = cur.execute(f"""
        with {_AS_OF},
        rej as (
            select r.unit_code, r.item_code, r.batch_id, r.row_no, r.field_code, r.reason,
                   (r.received_at {_BJ})::date as received_date
            from landing.rejections r cross join a
            where r.reason <> 'duplicate_in_batch'
              and (r.natural_key_hash is not null) = %(complete)s
              and (r.received_at {_BJ})::date <= a.day
              and (r.corrected_at is null or (r.corrected_at {_BJ})::date > a.day)
        ),
        per_batch as (
            select unit_code, item_code, batch_id, min(received_date) as received_date,
                   count(distinct row_no) as records, array_agg(distinct row_no order by row_no) as rows,
                   json_agg(distinct jsonb_build_object('reason', reason, 'field', field_code)) as problems
            from rej group by 1, 2, 3
        )
        select p.*, c.workday_seq as received_seq, a.seq - (c.workday_seq + %(within)s + 1) as working_days_open,
               a.seq - c.workday_seq as age_working_days,
               (select d.day from landing.calendar d
                where d.is_workday and d.workday_seq = c.workday_seq + %(within)s + 1) as opened_on,
               (select count(distinct (x.batch_id, x.row_no)) from rej x where x.unit_code = p.unit_code)
                   as unit_open_records
        from per_batch p join landing.calendar c on c.day = p.received_date cross join a
        where a.seq > c.workday_seq + %(within)s
        order by p.unit_code, p.batch_id""", {"as_of": as_of, "within": within, "complete": complete_key}).fetchall()
    return [Cause(r["unit_code"], rule, r["batch_id"], r["received_date"].isoformat(), r["opened_on"],
                  r["working_days_open"],
                  {k: r[k] for k in ("item_code", "batch_id", "received_date", "records", "rows", "age_working_days",
                                     "unit_open_records")} | {"within_working_days": within},
                  sorted(r["problems"], key=lambda p: (p["field"], p["reason"]))) for r in rows]


def _low_compliance(cur, as_of: date, threshold: float, min_records: int) -> list[Cause]:
    # 合规率 (DESIGN §4) of the last complete month: records accepted / records received, a batch refused whole
    # counting 1 when none of its rows could be read; the cause opens on the month's first working day after
    rows = cur.execute(f"""
        with {_AS_OF},
        m as (select to_char(date_trunc('month', a.day) - interval '1 day', 'YYYY-MM') as period,
                     (date_trunc('month', a.day) - interval '1 month')::date as p_start,
                     date_trunc('month', a.day)::date as p_end from a),
        opened as (select min(c.day) as day, min(c.workday_seq) as seq
                   from landing.calendar c cross join m where c.day >= m.p_end and c.is_workday)
        select b.unit_code, m.period, sum(greatest(b.rows, 1)) as received, sum(b.accepted) as accepted,
               round(sum(b.accepted)::numeric / sum(greatest(b.rows, 1)), 4) as compliance,
               count(*) as batches, opened.day as opened_on, a.seq - opened.seq as working_days_open
        from landing.batches b cross join m cross join a cross join opened
        where (b.received_at {_BJ})::date >= m.p_start and (b.received_at {_BJ})::date < m.p_end
        group by b.unit_code, m.period, opened.day, opened.seq, a.seq
        having sum(greatest(b.rows, 1)) >= %(min)s
           and sum(b.accepted)::numeric / sum(greatest(b.rows, 1)) < %(threshold)s
           and a.seq >= opened.seq
        order by 1""", {"as_of": as_of, "threshold": threshold, "min": min_records}).fetchall()
    return [Cause(r["unit_code"], "low_compliance", r["period"], r["period"], r["opened_on"], r["working_days_open"],
                  {"period": r["period"], "received": r["received"], "accepted": r["accepted"],
                   "compliance": float(r["compliance"]), "threshold": threshold, "batches": r["batches"]})
            for r in rows]


def _silence(cur, as_of: date, period: str, k: int) -> list[Cause]:
    # a unit with no batch at all (not even an unreadable one) in the last k complete periods; a unit that never
    # sent anything counts from the platform's first batch
    assert period in ("week", "month")  # validated by the rules; interpolated below
    label = "IYYY-\"W\"IW" if period == "week" else "YYYY-MM"
    rows = cur.execute(f"""
        with {_AS_OF},
        golive as (select min((received_at {_BJ})::date) as day from landing.batches),
        units as (select distinct unit_code from reference.obligation_schedule),
        last as (
            select u.unit_code, max((b.received_at {_BJ})::date) as last_day
            from units u cross join a
            left join landing.batches b on b.unit_code = u.unit_code and (b.received_at {_BJ})::date <= a.day
            group by u.unit_code
        ),
        s as (
            select l.unit_code, l.last_day,
                   (date_trunc('{period}', coalesce(l.last_day, g.day)) + interval '1 {period}')::date as silent_from,
                   (date_trunc('{period}', coalesce(l.last_day, g.day)) + interval '{k + 1} {period}')::date
                       as opens_from
            from last l cross join golive g where g.day is not null
        )
        select s.unit_code, s.last_day, s.silent_from, to_char(s.silent_from, '{label}') as first_silent_period,
               o.day as opened_on, a.seq - o.seq as working_days_open,
               (select count(*) from generate_series(s.silent_from, date_trunc('{period}', a.day) - interval '1 day',
                                                     interval '1 {period}')) as silent_periods
        from s cross join a
        cross join lateral (select min(c.day) as day, min(c.workday_seq) as seq from landing.calendar c
                            where c.day >= s.opens_from and c.is_workday) o
        where s.opens_from <= a.day and a.seq >= o.seq
        order by 1""", {"as_of": as_of}).fetchall()
    return [Cause(r["unit_code"], "silence", r["first_silent_period"], r["first_silent_period"], r["opened_on"],
                  r["working_days_open"],
                  {"last_day": r["last_day"], "silent_from": r["silent_from"], "silent_periods": r["silent_periods"],
                   "period_unit": period, "periods": k}) for r in rows]
