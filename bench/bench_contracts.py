"""Benchmark of gate 0 + gate 1 (issue: catalog-driven contracts). Not a test: run by hand.

    uv run credit-platform bench contracts [--rows 1000000] [--big-rows 5000000]

Generates (once, cached in bench/out/) an administrative_penalty CSV with 5% planted defects, then in
separate processes (for clean peak-RSS figures): the vectorised validator, and a row-by-row Python checker
of the same rules (bench/rowwise_baseline.py). Prints rows/s, peak RSS and the ratio, and checks both
found the same failures as the generator's ground truth.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import resource
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RECEIVED = date(2026, 11, 20)


def ensure_data(rows: int, seed: int = 1) -> tuple[Path, Path]:
    from credit_platform.dev.generator import GenSpec, write_csv

    data, truth = OUT / f"penalty_{rows}.csv", OUT / f"penalty_{rows}_truth.csv"
    if not data.exists():
        OUT.mkdir(exist_ok=True)
        t = time.perf_counter()
        write_csv(GenSpec("administrative_penalty", rows, seed=seed, defect_rate=0.05, received_on=RECEIVED),
                  data, truth)
        print(f"generated {rows:,} rows in {time.perf_counter() - t:.0f}s ({data.stat().st_size / 1e6:.0f} MB)")
    return data, truth


def _vectorised(path: str, q) -> None:
    from credit_platform.gates.validation import validate_file

    t = time.perf_counter()
    rep = validate_file(Path(path), "administrative_penalty", RECEIVED)
    secs = time.perf_counter() - t
    found = {(r["row"], r["field"], r["reason"]) for r in rep.rejections}
    q.put({"secs": secs, "rows": rep.rows, "rejected": rep.rejected, "found": found,
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _rowwise(path: str, q) -> None:
    sys.path.insert(0, str(HERE))
    from rowwise_baseline import check_file

    from credit_platform.catalog.items import catalog

    cat = catalog()
    t = time.perf_counter()
    found = check_file(path, cat.item("administrative_penalty"), cat, RECEIVED)
    q.put({"secs": time.perf_counter() - t, "found": found,
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _run(fn, path: Path) -> dict:
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=fn, args=(str(path), q))
    p.start()
    res = q.get()
    p.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=0, help="also validate a file this big (bounded memory)")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    data, truth = ensure_data(args.rows)
    with open(truth, encoding="utf-8") as fh:
        expected = {(int(r["row"]), r["field"], r["reason"]) for r in csv.DictReader(fh)}
    v = _run(_vectorised, data)
    result = {"rows": v["rows"], "file_mb": round(data.stat().st_size / 1e6), "vectorised_secs": round(v["secs"], 2),
              "vectorised_rows_per_s": round(v["rows"] / v["secs"]), "vectorised_peak_rss_mb": round(v["rss_mb"]),
              "vectorised_matches_ground_truth": v["found"] == expected}
    if not args.skip_baseline:
        b = _run(_rowwise, data)
        result.update({"rowwise_secs": round(b["secs"], 2), "rowwise_rows_per_s": round(v["rows"] / b["secs"]),
                       "rowwise_peak_rss_mb": round(b["rss_mb"]),
                       "rowwise_matches_ground_truth": b["found"] == expected,
                       "speedup": round(b["secs"] / v["secs"], 1)})
    if args.big_rows:
        big, _ = ensure_data(args.big_rows, seed=2)
        g = _run(_vectorised, big)
        result.update({"big_rows": g["rows"], "big_file_mb": round(big.stat().st_size / 1e6),
                       "big_rows_per_s": round(g["rows"] / g["secs"]), "big_peak_rss_mb": round(g["rss_mb"])})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
