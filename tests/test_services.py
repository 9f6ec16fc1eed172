"""Local services: idempotent up, loopback only, clear errors, down stops exactly what it started."""

from __future__ import annotations

import dataclasses
import socket

import psutil
import pytest

from credit_platform.dev import services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_is_idempotent_and_reuses_running_services(settings):
    first = {st.name: st.pid for st in services.status(settings)}
    again = {st.name: st.pid for st in services.up(settings)}
    assert first == again
    assert all(st.running for st in services.status(settings))


def _listening_addresses(pid: int) -> set[str]:
    proc = psutil.Process(pid)
    addrs: set[str] = set()
    for p in [proc, *proc.children(recursive=True)]:
        try:
            conns = p.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue  # a PostgreSQL backend may exit between listing children and reading its sockets
        addrs |= {c.laddr.ip for c in conns if c.status == "LISTEN"}
    return addrs


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_services_listen_on_loopback_only(settings):
    for st in services.status(settings):
        addrs = _listening_addresses(st.pid)
        assert addrs, f"{st.name} listens nowhere"
        assert addrs <= {"127.0.0.1"}, f"{st.name} listens on {addrs}"


def test_a_taken_port_gives_a_clear_message(settings, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        other = dataclasses.replace(settings, home=tmp_path, s3_endpoint=f"127.0.0.1:{port}")
        with pytest.raises(services.ServiceError, match=f"127.0.0.1:{port} is taken.*CP_S3_ENDPOINT"):
            services.s3_up(other)


def test_down_stops_exactly_the_process_it_started(settings, tmp_path):
    other = dataclasses.replace(settings, home=tmp_path, s3_endpoint=f"127.0.0.1:{_free_port()}")
    started = services.s3_up(other)
    assert started.running and started.pid != services.s3_status(settings).pid
    assert services.s3_down(other) is True
    assert _gone(started.pid)
    assert services.s3_status(settings).running, "the suite's own S3 server must survive"
    assert services.s3_down(other) is False


def test_a_taken_postgres_port_gives_a_clear_message(settings, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        other = dataclasses.replace(settings, home=tmp_path, pg_port=port)
        with pytest.raises(services.ServiceError, match=f"127.0.0.1:{port} is taken.*CP_PG_PORT"):
            services.postgres_up(other)


def test_the_local_server_fits_the_memory_settings_to_a_smaller_machine():
    infra = dict(services.server_settings())
    assert infra["shared_buffers"] == "12GB"  # sized for the 24 GiB reference server
    assert dict(services.local_server_settings(ram_bytes=24 * 2**30)) == infra
    small = dict(services.local_server_settings(ram_bytes=8 * 2**30))
    assert small["shared_buffers"] == "4915MB"
    assert services._bytes("12GB") == services._bytes("1572864") == 12 * 2**30  # (no unit: 8 kB pages)
    assert (services._bytes("1.5GB"), services._bytes("1024B"), services._bytes("lots")) == (3 * 2**29, 1024, None)
    assert {k: v for k, v in small.items() if k != "shared_buffers"} == \
        {k: v for k, v in infra.items() if k != "shared_buffers"}


def test_the_local_server_runs_with_the_warehouse_settings_of_infra(settings):
    """infra/postgres/warehouse.conf is the one home of the server settings: the local server gets each one
    (the memory ones fitted to this machine)."""
    expected = services.local_server_settings()
    assert dict(expected).keys() >= {"work_mem", "max_wal_size", "jit"}
    services.postgres_up(settings)
    with services.pg_superuser_conn(settings) as conn:
        for name, value in expected:
            assert conn.execute("select current_setting(%s)", (name,)).fetchone()[0] == value, name
