"""The environment the local Airflow runs with: home, metadata DB (its own database in the embedded
PostgreSQL), executor, connections, secrets, time zone, logging.

Production sets the same AIRFLOW_* / AIRFLOW_CONN_* names in infra/ (compose or Helm values).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from credit_platform.orchestration.runtime import OBJECT_STORE_CONN_ID, WAREHOUSE_CONN_ID
from credit_platform.settings import LOCAL_ONLY_ENV_VARS, REPO_ROOT, Settings

TIMEZONE = "Asia/Shanghai"
# 2 cores: two task processes at a time (a load and a dbt build, or two loads) plus the four services.
PARALLELISM = max(2, min(8, os.cpu_count() or 2))


def api_port() -> int:
    """Read at call time: a test may start a second Airflow on its own port."""
    return int(os.environ.get("CP_AIRFLOW_PORT") or LOCAL_ONLY_ENV_VARS["CP_AIRFLOW_PORT"][0])


def airflow_database(s: Settings) -> str:
    """Airflow's metadata lives in its own database next to the warehouse (the tests' next to theirs)."""
    return f"{s.pg_database}_airflow"


def _jwt_secret(home: Path) -> str:
    # Generated once per machine and kept under CP_HOME: Airflow 3 signs task tokens with it (≥ 64 bytes).
    path = home / "jwt_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(64))
        path.chmod(0o600)
    return path.read_text().strip()


def connection_uris(s: Settings) -> dict[str, str]:
    scheme = "https" if s.s3_secure else "http"
    endpoint = quote(f"{scheme}://{s.s3_endpoint}", safe="")
    return {
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": (
            f"postgres://{quote(s.pg_user, safe='')}:{quote(s.pg_password, safe='')}"
            f"@{s.pg_host}:{s.pg_port}/{s.pg_database}"
        ),
        f"AIRFLOW_CONN_{OBJECT_STORE_CONN_ID.upper()}": (
            f"aws://{quote(s.s3_access_key, safe='')}:{quote(s.s3_secret_key, safe='')}@"
            f"?endpoint_url={endpoint}&region_name={s.s3_region}"
        ),
    }


def settings_environ(s: Settings) -> dict[str, str]:
    """The CP_* variables that reproduce `s` in a child process (tasks read them through Settings.from_env)."""
    return {
        "CP_RUNTIME": s.runtime, "CP_HOME": str(s.home), "CP_PG_HOST": s.pg_host, "CP_PG_PORT": str(s.pg_port),
        "CP_PG_USER": s.pg_user,
        "CP_PG_PASSWORD": s.pg_password, "CP_PG_DATABASE": s.pg_database,
        "CP_FRONTEND_DATABASE": s.frontend_database, "CP_SOURCE_API_BASE": s.source_api_base,
        "CP_S3_ENDPOINT": s.s3_endpoint, "CP_S3_ACCESS_KEY": s.s3_access_key, "CP_S3_SECRET_KEY": s.s3_secret_key,
        "CP_S3_SECURE": "true" if s.s3_secure else "false", "CP_S3_REGION": s.s3_region,
        "CP_S3_BUCKET_PREFIX": s.bucket_prefix, "CP_ID_HASH_KEY": s.id_hash_key,
        "CP_NOTIFY_URLS": " ".join(s.notify_urls),
    }


def metadata_url(s: Settings) -> str:
    return (f"postgresql+psycopg2://{quote(s.pg_user, safe='')}:{quote(s.pg_password, safe='')}"
            f"@{s.pg_host}:{s.pg_port}/{airflow_database(s)}")


def airflow_environ(s: Settings, log_level: str = "INFO") -> dict[str, str]:
    """The services and `airflow dags test` log at INFO (a task's log says what it did: the platform's lines
    are stdlib logging, which Airflow's handler filters at this level, so it cannot be raised per namespace);
    the demo and the tests run DAGs in their own process at WARNING (apply)."""
    home = s.airflow_home
    (home / "plugins").mkdir(parents=True, exist_ok=True)
    port = api_port()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        # An empty plugins folder: credit_platform is an installed package. Pointing Airflow at plugins/ made
        # its plugin manager import every module a second time under another name (apprise then warned that
        # the outbox schema was registered twice).
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        # New DAGs run on their schedule from the first start (catchup is off and the timetables never run a
        # past interval: orchestration.defaults); pause one in the UI and it stays paused.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(s),
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
        "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
        **settings_environ(s),
    }
    env.update(connection_uris(s))
    return env


def apply(s: Settings) -> None:
    """Put the Airflow environment into this process (before `airflow` is imported), for DAG runs with
    `dag.test()` here: at WARNING, the caller prints what matters."""
    os.environ.update(airflow_environ(s, log_level="WARNING"))


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def ensure_database(s: Settings) -> None:
    import psycopg
    from psycopg import sql

    from credit_platform.dev import services

    try:
        psycopg.connect(s.pg_dsn(airflow_database(s))).close()
        return
    except psycopg.OperationalError:
        pass  # not there yet: the superuser creates it
    with services.pg_superuser_conn(s) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (airflow_database(s),)).fetchone():
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(airflow_database(s)), sql.Identifier(s.pg_user)))


def _migrated_version(s: Settings) -> str | None:
    import psycopg

    try:
        with psycopg.connect(s.pg_dsn(airflow_database(s))) as conn:
            row = conn.execute("select value from airflow_version_marker").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def migrate(s: Settings) -> None:
    """`airflow db migrate` once per Airflow version; the version migrated is recorded in the metadata DB
    itself, so a fresh database (or a wiped one) is migrated again."""
    # the version from package metadata: `import airflow` here would configure it before apply()
    from importlib.metadata import version

    import psycopg

    ensure_database(s)
    wanted = version("apache-airflow")
    if _migrated_version(s) == wanted:
        return
    env = {**os.environ, **airflow_environ(s)}
    proc = subprocess.run([airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{proc.stderr[-3000:]}")
    with psycopg.connect(s.pg_dsn(airflow_database(s))) as conn:
        conn.execute("create table if not exists airflow_version_marker (value text not null)")
        conn.execute("delete from airflow_version_marker")
        conn.execute("insert into airflow_version_marker values (%s)", (wanted,))


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    label: str  # the mapped task's rendered label (map_index_template), or its index, or ""
    state: str | None
    seconds: float


@dataclass(frozen=True)
class RunResult:
    run_id: str
    state: str
    tasks: list[TaskResult]


def last_run(s: Settings, dag_id: str) -> RunResult | None:
    """The newest run of a DAG in the local metadata DB with its tasks (`airflow dags test` exits 0 either way)."""
    import psycopg

    with psycopg.connect(s.pg_dsn(airflow_database(s))) as conn:
        run = conn.execute("select run_id, state from dag_run where dag_id = %s order by id desc limit 1",
                           (dag_id,)).fetchone()
        if run is None:
            return None
        rows = conn.execute(
            "select task_id, map_index, rendered_map_index, state,"
            " coalesce(extract(epoch from end_date - start_date), 0) from task_instance"
            " where dag_id = %s and run_id = %s order by start_date nulls last, task_id, map_index",
            (dag_id, run[0])).fetchall()
    tasks = [TaskResult(t, rendered or (str(mi) if mi >= 0 else ""), state, float(sec))
             for t, mi, rendered, state, sec in rows]
    return RunResult(run[0], run[1], tasks)


def last_run_state(s: Settings, dag_id: str) -> str | None:
    run = last_run(s, dag_id)
    return run.state if run else None
