"""Helpers shared by the ingest test modules (the fixtures `env` and `dags` live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from credit_platform import clock
from credit_platform.dev.generator import GenSpec, generate_rows, write_csv

TODAY = clock.today()  # the pipeline dates batches in Beijing time, not the host's


def q(s, sql, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def penalty_csv(tmp_path: Path, rows=120, seed=1, defect_rate=0.2, unit_name="辽宁省住房和城乡建设厅", prefix="A"):
    path = tmp_path / f"p{seed}.csv"
    write_csv(GenSpec("administrative_penalty", rows, seed=seed, defect_rate=defect_rate, received_on=TODAY,
                      unit_name=unit_name, seq_prefix=prefix), path)
    return path.read_bytes()


def ledger(s, unit):
    return q(s, "select batch_id, channel, rows, accepted, rejected, status, batch_error_reason"
                " from landing.batches where unit_code = %s order by loaded_at", unit)


def source_records(n, seed, prefix, unit_name="辽宁省市场监督管理局"):
    spec = GenSpec("administrative_penalty", n, seed=seed, defect_rate=0.0, received_on=TODAY, unit_name=unit_name,
                   seq_prefix=prefix)
    return [{**rec, "record_id": f"{prefix}-{i}"} for i, (rec, _) in enumerate(generate_rows(spec))]
