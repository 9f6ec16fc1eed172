"""Benchmark of ingestion (issue: scheduled ingestion). Not a test: run by hand, services up.

    uv run python bench/bench_ingest.py [--rows 1000000] [--units 10]

A 1M-record day of administrative_penalty data (5% defects) split across source units goes through
land (raw zone) → gate 0/1 → stage (Parquet, hashed IDs, timeliness) → load (COPY + ledger), in a
separate process for a clean peak RSS. In the same run, the floor: a bare COPY of the same rows into an
unconstrained all-text table. Prints rows/s, peak RSS and the ratio pipeline / bare COPY.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("CP_PG_DATABASE", "credit_bench")
os.environ.setdefault("CP_S3_BUCKET_PREFIX", "bench-")


def _split(src: Path, parts: int, out: Path) -> list[Path]:
    """Split a generated CSV (no quoted newlines) into per-unit files with the header repeated."""
    out.mkdir(exist_ok=True)
    files = [out / f"unit{i:02d}.csv" for i in range(parts)]
    if all(f.exists() for f in files):
        return files
    with open(src, "rb") as fh:
        header = fh.readline()
        lines = fh.readlines()
    per = -(-len(lines) // parts)
    for i, f in enumerate(files):
        f.write_bytes(header + b"".join(lines[i * per:(i + 1) * per]))
    return files


def _pipeline(files: list[str], q, offset: int = 0) -> None:
    from credit_platform import raw_zone, warehouse_load
    from credit_platform.registry import registry
    from credit_platform.settings import Settings
    from credit_platform.staging import gate_and_stage, write_feedback

    s = Settings.from_env()
    units = [u for u in registry().units.values() if any(o.item == "administrative_penalty" for o in u.items)]
    warehouse_load.ensure_schema(s)
    phases = {"land": 0.0, "gate_stage": 0.0, "load": 0.0}
    rows = accepted = 0
    outs = []
    t = time.perf_counter()
    for f, unit in zip(files, units[offset:], strict=False):
        p0 = time.perf_counter()
        b = raw_zone.land(s, unit.code, "administrative_penalty", "batch_file", Path(f).read_bytes(), "csv",
                          f"bench:{Path(f).name}", datetime.now(UTC))
        p1 = time.perf_counter()
        out = gate_and_stage(s, b)
        p2 = time.perf_counter()
        warehouse_load.load(s, out)
        phases["land"] += p1 - p0
        phases["gate_stage"] += p2 - p1
        phases["load"] += time.perf_counter() - p2
        rows += out.rows
        accepted += out.accepted
        outs.append(out)
    pipeline_wall = time.perf_counter() - t
    t = time.perf_counter()
    for out in outs:  # the unit's workbooks, written after the load (as ingest_batch does)
        write_feedback(s, out)
    q.put({"secs": pipeline_wall, "feedback_secs": time.perf_counter() - t, "rows": rows, "accepted": accepted,
           "phases": {k: round(v, 2) for k, v in phases.items()},
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _bare_copy(files: list[str], q) -> None:
    import psycopg

    from credit_platform.settings import Settings

    s = Settings.from_env()
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        header = open(files[0], encoding="utf-8").readline().strip().split(",")
        conn.execute("drop table if exists bench_bare_copy")
        conn.execute("create table bench_bare_copy (" + ", ".join(f"c{i} text" for i in range(len(header))) + ")")
        t = time.perf_counter()
        with conn.transaction():
            for f in files:
                with conn.cursor().copy("copy bench_bare_copy from stdin with (format csv, header true)") as cp, \
                        open(f, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        cp.write(chunk)
        secs = time.perf_counter() - t
        n = conn.execute("select count(*) from bench_bare_copy").fetchone()[0]
        conn.execute("drop table bench_bare_copy")
    q.put({"secs": secs, "rows": n})


def _run(fn, files) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=([str(f) for f in files], q))
    p.start()
    res = q.get()
    p.join()
    return res


def _run_parallel(files, workers: int) -> dict:
    """Like the ingest DAG (two mapped loads at a time): files split over `workers` processes."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    shares = [files[i::workers] for i in range(workers)]
    started = time.perf_counter()
    procs = [ctx.Process(target=_pipeline, args=([str(f) for f in share], q, i * len(files)))
             for i, share in enumerate(shares)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    phases = {k: round(sum(r["phases"][k] for r in results), 2) for k in results[0]["phases"]}
    return {"secs": max(r["secs"] for r in results), "feedback_secs": max(r["feedback_secs"] for r in results),
            "wall_secs": time.perf_counter() - started, "rows": sum(r["rows"] for r in results),
            "accepted": sum(r["accepted"] for r in results), "phases": phases,
            "rss_mb": max(r["rss_mb"] for r in results)}


def _fresh(s) -> None:
    import psycopg

    from credit_platform import object_store, services

    services.up(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
    c = object_store.client(s)
    for zone in ("raw", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2, help="parallel batches, as the DAG's mapped loads")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_contracts import _ensure

    from credit_platform.settings import Settings

    s = Settings.from_env()
    _fresh(s)
    data, _ = _ensure(args.rows)
    files = _split(data, args.units, HERE / "out" / f"ingest_{args.rows}_{args.units}")
    bare = _run(_bare_copy, files)
    pipe = _run(_pipeline, files) if args.workers == 1 else _run_parallel(files, args.workers)
    print(json.dumps({
        "rows": pipe["rows"], "units": args.units, "workers": args.workers, "accepted": pipe["accepted"],
        "pipeline_secs": round(pipe["secs"], 2), "pipeline_rows_per_s": round(pipe["rows"] / pipe["secs"]),
        "pipeline_phases_summed_secs": pipe["phases"], "pipeline_peak_rss_mb": round(pipe["rss_mb"]),
        "feedback_workbooks_after_load_secs": round(pipe["feedback_secs"], 2),
        "bare_copy_secs": round(bare["secs"], 2), "bare_copy_rows_per_s": round(bare["rows"] / bare["secs"]),
        "ratio_pipeline_over_bare_copy": round(pipe["secs"] / bare["secs"], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
