"""One PII policy at every exit, end to end: ID numbers planted where they do not belong (a USCC column, free
text glued to letters, full-width digits, a header, an inbox file name, a file outside any item folder, an
online-fill entry) go through a real DAG run; then every zone but raw, every schema of the platform database,
Airflow's metadata DB, the outbox and the logs are scanned with the platform's own scanner
(`standards.pii.find_ids`, the function the platform redacts with): no ID number in clear outside raw.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile

import polars as pl
import psycopg
import pytest
from psycopg import sql

from credit_platform import clock, object_store
from credit_platform.dev import airflow_env
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import load_dag_module, run_dag
from credit_platform.dev.generator import GenSpec, write_csv
from credit_platform.ingest import landing_load
from credit_platform.settings import ZONES
from credit_platform.standards.identifiers import make_resident_id
from credit_platform.standards.pii import find_ids

UNIT, ITEM = "ln_transport", "administrative_penalty"
IDS = [make_resident_id(f"2101021985{m:02d}{d:02d}0{n:02d}") for m, d, n in
       [(1, 2, 11), (3, 4, 12), (5, 6, 13), (7, 8, 14), (9, 10, 15), (11, 12, 16), (2, 3, 17), (4, 5, 18)]]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture(scope="module")
def env(airflow_db):
    s = airflow_db
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("drop schema if exists online_fill cascade")
    c = object_store.client(s)
    for zone in ("inbox", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    landing_load.ensure_schema(s)
    return s


def _hits(where: str, text: str, found: list[str]) -> None:
    for a, b in find_ids(text):
        found.append(f"{where}: …{text[max(a - 30, 0):b + 10]}…")


def _object_text(key: str, data: bytes) -> str:
    if key.endswith(".parquet"):
        return pl.read_parquet(io.BytesIO(data)).write_csv()
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
        except zipfile.BadZipFile:  # a broken upload another test left: its bytes are still scanned
            pass
    return data.decode("utf-8", "replace")


def _scan_postgres(s, found: list[str]) -> int:
    n = 0
    with psycopg.connect(s.pg_dsn()) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables where table_schema"
                              " not in ('pg_catalog', 'information_schema') and table_type in ('BASE TABLE', 'VIEW')"
                              ).fetchall()
        for schema, table in tables:
            for (row,) in conn.execute(sql.SQL("select t::text from {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table))).fetchall():
                n += 1
                _hits(f"postgres {schema}.{table}", row, found)
    return n


def _scan_airflow(s, found: list[str]) -> int:
    """Airflow's metadata database (XCom, rendered fields, task instances…: its own database in PostgreSQL)
    and its task logs."""
    n = 0
    with psycopg.connect(s.pg_dsn(airflow_env.airflow_database(s))) as conn:
        # (not dag_code: the source files of the DAGs run so far, this suite's test modules among them, whose
        # ID-shaped literals are test code, not data; a second run on the same CP_HOME would otherwise find the
        # first run's test DAGs there)
        tables = conn.execute("select table_schema, table_name from information_schema.tables where table_schema"
                              " = 'public' and table_type = 'BASE TABLE' and table_name <> 'dag_code'").fetchall()
        for schema, table in tables:
            for (row,) in conn.execute(sql.SQL("select t::text from {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table))).fetchall():
                n += 1
                _hits(f"airflow {table}", row, found)
    for path in (s.airflow_home / "logs").rglob("*") if (s.airflow_home / "logs").exists() else ():
        if path.is_file():
            _hits(f"airflow log {path.name}", path.read_text("utf-8", "replace"), found)
    return n


def test_no_id_number_in_clear_outside_the_raw_zone(env, tmp_path, caplog):
    s = env
    caplog.set_level(logging.INFO)
    path = tmp_path / "p.csv"
    write_csv(GenSpec(ITEM, 40, seed=31, defect_rate=0.1, received_on=clock.today(), seq_prefix="PII"), path)
    frame = pl.read_csv(path, infer_schema=False)
    facts, uscc = "违法事实", "行政相对人代码_1(统一社会信用代码)"
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(f"当事人ID{IDS[0]}x已核实"))  # glued to letters
        .when(pl.int_range(pl.len()) == 1).then(pl.lit("身份证" + IDS[1].translate(FULL)))  # full-width digits
        .when(pl.int_range(pl.len()) == 2).then(pl.lit(json.dumps({"备注": f"\n{IDS[2]}"})))  # JSON-escaped text
        .otherwise(pl.col(facts)).alias(facts),
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit(IDS[3])).otherwise(pl.col(uscc)).alias(uscc),  # wrong column
        pl.lit("x").alias(f"备注{IDS[4]}"),  # an unknown column whose header holds an ID number
    )
    src.drop_in_inbox(s, UNIT, ITEM, f"张三{IDS[5]}处罚.csv", frame.write_csv().encode())
    src.drop_in_inbox(s, UNIT, IDS[6], "x.csv", f"a,b\n{IDS[6]},1\n".encode())  # outside any item folder
    rec = dict(next(iter(frame.drop(f"备注{IDS[4]}").head(1).iter_rows(named=True))))
    src.enter_online(s, UNIT, ITEM, [{**rec, facts: f"补录{IDS[7]}", "行政处罚决定书文号": "PII-ONLINE-1"}])

    dags = load_dag_module("ingest_units")
    assert run_dag(dags.build(dags.registry().unit(UNIT))).state == "success"
    with psycopg.connect(s.pg_dsn()) as conn:
        batches = conn.execute("select channel, rows, accepted, rejected, batch_error_reason from landing.batches"
                               " where unit_code = %s order by channel", (UNIT,)).fetchall()
    assert [b[0] for b in batches] == ["batch_file", "online_fill"] and all(b[4] is None for b in batches)
    assert batches[0][1] == 40 and batches[0][3] >= 1

    found: list[str] = []
    c = object_store.client(s)
    scanned = 0
    for zone in ZONES:
        if zone == "raw" or not c.bucket_exists(s.bucket(zone)):
            continue
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            scanned += 1
            _hits(f"s3 {zone} key", obj.object_name, found)
            _hits(f"s3 {zone}/{obj.object_name}", _object_text(obj.object_name,
                                                               object_store.get(c, s.bucket(zone), obj.object_name)),
                  found)
    assert scanned >= 4  # staged parts, quarantine records, the feedback workbook
    rows = _scan_postgres(s, found)
    assert rows > 40
    assert _scan_airflow(s, found) > 0
    for p in s.outbox_dir.glob("*.json"):
        _hits(f"outbox {p.name}", p.read_text("utf-8"), found)
    _hits("logs", caplog.text, found)
    assert found == []

    # and the raw zone does hold them: the scanner is not blind
    raw_text = "".join(_object_text(o.object_name, object_store.get(c, s.bucket("raw"), o.object_name))
                       for o in c.list_objects(s.bucket("raw"), recursive=True) if UNIT in o.object_name)
    assert {IDS[0], IDS[3], IDS[6], IDS[7]} <= {raw_text[a:b] for a, b in find_ids(raw_text)}
    # the pulled online-fill entry keeps only the hash and mask of its personal ID numbers
    with psycopg.connect(s.pg_dsn()) as conn:
        [(payload,)] = conn.execute("select payload from online_fill.entries where unit_code = %s", (UNIT,)).fetchall()
    assert "补录2101**********" in payload["违法事实"]
