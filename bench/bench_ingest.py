"""Benchmark of ingestion (issue: scheduled ingestion). Not a test: run by hand (the CLI starts the services).

    uv run credit-platform bench ingest [--rows 1000000] [--units 10] [--workers 2] [--repeat 3]

A 1M-record day of administrative_penalty data (5% defects) split across source units goes through
land (raw zone) → gate 0/1 → stage (Parquet, hashed IDs, timeliness) → load (COPY + ledger), in worker
processes (two batches at a time, as the DAG's mapped loads) for a clean peak RSS. In the same run, the
floor: a bare COPY of the same rows into an unconstrained all-text table. Each run starts from an empty
landing schema and zones after a checkpoint; the best of each measurement counts and every run is printed.
Prints rows/s, peak RSS, the ratio pipeline / bare COPY, and the CPU seconds of the workers, PostgreSQL and
the S3 server (their sum over the cores is the fastest any schedule could be).
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


def _proc_cpu(pid: int, children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a backend that just exited (ENOENT or ESRCH): the postmaster's children total has it
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _service_cpu(s) -> dict[str, float]:
    """CPU seconds used so far by the local PostgreSQL (postmaster, live and exited backends) and S3 server."""
    from credit_platform.dev import services

    pg = services.postgres_status(s).pid
    kids = [int(p) for p in Path(f"/proc/{pg}/task/{pg}/children").read_text().split()]
    s3 = services.s3_status(s).pid
    return {"postgres": _proc_cpu(pg, children=True) + sum(_proc_cpu(k) for k in kids), "s3": _proc_cpu(s3)}


def _client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


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


def _pipeline(files: list[str], q, offset: int = 0, barrier=None) -> None:
    from credit_platform.catalog.registry import registry
    from credit_platform.ingest import landing_load, raw_zone
    from credit_platform.ingest.staged_zone import gate_and_stage, write_feedback
    from credit_platform.settings import Settings

    s = Settings.from_env()
    units = [u for u in registry().units.values() if any(o.item == "administrative_penalty" for o in u.items)]
    landing_load.ensure_schema(s)
    phases = {"land": 0.0, "gate_stage": 0.0, "load": 0.0}
    rows = accepted = 0
    outs = []
    if barrier is not None:
        barrier.wait()
    cpu0 = _client_cpu()
    t = time.perf_counter()
    for f, unit in zip(files, units[offset:], strict=False):
        p0 = time.perf_counter()
        b = raw_zone.land(s, unit.code, "administrative_penalty", "batch_file", Path(f).read_bytes(), "csv",
                          f"bench:{Path(f).name}", datetime.now(UTC))
        p1 = time.perf_counter()
        out = gate_and_stage(s, b)
        p2 = time.perf_counter()
        landing_load.load(s, out)
        phases["land"] += p1 - p0
        phases["gate_stage"] += p2 - p1
        phases["load"] += time.perf_counter() - p2
        rows += out.rows
        accepted += out.accepted
        outs.append(out)
    pipeline_wall = time.perf_counter() - t
    cpu = _client_cpu() - cpu0
    t = time.perf_counter()
    for out in outs:  # the unit's workbooks, written after the load (as ingest_batch does)
        write_feedback(s, out)
    q.put({"secs": pipeline_wall, "cpu": cpu, "feedback_secs": time.perf_counter() - t, "rows": rows,
           "accepted": accepted,
           "phases": {k: round(v, 2) for k, v in phases.items()},
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _gate_only(files: list[str], q) -> None:
    """CPU seconds of gate 0 + gate 1 alone over the same files (from memory, as the load task gates them)."""
    from credit_platform import clock
    from credit_platform.gates.validation import validate_file

    today = clock.today()  # the pipeline's received date
    validate_file(Path(files[0]).read_bytes()[:200_000].rsplit(b"\n", 1)[0] + b"\n", "administrative_penalty",
                  today, name="warm.csv")  # imports and the compiled contract, not counted
    cpu = 0.0
    for f in files:
        data = Path(f).read_bytes()
        c0 = _client_cpu()
        validate_file(data, "administrative_penalty", today, name="batch.csv")
        cpu += _client_cpu() - c0
    q.put({"cpu": cpu})


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


def _collect(q, procs, n: int) -> list[dict]:
    """Results from the worker processes; a worker that died is an error, not a hang."""
    import queue

    out = []
    while len(out) < n:
        try:
            out.append(q.get(timeout=5))
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise SystemExit(f"benchmark worker failed (exit code {dead[0].exitcode})") from None
    for p in procs:
        p.join()
    return out


def _run(fn, files) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=([str(f) for f in files], q))
    p.start()
    return _collect(q, [p], 1)[0]


def _run_parallel(files, workers: int) -> dict:
    """Like the ingest DAG (two mapped loads at a time): files split over `workers` processes, which start
    their timed part together."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    barrier = ctx.Barrier(workers)
    shares = [files[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=_pipeline, args=([str(f) for f in share], q, i * len(files), barrier))
             for i, share in enumerate(shares)]
    for p in procs:
        p.start()
    results = _collect(q, procs, len(procs))
    phases = {k: round(sum(r["phases"][k] for r in results), 2) for k in results[0]["phases"]}
    return {"secs": max(r["secs"] for r in results), "cpu": sum(r["cpu"] for r in results),
            "feedback_secs": max(r["feedback_secs"] for r in results), "rows": sum(r["rows"] for r in results),
            "accepted": sum(r["accepted"] for r in results), "phases": phases,
            "rss_mb": max(r["rss_mb"] for r in results)}


def _fresh(s) -> None:
    """Empty landing schema and zones, and a checkpoint, so every measurement starts from the same state."""
    import psycopg

    from credit_platform import object_store
    from credit_platform.dev import services

    services.up(s)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
    c = object_store.client(s)
    for zone in ("raw", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    with services.pg_superuser_conn(s) as conn:
        conn.execute("checkpoint")


def _once(s, files, workers: int) -> dict:
    _fresh(s)
    c0 = _service_cpu(s)
    bare = _run(_bare_copy, files)
    c1 = _service_cpu(s)
    _fresh(s)
    c1b = _service_cpu(s)
    pipe = _run(_pipeline, files) if workers == 1 else _run_parallel(files, workers)
    c2 = _service_cpu(s)
    return {"bare": bare, "pipe": pipe, "cpu": {
        "pipeline_processes": round(pipe["cpu"], 2),
        **{f"{k}_during_pipeline": round(c2[k] - c1b[k], 2) for k in c2},
        "postgres_during_bare_copy": round(c1["postgres"] - c0["postgres"], 2)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2, help="parallel batches, as the DAG's mapped loads")
    ap.add_argument("--repeat", type=int, default=3, help="runs of both measurements; the best of each counts")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_contracts import ensure_data

    from credit_platform.settings import Settings

    s = Settings.from_env()
    _fresh(s)
    data, _ = ensure_data(args.rows)
    files = _split(data, args.units, HERE / "out" / f"ingest_{args.rows}_{args.units}")
    runs = [_once(s, files, args.workers) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["pipe"]["secs"])
    gate_cpu = _run(_gate_only, files)["cpu"]
    pipe = best["pipe"]
    bare_secs = min(r["bare"]["secs"] for r in runs)
    print(json.dumps({
        "rows": pipe["rows"], "units": args.units, "workers": args.workers, "accepted": pipe["accepted"],
        "runs": args.repeat,
        "pipeline_secs_each_run": [round(r["pipe"]["secs"], 2) for r in runs],
        "bare_copy_secs_each_run": [round(r["bare"]["secs"], 2) for r in runs],
        "pipeline_secs_best": round(pipe["secs"], 2), "pipeline_rows_per_s": round(pipe["rows"] / pipe["secs"]),
        "bare_copy_secs_best": round(bare_secs, 2), "bare_copy_rows_per_s": round(pipe["rows"] / bare_secs),
        "ratio_best_over_best": round(pipe["secs"] / bare_secs, 2),
        "pipeline_phases_summed_secs": pipe["phases"], "pipeline_peak_rss_mb": round(pipe["rss_mb"]),
        "feedback_workbooks_after_load_secs": round(pipe["feedback_secs"], 2),
        # where the CPU goes in the best run: on N cores no schedule beats (sum of CPU seconds) / N
        "cpu_secs": best["cpu"], "cores": os.cpu_count(),
        # the 2× target as CPU: twice the bare COPY's time on every core; and what the mandated steps alone use
        "cpu_secs_within_2x_of_bare_copy": round(2 * bare_secs * (os.cpu_count() or 1), 2),
        "cpu_secs_gate_copy_s3_alone": round(gate_cpu + best["cpu"]["postgres_during_pipeline"]
                                             + best["cpu"]["s3_during_pipeline"], 2),
        "gate_only_cpu_secs": round(gate_cpu, 2),
        "cpu_bound_secs": round(sum(best["cpu"][k] for k in ("pipeline_processes", "postgres_during_pipeline",
                                                              "s3_during_pipeline")) / (os.cpu_count() or 1), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
