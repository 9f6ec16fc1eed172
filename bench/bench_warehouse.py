"""Benchmark of the warehouse build (issue #11, point 15). Not a test: run by hand.

    uv run credit-platform bench warehouse [--history 1000000 10000000] [--increment 100000] [--copies 0.1]

For each history size: an empty landing schema gets the history of administrative_penalty loaded with COPY
(ledgered batches of 1,000 rows over the previous 60 days, `--copies` of the facts reported again by another
unit, about three facts per subject), then a full `dbt build` of the warehouse (as `warehouse_build` runs it,
tests included); then the day's increment (new batches, the same share of copies of older facts) and the
incremental build, twice: the first increment after the full build finds the caches full of what that build
wrote last, the second one as a daily build finds them (the steady state).
Printed: both builds per size, the ratio of the incremental builds between the largest and the smallest history
(target ≤ 1.3×), and, on the largest history, the floor — one hand-written `insert … select distinct on (…)`
doing only the dedup of the same rows — against the full build (target ≤ 2×).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
os.environ.setdefault("CP_PG_DATABASE", "credit_bench_wh")

BATCH_ROWS = 1000
UNITS = ["ln_amr", "ln_tax", "ln_finance", "ln_psb", "shenyang_platform", "dalian_platform"]


def _templates(n: int) -> list[dict]:
    from credit_platform.dev.generator import GenSpec, generate_rows

    return [rec for rec, _ in generate_rows(GenSpec("administrative_penalty", n, seed=3, defect_rate=0,
                                                    received_on=date.today(), seq_prefix="B"))]


def _landing_rows(item, templates: list[dict], id_key: str, subjects: int):
    """A function fact_no, copy → landing row values (in item_columns order) built from a template. Fact n is
    about subject (n × a large odd number) mod `subjects` (a legal person with a USCC of its own, or a natural
    person with an ID hash of their own, by the subject's template): about three penalties per subject, as a
    register has, rather than thousands each for the 2,000 templates."""
    from credit_platform.landing.schema import item_columns
    from credit_platform.standards.identifiers import make_uscc, org_code_check_char

    cols = item_columns(item)
    prepared = []
    for t in templates:
        vals = {}
        for c in cols:
            if c.field is None:
                continue
            v = t.get(c.field.code)
            if c.kind == "hash":
                v = None if v is None else hmac.new(id_key.encode(), v.encode(), "sha256").hexdigest()
            elif c.kind == "masked":
                v = None if v is None else v[:4] + "*" * (len(v) - 8) + v[-4:]
            vals[c.name] = v
        prepared.append(vals)
    names = [c.name for c in cols]

    def row(fact: int, batch_id: str, row_no: int, unit: str, received_at: datetime) -> list:
        subject = fact * 2654435761 % subjects
        v = dict(prepared[subject % len(prepared)])
        v["cf_xdr_mc"] = f"{v['cf_xdr_mc']}{subject}"
        if v.get("cf_xdr_shxym"):
            v["cf_xdr_shxym"] = make_uscc(f"91210100{subject:08d}{org_code_check_char(f'{subject:08d}')}")
        if v.get("cf_xdr_zjhm_hash"):
            v["cf_xdr_zjhm_hash"] = hmac.new(id_key.encode(), f"bench-{subject}".encode(), "sha256").hexdigest()
        v["cf_wsh"] = f"辽罚〔2026〕{fact:09d}号"
        key = hashlib.blake2b(f"{fact}".encode(), digest_size=12).hexdigest()
        v.update(batch_id=batch_id, row_no=row_no, unit_code=unit, channel="frontend_db", received_at=received_at,
                 natural_key_hash=key, on_time=True)
        return [v.get(n) for n in names]

    return row, names


def _load(s, item, templates, facts: range, copies: float, day0: date, days: int, tag: str, rng,
          subjects: int) -> int:
    """COPY the rows of `facts` (plus copies of earlier facts) in ledgered batches spread over `days` days."""
    import psycopg

    row, names = _landing_rows(item, templates, s.id_hash_key, subjects)
    n_rows = int(len(facts) * (1 + copies))
    per_day = max(1, n_rows // days)
    fact_iter = iter(facts)
    p_copy = copies / (1 + copies)
    emitted, written = 0, 0
    with psycopg.connect(s.pg_dsn()) as conn:
        batch_no = 0
        while written < n_rows:
            day = day0 + timedelta(days=min(days - 1, written // per_day))
            received_at = datetime(day.year, day.month, day.day, 2, tzinfo=UTC) + timedelta(seconds=batch_no)
            batch_id = f"{tag}{batch_no:08d}"
            unit = UNITS[batch_no % len(UNITS)]
            size = min(BATCH_ROWS, n_rows - written)
            with conn.cursor().copy(f"copy landing.{item.table} ({', '.join(names)}) from stdin") as cp:
                for r in range(1, size + 1):
                    fact = None
                    if not (facts.start + emitted and rng.random() < p_copy):  # else: a copy of an earlier fact
                        fact = next(fact_iter, None)
                    if fact is None:
                        fact = rng.randrange(0, facts.start + emitted)
                    else:
                        emitted += 1
                    cp.write_row(row(fact, batch_id, r, unit, received_at))
            conn.execute("insert into landing.batches (batch_id, unit_code, item_code, channel, received_at, sha256,"
                         " bytes, rows, accepted, rejected, status) values (%s, %s, %s, 'frontend_db', %s, %s, 0,"
                         " %s, %s, 0, 'loaded')", (batch_id, unit, item.code, received_at, batch_id, size, size))
            conn.commit()
            written += size
            batch_no += 1
    return written


def _reset(s) -> None:
    import psycopg

    from credit_platform.catalog.items import catalog
    from credit_platform.ingest import landing_load

    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        for schema in ("landing", "staging", "intermediate", "marts", "snapshots", "reference", "bench"):
            conn.execute(f"drop schema if exists {schema} cascade")
    landing_load.ensure_schema(s)
    assert catalog()


def _server_counters(s) -> dict[str, float]:
    """The server's cumulative WAL and buffer counters: a build's delta says whether it wrote full-page images
    (first touch of a page after a checkpoint) and how many pages it read from outside shared_buffers."""
    import psycopg

    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        wal = conn.execute("select wal_records, wal_fpi, wal_bytes from pg_stat_wal").fetchone()
        db = conn.execute("select blks_read, blks_hit from pg_stat_database where datname = current_database()"
                          ).fetchone()
        ckpt = conn.execute("select num_timed + num_requested from pg_stat_checkpointer").fetchone()
    return {"wal_records": wal[0], "wal_fpi": wal[1], "wal_mb": float(wal[2]) / 2**20, "blks_read": db[0],
            "blks_hit": db[1], "checkpoints": ckpt[0]}


def _relation_reads(s) -> dict[str, int]:
    """Pages each warehouse table and index read from outside shared_buffers so far: which history relations a
    day's build waits on."""
    import psycopg

    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "select schemaname || '.' || relname, coalesce(heap_blks_read, 0) from pg_statio_user_tables"
            " union all select schemaname || '.' || indexrelname, coalesce(idx_blks_read, 0)"
            " from pg_statio_user_indexes").fetchall()
    return dict(rows)


def _timed_build(s, full_refresh: bool, label: str) -> float:
    from credit_platform.warehouse import dbt_build

    before, reads_before = _server_counters(s), _relation_reads(s)
    started = time.monotonic()
    out = dbt_build.build_warehouse(s, full_refresh=full_refresh)
    if not out.success:
        raise SystemExit(f"dbt build failed: {out.failed()[:10]}")
    seconds = time.monotonic() - started
    after, reads_after = _server_counters(s), _relation_reads(s)
    # a full refresh recreates its relations (their counters restart), so their delta is all they read
    reads = {name: n - reads_before.get(name, 0) if n >= reads_before.get(name, 0) else n
             for name, n in reads_after.items()}
    top_reads = sorted(((n, name) for name, n in reads.items() if n > 0), reverse=True)[:12]
    print(json.dumps({"build": label, "server": {k: round(after[k] - before[k], 1) for k in after},
                      "pages_read_by_relation": [[n, name] for n, name in top_reads],
                      "prewarmed": out.prewarmed.summary() if out.prewarmed else None}), flush=True)
    NODE_SECONDS[label] = _node_timings(s, label, seconds)
    return seconds


NODE_SECONDS: dict[str, dict[str, float]] = {}
# The golden-record chain of the benchmarked item: every copy, the rule, one row per fact, the fact's values
DEDUP_CHAIN = ("int_record_copies", "int_record_survivorship", "int_golden_keys", "fct_administrative_penalty")


def _node_timings(s, label: str, seconds: float) -> dict[str, float]:
    """Where a build's time went, from dbt's run_results.json (kept under bench/out/): the slowest nodes, the
    time in models and in tests, and what is left (dbt's start-up: parsing, the graph, connections)."""
    results = json.loads((s.home / "dbt-target" / "run_results.json").read_text(encoding="utf-8"))
    OUT.mkdir(exist_ok=True)
    (OUT / f"run_results_{label}.json").write_text(json.dumps(results), encoding="utf-8")
    nodes = [(r["execution_time"], r["unique_id"]) for r in results["results"]]
    by_kind: dict[str, float] = {}
    for t, uid in nodes:
        by_kind[uid.split(".")[0]] = by_kind.get(uid.split(".")[0], 0.0) + t
    print(json.dumps({"build": label, "seconds": round(seconds, 1), "nodes": len(nodes),
                      "node_seconds_by_kind": {k: round(v, 1) for k, v in sorted(by_kind.items())},
                      "dbt_elapsed_s": round(results.get("elapsed_time", 0.0), 1),
                      "load_average": [round(x, 2) for x in os.getloadavg()],
                      "slowest": [[round(t, 2), uid] for t, uid in sorted(nodes, reverse=True)[:12]]}),
          flush=True)
    return {uid.split(".")[-1] if uid.startswith("model.") else uid: t for t, uid in nodes}


def _floor(s, item) -> float:
    import psycopg

    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("create schema if not exists bench")
        conn.execute(f"create table bench.floor (like landing.{item.table})")
        started = time.monotonic()
        conn.execute(f"insert into bench.floor select distinct on (natural_key_hash) * from landing.{item.table}"
                     " order by natural_key_hash, received_at desc, batch_id desc, row_no desc")
        seconds = time.monotonic() - started
        # dropped at once: autovacuum would otherwise vacuum its 9M rows during the full build being measured
        conn.execute("drop table bench.floor")
        return seconds


def _resume(s, item, templates, n: int, args) -> None:
    """More days of increments on the database a previous run left (its largest history)."""
    import psycopg

    with psycopg.connect(s.pg_dsn()) as conn:
        batches = conn.execute("select count(*) from landing.batches").fetchone()[0]
        # the fact number is the decision number's digits (辽罚〔2026〕000000123号); the highest is in the last
        # day's rows (BRIN on received_at): a scan of the whole history would fill the OS cache with landing pages
        # and slow the builds being measured
        last_fact = conn.execute(
            f"select max(substr(cf_wsh, 9, 9)::bigint) from landing.{item.table} where received_at >="
            " (select max(received_at) - interval '1 day' from landing.batches)").fetchone()[0]
    facts = int(n / (1 + args.copies))
    inc_facts = int(args.increment / (1 + args.copies))
    rng = random.Random(batches)
    subjects = max(len(templates), facts // 3)
    for day in range(args.days):
        first = last_fact + 1 + day * inc_facts
        _load(s, item, templates, range(first, first + inc_facts), args.copies, date.today(), 1,
              f"R{batches:06d}x{day}", rng, subjects)
        _timed_build(s, full_refresh=False, label=f"{n}_resumed_day{day + 1}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--increment", type=int, default=100_000)
    ap.add_argument("--copies", type=float, default=0.1, help="share of rows that repeat an earlier fact")
    ap.add_argument("--days", type=int, choices=(1, 2), default=2,
                    help="increments built one after the other on each history (day 2: caches as a daily build)")
    ap.add_argument("--resume", action="store_true",
                    help="no new history: build --days more increments on the history left by the last run of the"
                         " largest --history (to compare changes to the incremental build without reloading)")
    args = ap.parse_args()

    sys.path.insert(0, str(HERE.parent / "plugins"))
    from credit_platform.catalog.items import catalog
    from credit_platform.dev import services
    from credit_platform.settings import Settings

    s = Settings.from_env()
    services.up(s)
    item = catalog().item("administrative_penalty")
    templates = _templates(2000)
    today = date.today()
    results = {}
    if args.resume:
        _resume(s, item, templates, max(args.history), args)
        return
    for n in args.history:
        rng = random.Random(n)
        _reset(s)
        facts = int(n / (1 + args.copies))
        t0 = time.monotonic()
        subjects = max(len(templates), facts // 3)
        rows = _load(s, item, templates, range(0, facts), args.copies, today - timedelta(days=60), 60, "H", rng,
                     subjects)
        load_s = time.monotonic() - t0
        if n == max(args.history):  # the floor on exactly the rows the full build gets
            floor_s = _floor(s, item)
        full_s = _timed_build(s, full_refresh=True, label=f"{n}_full")
        inc_facts = int(args.increment / (1 + args.copies))
        inc_s = []
        for day, tag in enumerate(("D", "E")[:args.days]):
            first = facts + day * inc_facts
            inc_rows = _load(s, item, templates, range(first, first + inc_facts), args.copies,
                             today - timedelta(days=args.days - 1 - day), 1, tag, rng, subjects)
            inc_s.append(_timed_build(s, full_refresh=False, label=f"{n}_incremental_day{day + 1}"))
        results[n] = {"history_rows": rows, "copy_load_s": round(load_s, 1), "full_build_s": round(full_s, 1),
                      "increment_rows": inc_rows, "incremental_build_s": [round(x, 1) for x in inc_s],
                      "load_average": [round(x, 2) for x in os.getloadavg()]}
        print(json.dumps({n: results[n]}), flush=True)
    small, large = min(args.history), max(args.history)
    print(json.dumps({
        "sizes": results,
        # per day: the first increment after the full build (caches hold what the full build wrote last) and
        # the next day's (the steady state of a daily build)
        "incremental_ratio_largest_vs_smallest": [
            round(a / b, 2) for a, b in zip(results[large]["incremental_build_s"],
                                            results[small]["incremental_build_s"], strict=True)],
        "floor_distinct_on_s": round(floor_s, 1),
        "full_build_vs_floor": round(results[large]["full_build_s"] / floor_s, 2),
        # the same full build, only the models that do the floor's work for this item (their own seconds)
        "dedup_chain_full_s": round(sum(NODE_SECONDS[f"{large}_full"][m] for m in DEDUP_CHAIN), 1),
        "dedup_chain_vs_floor": round(sum(NODE_SECONDS[f"{large}_full"][m] for m in DEDUP_CHAIN) / floor_s, 2),
        # dbt runs in this process: its peak resident memory (PostgreSQL's own is not counted)
        "peak_rss_mb_bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=1))


if __name__ == "__main__":
    main()
