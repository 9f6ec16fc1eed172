"""The ingestion benchmark still runs end to end (on 20k rows; its figures are not asserted, only that the
pipeline it measures loaded exactly the records gate 0/1 accepts in its per-unit files)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from credit_platform import clock
from credit_platform.gates.validation import validate_file

ROOT = Path(__file__).resolve().parents[1]


def test_bench_ingest_runs_and_loads_the_ground_truth(settings):
    env = {**os.environ, "CP_PG_DATABASE": "credit_bench_smoke", "CP_S3_BUCKET_PREFIX": "smoke-"}
    cli = str(Path(sys.executable).parent / "credit-platform")  # `credit-platform bench` runs bench/bench_ingest.py
    proc = subprocess.run([cli, "bench", "ingest", "--rows", "20000", "--units", "2", "--repeat", "1"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    # the per-unit files split the generated day, so a planted duplicate whose first row went to the other
    # unit is a valid record of its own batch: the expectation is the gate's verdict on each file
    files = sorted((ROOT / "bench" / "out" / "ingest_20000_2").glob("unit*.csv"))
    today = clock.today()  # the pipeline's received date
    expected = sum(validate_file(f, "administrative_penalty", today).accepted for f in files)
    with open(ROOT / "bench" / "out" / "penalty_20000_truth.csv", encoding="utf-8") as fh:
        defective = {int(r["row"]) for r in csv.DictReader(fh)}
    assert len(files) == 2 and out["rows"] == 20000
    assert out["accepted"] == expected and 20000 - len(defective) <= expected < 20000
    assert out["pipeline_rows_per_s"] > 0 and out["bare_copy_rows_per_s"] > 0
    assert set(out["cpu_secs"]) == {"pipeline_processes", "postgres_during_pipeline", "s3_during_pipeline",
                                    "postgres_during_bare_copy"}
    with psycopg.connect(settings.pg_dsn("credit_bench_smoke")) as conn:
        loaded = conn.execute("select count(*) from landing.administrative_penalty").fetchone()[0]
        ledger = conn.execute("select sum(rows), sum(accepted) from landing.batches").fetchone()
    assert loaded == out["accepted"] and ledger == (20000, out["accepted"])


def test_bench_names_an_unknown_benchmark():
    cli = str(Path(sys.executable).parent / "credit-platform")
    proc = subprocess.run([cli, "bench", "nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 64 and "no benchmark 'nope'; there are: contracts, ingest" in proc.stderr
