"""The platform as services (`make up`): a real scheduler, DAG processor, triggerer and API server on their own
metadata database; a file dropped in a unit's inbox, the unit's DAG triggered through the REST API (v2, JWT),
and the warehouse build run by the scheduler because of the landing Asset event, not by the test."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import quote

import psutil
import psycopg
import pytest

from credit_platform import clock
from credit_platform.catalog.registry import registry
from credit_platform.dev import airflow_env, services
from credit_platform.dev.generator import GenSpec, write_csv
from credit_platform.dev.simulated_sources import drop_in_inbox
from credit_platform.ingest import landing_load

UNIT, ITEM = "ln_hurd", "administrative_penalty"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """Airflow's public REST API v2 with a JWT from the simple auth manager (all admins locally)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{self.base}/auth/token", timeout=30) as resp:
            self.token = json.load(resp)["access_token"]

    def call(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(f"{self.base}/api/v2{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {self.token}",
                                              "Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)


def _wait(what: str, check, timeout: float, every: float = 3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


@pytest.fixture(scope="module")
def platform(settings, tmp_path_factory):
    """Its own database, buckets, source API port, Airflow port and home: nothing shared with the suite's
    dag.test() runs or with a `make up` of the developer."""
    s = dataclasses.replace(settings, pg_database="credit_e2e", frontend_database="credit_frontend_e2e",
                            bucket_prefix="e2e-", source_api_base=f"http://127.0.0.1:{_free_port()}")
    services.pg_ensure_role_and_db(s)  # the superuser over the suite's PostgreSQL socket (under its CP_HOME)
    with services.pg_superuser_conn(s) as conn:  # a first start: a new metadata database every time
        conn.execute(f"drop database if exists {airflow_env.airflow_database(s)} with (force)")
    airflow_env.ensure_database(s)
    services.ensure_buckets(s)
    landing_load.ensure_schema(s)
    s = dataclasses.replace(s, home=tmp_path_factory.mktemp("cp_home"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CP_AIRFLOW_PORT", str(_free_port()))
        try:
            started = [services.source_api_up(s), *services.airflow_up(s)]
            yield s, started, Api(airflow_env.api_port())
        finally:
            names = [*services.AIRFLOW_SERVICES, services.source_api_name(s)]
            pids = {st.name: st.pid for st in services.platform_status(s) if st.pid}
            stopped = services.stop_processes(s, names)
            assert sorted(stopped) == sorted(f"{n} (pid {p})" for n, p in pids.items())
            left = {n: p for n, p in pids.items() if psutil.pid_exists(p)
                    and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}
            assert not left, f"still running after down: {left}"


def _listening(pid: int) -> set[str]:
    proc = psutil.Process(pid)
    addrs: set[str] = set()
    for p in [proc, *proc.children(recursive=True)]:
        try:
            addrs |= {c.laddr.ip for c in p.net_connections(kind="inet") if c.status == "LISTEN"}
        except psutil.NoSuchProcess:
            continue  # a task process may end between listing the children and reading its sockets
    return addrs


def _inbox_file(s, tmp_path) -> tuple[str, int]:
    unit = registry().unit(UNIT)
    path = tmp_path / "upload.csv"
    n = write_csv(GenSpec(ITEM, 15, seed=int(time.time()), defect_rate=0.0, received_on=clock.today(),
                          unit_name=unit.name_zh, unit_uscc=unit.uscc, region="210100",
                          seq_prefix=f"E{int(time.time()) % 100000}"), path)
    return drop_in_inbox(s, UNIT, ITEM, f"e2e-{time.time_ns()}.csv", path.read_bytes()), n


def test_a_dropped_file_runs_through_ingest_and_the_asset_triggered_warehouse_build(platform, tmp_path):
    s, started, api = platform
    first_start = quote(datetime.now(UTC).isoformat())
    assert all(st.running for st in started), started

    # every process binds 127.0.0.1 only (the log servers are not started: README, "Run it as services")
    for st in started:
        addrs = _listening(st.pid)
        assert addrs <= {"127.0.0.1"}, f"{st.name} listens on {addrs}"
    assert _listening(next(st.pid for st in started if st.name == "airflow-api-server")) == {"127.0.0.1"}

    dag = _wait("the DAG processor parsed the unit's DAG", lambda: api.call("GET", f"/dags/ingest__{UNIT}"), 240)
    assert dag["is_paused"] is False, "DAGs are unpaused on first start"
    # (every DAG's timetable: a daily 09:00 one first started at 09:30 would otherwise run 09:00's at once)
    assert api.call("GET", f"/dags/~/dagRuns?logical_date_lte={first_start}")["total_entries"] == 0, \
        "a first start runs no past interval (catchup off, no start_date, run_immediately=timedelta(0))"

    key, rows = _inbox_file(s, tmp_path)
    run = api.call("POST", f"/dags/ingest__{UNIT}/dagRuns", {"logical_date": None})
    run_id = run["dag_run_id"]
    done = _wait("the ingest run finished",
                 lambda: (r := api.call("GET", f"/dags/ingest__{UNIT}/dagRuns/{run_id}"))["state"]
                 in ("success", "failed") and r, 300)
    assert done["state"] == "success"

    # the mapped load is labelled with item and batch, and its log says what it loaded at INFO
    loads = api.call("GET", f"/dags/ingest__{UNIT}/dagRuns/{run_id}/taskInstances/load/listMapped")
    labels = [ti["rendered_map_index"] for ti in loads["task_instances"]]
    ours = [ti for ti in loads["task_instances"] if ti["rendered_map_index"].startswith(f"{ITEM} · ")]
    assert len(ours) == 1, labels
    batch_id = ours[0]["rendered_map_index"].split(" · ")[1]
    log = api.call("GET", f"/dags/ingest__{UNIT}/dagRuns/{run_id}/taskInstances/load/logs/1"
                          f"?map_index={ours[0]['map_index']}&full_content=true")
    text = json.dumps(log, ensure_ascii=False)
    assert f"load batch={batch_id} item={ITEM} rows={rows} accepted={rows} rejected=0 status=loaded" in text

    # one Asset event, for the loaded item only
    events = api.call("GET", f"/assets/events?source_dag_id=ingest__{UNIT}&source_run_id={quote(run_id)}")
    assert [e["uri"] for e in events["asset_events"]] == [f"credit://landing/{ITEM}"], events
    assert events["asset_events"][0]["extra"]["batch"] == batch_id

    # the scheduler runs the warehouse build because of that event
    def built():
        runs = api.call("GET", "/dags/warehouse_build/dagRuns")["dag_runs"]
        return next((r for r in runs if r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")),
                    None)
    wh = _wait("warehouse_build ran, triggered by the Asset event", built, 600, every=5)
    assert wh["state"] == "success", wh
    # minutes later still no run of a tick before the services started (a tick during the test may run)
    past = api.call("GET", f"/dags/~/dagRuns?run_type=scheduled&logical_date_lte={first_start}")
    assert past["total_entries"] == 0, past["dag_runs"][:3]
    with psycopg.connect(s.pg_dsn()) as conn:
        loaded = conn.execute(f"select count(*) from landing.{ITEM} where batch_id = %s", (batch_id,)).fetchone()[0]
    assert loaded == rows
    assert key.startswith(f"{UNIT}/{ITEM}/")
