"""Demo history: the two months before today replayed through the same ingestion code (online-fill entries
pulled, landed in the raw zone, gated, staged and loaded with the platform-received time of that past day), so
the warehouse has months of facts: late records, corrections, decisions reported by several units (多头报送) and
government dishonest-debtor cases that are resolved, settled or stay open. Then `summary()` prints what the
warehouse made of it."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import psycopg

from credit_platform import clock
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import registry
from credit_platform.dev import simulated_sources
from credit_platform.dev.generator import GenSpec, generate_rows, late_decision_date
from credit_platform.ingest import pipeline
from credit_platform.reports.xlsx import display_width
from credit_platform.settings import Settings

# units replayed (a province unit per kind of item, the court and two city platforms) and their items
UNITS = {
    "ln_amr": ["administrative_penalty", "administrative_license"],
    "ln_tax": ["administrative_penalty", "serious_dishonesty_list"],
    "ln_finance": ["administrative_penalty"],
    "ln_court": ["dishonest_judgment_debtor", "serious_judicial_dishonesty"],
    "shenyang_platform": ["administrative_penalty"],
    "dalian_platform": ["administrative_penalty"],
}
DAYS_OF_MONTH = (6, 16, 26)  # replayed receiving days in each month (moved to the next working day)
ROWS = 6
CASES_MONTH1, CASES_MONTH2 = 8, 3


@dataclass
class Replayed:
    batches: int = 0
    records: int = 0
    rejected: int = 0
    late: int = 0
    corrections: int = 0
    forwarded: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    def describe(self) -> str:
        if self.skipped:
            return "replayed by an earlier run today: the history is in the landing tables already"
        return (f"{self.batches} batches, {self.records} records ({self.rejected} rejected), {self.late} late,"
                f" {self.corrections} corrections, {self.forwarded} forwarded by city platforms (多头报送),"
                f" government cases: {self.cases.get('listed_month1', 0)} listed in the first month,"
                f" {self.cases.get('new_month2', 0)} new and {self.cases.get('resolved_month2', 0)} resolved in the"
                f" second")


def months(today: date) -> list[date]:
    """The first days of the two months replayed."""
    first = today.replace(day=1)
    m1 = (first - timedelta(days=1)).replace(day=1)
    m2 = (m1 - timedelta(days=1)).replace(day=1)
    return [m2, m1]


def _marker(s: Settings, today: date):
    return s.home / f"demo-history-{s.pg_database}-{today.isoformat()}"


def replayed_already(s: Settings, today: date) -> bool:
    return _marker(s, today).exists()


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def _workday(d: date) -> date:
    from credit_platform.catalog.workdays import is_workday

    while not is_workday(d):
        d += timedelta(days=1)
    return d


def _at(d: date, minute: int) -> datetime:
    return datetime(d.year, d.month, d.day, 10, 0, tzinfo=clock.BEIJING) + timedelta(minutes=minute)


def _land(s: Settings, unit: str, item: str, records: list[dict], received_at: datetime, out: Replayed) -> None:
    simulated_sources.enter_online(s, unit, item, records)
    for landed in pipeline.extract_and_land(s, unit, "online_fill", received_at):
        summary = pipeline.ingest_batch(s, landed)
        out.batches += 1
        out.records += summary.get("rows") or 0
        out.rejected += summary.get("rejected") or 0


def replay(s: Settings, today: date | None = None,
           after_month: Callable[[date], None] | None = None) -> Replayed:
    """`after_month(month)` runs when a month's history is in: the demo builds the warehouse there, as the nightly
    build would have, so the case snapshot holds each replayed month's end state."""
    today = today or clock.today()
    marker = _marker(s, today)
    if marker.exists():  # a second `make demo` on the same day: the history is there already
        return Replayed(skipped=True)
    reg, cat = registry(), catalog()
    rng = random.Random(zlib.crc32(today.isoformat().encode()))
    out = Replayed()
    sent: dict[str, list[dict]] = {}  # unit → penalties it reported (for corrections and forwarding)
    replayed = months(today)
    for month in replayed:
        for n, dom in enumerate(DAYS_OF_MONTH):
            day = _workday(month.replace(day=dom))
            for i, (unit_code, items) in enumerate(UNITS.items()):
                unit = reg.unit(unit_code)
                for item in items:
                    it = cat.item(item)
                    seed = zlib.crc32(f"history/{unit_code}/{item}/{day}".encode())
                    spec = GenSpec(item, ROWS, seed=seed, defect_rate=0.06, received_on=day, unit_name=unit.name_zh,
                                   unit_uscc=unit.uscc, region="210100" if unit.region == "210000" else unit.region,
                                   seq_prefix=f"H{seed % 100000:05d}")
                    recs = [rec for rec, _ in generate_rows(spec, cat)]
                    decision = it.by_role("decision_date")
                    if decision and it.deadline and not decision.not_before and rng.random() < 0.5:
                        recs[0][decision.code] = late_decision_date(day, it.deadline.working_days, rng).isoformat()
                        out.late += 1
                    if item == "administrative_penalty":
                        earlier = sent.get(unit_code, [])
                        if earlier and rng.random() < 0.6:  # a unit corrects one of its earlier decisions
                            fixed = dict(rng.choice(earlier))
                            fixed["CF_NR_FK"] = f"{rng.randrange(1, 50) * 1000}"
                            fixed["CF_CFLB"], fixed["CF_NR_WFFF"], fixed["CF_NR_ZKDX"] = "罚款", None, None
                            recs.append(fixed)
                            out.corrections += 1
                        if unit_code.endswith("_platform"):  # a city platform forwards provincial decisions
                            pool = [r for u in ("ln_amr", "ln_tax", "ln_finance") for r in sent.get(u, [])[-ROWS:]]
                            for r in rng.sample(pool, min(2, len(pool))):
                                copy = dict(r)
                                if rng.random() < 0.3:  # … with its own idea of the amount: a conflict
                                    copy["CF_NR_FK"] = f"{rng.randrange(1, 50) * 1000}"
                                    copy["CF_CFLB"], copy["CF_NR_WFFF"], copy["CF_NR_ZKDX"] = "罚款", None, None
                                recs.append(copy)
                                out.forwarded += 1
                        sent.setdefault(unit_code, []).extend(recs[:ROWS])
                    _land(s, unit_code, item, recs, _at(day, 7 * i + n), out)
        _replay_cases(s, month, replayed, rng, out)
        if after_month:
            after_month(month)
    marker.write_text("replayed\n")
    return out


def _replay_cases(s: Settings, month: date, months: list[date], rng: random.Random, out: Replayed) -> None:
    """Government cases: month 1 lists new cases; month 2 resolves (履行), settles (和解) or deletes some, keeps
    the others open (reported again), and lists a few new ones; a city platform repeats two of them."""
    cat = catalog()
    day = _workday(month.replace(day=20))
    first = month == months[0]
    base_day = _workday(months[0].replace(day=20))
    seed = zlib.crc32(f"history/cases/{base_day}".encode())
    cases = [rec for rec, _ in generate_rows(GenSpec("gov_dishonest_debtor_case", CASES_MONTH1, seed=seed,
                                                     defect_rate=0, received_on=base_day, seq_prefix="HC"), cat)]
    for c in cases:
        c.update(ZFSX_ZT="未履行", ZFSX_HJRQ=None, ZFSX_SCRQ=None)
    if first:
        _land(s, "ln_court", "gov_dishonest_debtor_case", cases, _at(day, 0), out)
        out.cases["listed_month1"] = len(cases)
        return
    resolved_on = (day - timedelta(days=3)).isoformat()
    states = ["已履行", "已履行", "已和解", "已删除"]
    now = []
    for c, state in zip(cases, states + ["未履行"] * len(cases), strict=False):
        if state == "未履行":
            now.append(c)
        else:
            now.append({**c, "ZFSX_ZT": state, "ZFSX_HJRQ": resolved_on,
                        "ZFSX_SCRQ": resolved_on if state == "已删除" else None})
    seed2 = zlib.crc32(f"history/cases/{day}".encode())
    new = [rec for rec, _ in generate_rows(GenSpec("gov_dishonest_debtor_case", CASES_MONTH2, seed=seed2,
                                                   defect_rate=0, received_on=day, seq_prefix="HD"), cat)]
    for c in new:
        c.update(ZFSX_ZT="未履行", ZFSX_HJRQ=None, ZFSX_SCRQ=None)
    _land(s, "ln_court", "gov_dishonest_debtor_case", now + new, _at(day, 0), out)
    _land(s, "shenyang_platform", "gov_dishonest_debtor_case", now[-2:], _at(day + timedelta(days=1), 0), out)
    out.cases.update(resolved_month2=len(states), new_month2=len(new))


def summary(s: Settings, top: int = 8) -> None:
    """What the warehouse made of it: golden records per item, the duplication burden, the top conflicts and
    the government cases per month."""
    with psycopg.connect(s.pg_dsn()) as conn:
        print("  golden records per item (marts.fct_<item>): facts / landed copies / facts with conflicts")
        for code, item in catalog().items.items():
            n, copies, conflicts = conn.execute(
                f"select count(*), coalesce(sum(copies), 0), count(*) filter (where has_conflicts)"
                f" from marts.fct_{code}").fetchone()
            print(f"    {_pad(item.name_zh, 30)} {n:>6} {copies:>7} {conflicts:>5}")
        units, pairs = conn.execute(
            "select count(*) filter (where other_unit_code = '*'),"
            " count(*) filter (where other_unit_code <> '*' and unit_code < other_unit_code)"
            " from marts.rpt_duplication_burden where facts_also_reported > 0").fetchone()
        print(f"  duplication burden (marts.rpt_duplication_burden): facts also reported by another unit —"
              f" the top {min(top, units)} of {units} units, then the top {min(top, pairs)} of {pairs} pairs")
        for u, n, a, share in conn.execute(
                "select unit_code, facts_reported, facts_also_reported, share_also_reported"
                " from marts.rpt_duplication_burden where other_unit_code = '*' and facts_also_reported > 0"
                " order by facts_also_reported desc, unit_code limit %s", (top,)):
            print(f"    {u:<22} {a:>5} of {n:>5} ({share:.0%})")
        for u, o, a in conn.execute(
                "select unit_code, other_unit_code, facts_also_reported from marts.rpt_duplication_burden"
                " where other_unit_code <> '*' and unit_code < other_unit_code"
                " order by facts_also_reported desc, unit_code limit %s", (top,)):
            print(f"    pair {u} × {o}: {a} facts reported by both")
        print("  top conflicts (marts.fct_value_conflicts): item, field, facts whose copies differ there")
        cat = catalog()
        for item, fieldc, n in conn.execute(
                "select item_code, field_code, count(*) from marts.fct_value_conflicts group by 1, 2"
                " order by 3 desc, 1, 2 limit %s", (top,)):
            names = cat.items[item].names if item in cat.items else {}
            print(f"    {_pad(cat.items[item].name_zh if item in cat.items else item, 30)}"
                  f" {_pad(f'{names.get(fieldc.upper(), fieldc)} ({fieldc})', 34)} {n:>4}")
        this_month = clock.today().strftime("%Y-%m")
        print("  government dishonest-debtor cases per month (marts.mart_gov_case_month, as of each month's end;"
              " the current month to date)")
        print("  and open at the month's end by the case snapshot (snapshots.snap_gov_dishonest_case: what the"
              " builds published — the demo builds at the end of each replayed month)")
        print(f"    {'month':<8} {'new':>4} {'resolved':>8} {'open@start':>10} {'open@end':>8} {'snapshot':>8}")
        for row in conn.execute(
                "select m.month, m.new_cases, m.resolved_cases, m.outstanding_at_start, m.outstanding_at_end,"
                " (select count(*) from snapshots.snap_gov_dishonest_case c where not c.is_resolved"
                "  and c.dbt_valid_from < e.end_at and (c.dbt_valid_to is null or c.dbt_valid_to >= e.end_at))"
                " from marts.mart_gov_case_month m"
                " cross join lateral (select least(((to_date(m.month, 'YYYY-MM') + interval '1 month')::timestamp"
                "  at time zone 'Asia/Shanghai'), now()) as end_at) e order by m.month"):
            note = "  (to date)" if row[0] == this_month else ""
            print(f"    {row[0]:<8} {row[1]:>4} {row[2]:>8} {row[3]:>10} {row[4]:>8} {row[5]:>8}{note}")


def _pad(text: str, width: int) -> str:
    """Left-justify to `width` terminal columns: a Chinese character takes two."""
    return text + " " * max(width - display_width(text), 0)
