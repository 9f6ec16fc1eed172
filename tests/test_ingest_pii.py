"""No natural person's ID number in clear text after the raw zone: landing tables, rejections, staged and
quarantined objects, feedback workbooks, notices and the task logs."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import psycopg

from credit_platform import object_store
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import run_dag
from credit_platform.standards.identifiers import resident_id_status
from tests.ingest_support import TODAY, penalty_csv

CLEAR_ID = re.compile(r"(?<![0-9A-Z])\d{17}[\dXx](?![0-9A-Z])")


def _looks_like_id(m: str) -> bool:
    # a valid check digit and a real birth date: all-digit USCCs pass the first test one time in eleven
    try:
        born = date(int(m[6:10]), int(m[10:12]), int(m[12:14]))
    except ValueError:
        return False
    return resident_id_status(m.upper()) == "ok" and date(1900, 1, 1) <= born <= TODAY


def _clear_ids(text: str) -> list[str]:
    return [m for m in CLEAR_ID.findall(text or "") if _looks_like_id(m)]


def test_no_clear_id_number_in_landing_tables_rejections_or_feedback(env, dags, tmp_path, capfd, caplog):
    s = env
    # natural persons with valid ID numbers, some rejected: both paths must hide the number
    data = penalty_csv(tmp_path, rows=200, seed=31, defect_rate=0.5, unit_name="辽宁省交通运输厅", prefix="PII")
    assert len(_clear_ids(data.decode())) > 10
    src.drop_in_inbox(s, "ln_transport", "administrative_penalty", "pii.csv", data)
    capfd.readouterr()
    with caplog.at_level("DEBUG"):
        assert run_dag(dags["ingest__ln_transport"]).state == "success"
    run_log = "".join(capfd.readouterr()) + caplog.text  # what dag.test() printed and logged for every task
    with psycopg.connect(s.pg_dsn()) as conn:
        tables = conn.execute("select table_schema, table_name, column_name from information_schema.columns"
                              " where table_schema = 'landing' and data_type = 'text'").fetchall()
        found = []
        for schema, table, column in tables:
            for (v,) in conn.execute(f'select "{column}" from "{schema}"."{table}" where "{column}" ~ %s',
                                     (r"\d{17}[0-9Xx]",)).fetchall():
                found += _clear_ids(v)
        masked = conn.execute("select count(*) from landing.administrative_penalty where cf_xdr_zjhm_masked is not null"
                              " and unit_code = 'ln_transport'").fetchone()[0]
    assert found == [] and masked > 0
    c = object_store.client(s)
    for zone in ("feedback", "quarantine", "staged"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            body = object_store.get(c, s.bucket(zone), obj.object_name)
            if obj.object_name.endswith(".xlsx"):
                wb = openpyxl.load_workbook(io.BytesIO(body))
                text = " ".join(str(cell.value) for ws in wb for row in ws.iter_rows() for cell in row)
            elif obj.object_name.endswith(".parquet"):
                import polars as pl

                text = pl.read_parquet(io.BytesIO(body)).write_csv()
            else:
                text = body.decode("utf-8", errors="replace")
            assert _clear_ids(text) == [], f"clear ID number in {zone}/{obj.object_name}"
    for path in s.outbox_dir.glob("*.json"):  # the notices of every run so far
        assert _clear_ids(path.read_text(encoding="utf-8")) == [], f"clear ID number in {path}"
    assert _clear_ids(run_log) == [] and "ln_transport" in run_log, "clear ID number in the run's task logs"
