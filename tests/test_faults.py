"""The fault suite: what a probe did by hand, on the real services (S3 killed on 127.0.0.1, PostgreSQL
backends terminated mid-COPY, S3 down during staging, racing loads, poison batches, half-written objects).

Every case ends with the same checks (`assert_whole`): each ledger row has rows = accepted + rejected, the
landing table holds exactly `accepted` records per batch, no record twice, and the error the unit was told
is a clear one. Kept small (hundreds of rows) so the suite stays within a few minutes in CI.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from credit_platform import clock, object_store
from credit_platform.dev import services
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import load_dag_module, run_dag
from credit_platform.dev.generator import GenSpec, generate_rows, write_csv, write_xlsx
from credit_platform.ingest import channels, landing_load
from credit_platform.ingest.pipeline import LOAD_ATTEMPTS, extract_and_land, ingest_batch

TODAY = clock.today()
ITEM = "administrative_penalty"


@pytest.fixture(scope="module")
def env(airflow_db):
    s = airflow_db
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("drop schema if exists online_fill cascade")
        conn.execute("drop schema if exists ops cascade")
    c = object_store.client(s)
    for zone in ("inbox", "raw", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    landing_load.ensure_schema(s)
    return s


@pytest.fixture(scope="module")
def dags():
    mod = load_dag_module("ingest_units")
    dag = mod.build(mod.registry().unit("ln_nr"))
    for task in dag.tasks:  # the DAG's retries, without the production wait between them
        task.retry_delay = timedelta(seconds=1)
        task.retry_exponential_backoff = False
    return {"ln_nr": dag}


def q(s, sql, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def penalty_csv(tmp_path, rows=200, seed=1, prefix="F", defect_rate=0.1) -> bytes:
    path = tmp_path / f"p{seed}.csv"
    write_csv(GenSpec(ITEM, rows, seed=seed, defect_rate=defect_rate, received_on=TODAY, seq_prefix=prefix), path)
    return path.read_bytes()


def assert_whole(s, unit: str) -> list[tuple]:
    """received = accepted + rejected for every batch, the landing table holds each accepted record once."""
    batches = q(s, "select batch_id, rows, accepted, rejected, batch_error_reason, batch_error_detail"
                   " from landing.batches where unit_code = %s", unit)
    for bid, rows, accepted, rejected, reason, detail in batches:
        assert rows == accepted + rejected, bid
        [(landed,)] = q(s, f"select count(*) from landing.{ITEM} where batch_id = %s", bid)
        assert landed == accepted, bid
        assert not reason or detail, bid  # a batch error always says why
    dups = q(s, f"select natural_key_hash, count(*) from landing.{ITEM} where unit_code = %s"
                " group by 1 having count(*) > 1", unit)
    assert dups == []
    return batches


def inbox(s, unit: str) -> list[str]:
    return [o.object_name for o in object_store.client(s).list_objects(s.bucket("inbox"), prefix=f"{unit}/",
                                                                     recursive=True)]


def ingest_unit(s, unit: str, channel: str = "batch_file") -> list[dict]:
    return [ingest_batch(s, landed) for landed in extract_and_land(s, unit, channel)]


# --- S3 killed mid-upload: the half-written object is never a batch -------------------------------


def _s3_data_dir(s) -> Path:
    return Path(services.s3_status(s).detail)


def test_s3_killed_mid_upload_leaves_no_batch_and_the_reupload_is_ingested_once(env, tmp_path):
    s = env
    unit = "ln_civil"
    data = penalty_csv(tmp_path, rows=3000, seed=11, prefix="S3K")
    key = f"{unit}/{ITEM}/upload.csv"
    bucket_dir = _s3_data_dir(s) / s.bucket("inbox")

    # The minio SDK reads a small body whole (to sign it) before sending, so a slow reader would still reach
    # the server in one burst. A presigned PUT sent by hand streams it: the server has the temp file open
    # and half written when it dies.
    url = urlsplit(object_store.client(s).presigned_put_object(s.bucket("inbox"), key))
    errors: list[BaseException] = []

    def upload():
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            conn.putrequest("PUT", f"{url.path}?{url.query}")
            conn.putheader("Content-Length", str(len(data)))
            conn.endheaders()
            for i in range(0, len(data), 64 << 10):
                conn.send(data[i:i + (64 << 10)])
                time.sleep(0.1)
            conn.getresponse()
        except BaseException as err:  # noqa: BLE001  - the connection dies with the server
            errors.append(err)

    t = threading.Thread(target=upload)
    t.start()
    deadline = time.monotonic() + 30
    while not list(bucket_dir.rglob(".tmp.*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(bucket_dir.rglob(".tmp.*")), "the upload never started"
    os.kill(services.s3_status(s).pid, signal.SIGKILL)  # our own nanio, on 127.0.0.1
    t.join(60)
    services.up(s)
    assert errors, "the upload should have failed with the server"
    listed = inbox(s, unit)
    assert all(channels.is_temp_object(k) for k in listed)  # only the server's leftover, if it lists it
    left_on_disk = list(bucket_dir.rglob(".tmp.*"))

    assert ingest_unit(s, unit) == []  # nothing complete: nothing extracted
    src.drop_in_inbox(s, unit, ITEM, "upload.csv", data)  # the unit uploads again
    [summary] = ingest_unit(s, unit)
    assert summary["rows"] == 3000
    assert ingest_unit(s, unit) == []
    [batch] = assert_whole(s, unit)
    assert batch[1] == 3000
    # the orphan goes with the sweep (min_age 0 here: the upload is known dead)
    removed = channels.sweep_orphans(s, min_age=timedelta(0), prefix=f"{unit}/", zones=("inbox",))
    assert len(removed) == len(listed)
    assert inbox(s, unit) == []
    if listed:  # what the server lists is what it keeps on disk
        assert left_on_disk and not list(bucket_dir.rglob(".tmp.*"))


# --- PostgreSQL backend killed mid-COPY ------------------------------------------------------------


def test_postgres_killed_mid_copy_then_the_retry_loads_exactly_once(env, tmp_path):
    s = env
    unit = "ln_nr"
    src.drop_in_inbox(s, unit, ITEM, "big.csv", penalty_csv(tmp_path, rows=20000, seed=12, prefix="PGK"))
    [landed] = extract_and_land(s, unit, "batch_file")
    killed: list[int] = []

    def killer():
        deadline = time.monotonic() + 60
        with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
            while time.monotonic() < deadline and not killed:
                rows = conn.execute("select pid from pg_stat_activity where query ilike 'copy landing.%%'"
                                    " and pid <> pg_backend_pid()").fetchall()
                for (pid,) in rows:
                    conn.execute("select pg_terminate_backend(%s)", (pid,))
                    killed.append(pid)
                time.sleep(0.002)

    t = threading.Thread(target=killer)
    t.start()
    with pytest.raises(psycopg.OperationalError):
        ingest_batch(s, landed)
    t.join()
    assert killed
    assert q(s, "select count(*) from landing.batches where batch_id = %s", landed["batch"]["batch_id"]) == [(0,)]
    assert inbox(s, unit)  # not confirmed: the file stays for the retry
    summary = ingest_batch(s, landed)  # the task's retry
    assert summary["rows"] == 20000 and summary["load"] == "loaded"
    assert inbox(s, unit) == []
    assert_whole(s, unit)


# --- S3 down while staging -----------------------------------------------------------------------


def test_s3_down_while_staging_fails_the_try_and_the_retry_loads_once(env, tmp_path):
    s = env
    unit = "ln_hurd"
    src.drop_in_inbox(s, unit, ITEM, "s.csv", penalty_csv(tmp_path, rows=300, seed=13, prefix="STG"))
    [landed] = extract_and_land(s, unit, "batch_file")
    services.s3_down(s)
    try:
        with pytest.raises(Exception) as err:
            ingest_batch(s, landed)
        assert "127.0.0.1" in str(err.value) or "Connection" in type(err.value).__name__ or "Max retries" in str(
            err.value)
    finally:
        services.up(s)
    assert q(s, "select count(*) from landing.batches where unit_code = %s", unit) == [(0,)]
    summary = ingest_batch(s, landed)
    assert summary["rows"] == 300
    assert ingest_batch(s, landed)["load"] == "already_loaded"
    assert_whole(s, unit)


class _Failing500Proxy(BaseHTTPRequestHandler):
    """Passes every request through to the S3 server, but answers writes to one bucket with a 500 (a full disk
    or a broken volume behind the object store looks like this to the client)."""

    upstream: tuple[str, int]
    failing_bucket: str
    failed: list[str]

    def log_message(self, *args):  # quiet
        pass

    def _relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "PUT" and self.path.startswith(f"/{self.failing_bucket}/"):
            self.failed.append(self.path)
            err = b"<?xml version='1.0'?><Error><Code>InternalError</Code><Message>disk full</Message></Error>"
            self.send_response(500)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(err)))
            self.end_headers()
            self.wfile.write(err)
            return
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay


def test_s3_answering_500_while_staging_fails_the_try_and_the_retry_loads_once(env, tmp_path):
    s = env
    unit = "ln_stats"
    src.drop_in_inbox(s, unit, ITEM, "f.csv", penalty_csv(tmp_path, rows=300, seed=16, prefix="S500"))
    [landed] = extract_and_land(s, unit, "batch_file")
    handler = type("Proxy", (_Failing500Proxy,), {"upstream": (s.s3_host, s.s3_port),
                                                  "failing_bucket": s.bucket("staged"), "failed": []})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        through_proxy = dataclasses.replace(s, s3_endpoint=f"127.0.0.1:{proxy.server_address[1]}")
        with pytest.raises(Exception, match=r"500|InternalError|disk full"):
            ingest_batch(through_proxy, landed)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert handler.failed  # the staged write was really refused, not something before it
    assert q(s, "select count(*) from landing.batches where unit_code = %s", unit) == [(0,)]
    assert inbox(s, unit)  # not confirmed: the file stays for the retry
    summary = ingest_batch(s, landed)  # the task's retry, the store healthy again
    assert summary["rows"] == 300 and summary["load"] == "loaded"
    assert ingest_batch(s, landed)["load"] == "already_loaded"
    assert_whole(s, unit)


# --- two loads of one batch racing ---------------------------------------------------------------


def test_racing_loads_of_one_batch_load_once_and_send_one_notice(env, tmp_path):
    s = env
    unit = "ln_agri"
    src.drop_in_inbox(s, unit, ITEM, "r.csv", penalty_csv(tmp_path, rows=400, seed=14, prefix="RACE", defect_rate=0.2))
    [landed] = extract_and_land(s, unit, "batch_file")
    results: list = []
    barrier = threading.Barrier(3)
    before = set(s.outbox_dir.glob("*.json"))  # the outbox outlives the test database

    def load():
        barrier.wait()
        results.append(ingest_batch(s, landed))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert sorted(r["load"] for r in results).count("loaded") == 1
    [batch] = assert_whole(s, unit)
    assert batch[3] > 0  # rejected records: a feedback notice is due
    bid = landed["batch"]["batch_id"]
    assert q(s, "select status, attempts from ops.notices where key = %s", f"feedback:{bid}") == [("sent", 1)]
    outbox = [p for p in set(s.outbox_dir.glob(f"*-{unit}-*.json")) - before if bid in p.read_text()]
    assert len(outbox) == 1


# --- poison batches ------------------------------------------------------------------------------


def test_an_xlsx_batch_the_database_keeps_refusing_is_ledgered_after_the_tries(env, tmp_path):
    s = env
    unit = "ln_health"
    path = tmp_path / "x.xlsx"
    write_xlsx(GenSpec(ITEM, 30, seed=19, defect_rate=0.0, received_on=TODAY, seq_prefix="XPOISON"), path)
    src.drop_in_inbox(s, unit, ITEM, "x.xlsx", path.read_bytes())
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"alter table landing.{ITEM} add constraint xpoison check (cf_wsh not like '%%XPOISON%%')")
    try:
        for _ in range(LOAD_ATTEMPTS - 1):
            with pytest.raises(psycopg.errors.CheckViolation):
                ingest_unit(s, unit)
            assert inbox(s, unit)  # not confirmed: retried
        [summary] = ingest_unit(s, unit)
    finally:
        with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"alter table landing.{ITEM} drop constraint xpoison")
    assert (summary["rows"], summary["batch_error_reason"], summary["notice"]["status"]) == (0, "load_failed", "sent")
    assert inbox(s, unit) == []
    assert ingest_unit(s, unit) == []
    assert_whole(s, unit)


def test_a_nul_after_8_kib_rejects_one_record_and_the_file_leaves_the_inbox(env, dags, tmp_path):
    s = env
    unit = "ln_nr"
    data = penalty_csv(tmp_path, rows=100, seed=15, prefix="NUL", defect_rate=0.0)
    lines = data.split(b"\n")
    lines[60] = lines[60].replace("公司".encode(), "公\x00司".encode(), 1)
    assert b"\x00" in lines[60]
    poisoned = b"\n".join(lines)
    assert poisoned.index(b"\x00") > 8192
    src.drop_in_inbox(s, unit, ITEM, "nul.csv", poisoned)
    assert run_dag(dags["ln_nr"]).state == "success"
    assert inbox(s, unit) == []
    rows = q(s, "select b.rows, b.accepted, b.rejected, r.reason, r.message_zh from landing.batches b"
                " join landing.rejections r using (batch_id) where b.source_ref like '%%nul.csv'")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(100, 99, 1, "invalid_character")]
    assert "不可见字符" in rows[0][4]
    assert_whole(s, unit)


def test_a_batch_the_database_keeps_refusing_is_ledgered_quarantined_and_told(env, dags, tmp_path):
    """A value the gates accept but PostgreSQL refuses (here: a check constraint standing for any such value):
    the first tries fail the task, the last ledgers `load_failed`, and the file leaves the inbox."""
    s = env
    unit = "ln_nr"
    data = penalty_csv(tmp_path, rows=50, seed=16, prefix="POISON", defect_rate=0.0)
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"alter table landing.{ITEM} add constraint poison check (cf_wsh not like '%%POISON00000%%7号')")
    try:
        src.drop_in_inbox(s, unit, ITEM, "poison.csv", data)
        state = run_dag(dags["ln_nr"]).state  # dag.test() runs the task's retries itself
    finally:
        with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"alter table landing.{ITEM} drop constraint poison")
    assert state == "success"
    [(bid, rows, acc, rej, reason, detail)] = q(
        s, "select batch_id, rows, accepted, rejected, batch_error_reason, batch_error_detail from landing.batches"
           " where source_ref like '%%poison.csv'")
    assert (rows, acc, rej, reason) == (0, 0, 0, "load_failed") and "CheckViolation" in detail
    assert q(s, "select attempts from landing.load_failures where batch_id = %s", bid) == [(LOAD_ATTEMPTS,)]
    assert inbox(s, unit) == []
    c = object_store.client(s)
    assert any(o.object_name.endswith(f"{bid}.batch_error.json")
               for o in c.list_objects(s.bucket("quarantine"), recursive=True))
    assert q(s, "select status from ops.notices where key = %s", f"feedback:{bid}") == [("sent",)]
    assert_whole(s, unit)


class _PoisonApi(BaseHTTPRequestHandler):
    """A unit's API whose JSON carries `\\u0000` and a lone surrogate `\\ud800` in two records' text."""

    records: list[dict] = []

    def do_GET(self) -> None:
        item = self.path.split("?")[0].strip("/").split("/")[1]
        recs = self.records if item == ITEM else []
        body = json.dumps({"records": recs, "next_page": None}, ensure_ascii=False)
        body = body.replace("NULHERE", "\\u0000").replace("SURROGATE", "\\ud800").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_nul_and_surrogates_in_api_records_are_rejected_and_the_watermark_moves(env):
    unit = "ln_tax"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PoisonApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s = dataclasses.replace(env, source_api_base=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        spec = GenSpec(ITEM, 20, seed=18, defect_rate=0.0, received_on=TODAY, seq_prefix="APIZ",
                       unit_name="国家税务总局辽宁省税务局")
        t0 = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        records = [{**rec, "record_id": f"APIZ-{i}", "updated_at": t0} for i, (rec, _) in
                   enumerate(generate_rows(spec))]
        records[5]["CF_SY"] = "事实NULHERE含空字符"
        records[6]["CF_SY"] = "事实SURROGATE代理项"
        _PoisonApi.records = records
        [summary] = ingest_unit(s, unit, "api")
        assert (summary["rows"], summary["accepted"], summary["rejected"]) == (20, 18, 2), summary
        assert q(s, "select row_no, reason from landing.rejections r join landing.batches b using (batch_id)"
                    " where b.unit_code = %s order by 1", unit) == [(6, "invalid_character"), (7, "invalid_character")]
        [(wm,)] = q(s, "select watermark from landing.extract_watermarks where unit_code = %s and channel = 'api'",
                    unit)
        assert wm == datetime.fromisoformat(t0)
        # the next pull: the poison records are not pulled again, a clean new one is not blocked
        later = {**records[0], "record_id": "APIZ-later", "CF_WSH": "APIZ-later-1",
                 "updated_at": datetime.now(UTC).isoformat()}
        _PoisonApi.records = [*records, later]
        [summary] = ingest_unit(s, unit, "api")
        assert (summary["rows"], summary["accepted"]) == (1, 1)
        assert ingest_unit(s, unit, "api") == []
        assert_whole(s, unit)
    finally:
        server.shutdown()
