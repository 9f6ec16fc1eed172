"""The environment the local Airflow runs with: home, folders, SQLite metadata DB, connections, secrets.

Production sets the same AIRFLOW_* / AIRFLOW_CONN_* names in infra/ (compose or Helm values).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from credit_platform.orchestration.runtime import OBJECT_STORE_CONN_ID, WAREHOUSE_CONN_ID
from credit_platform.settings import LOCAL_ONLY_ENV_VARS, REPO_ROOT, Settings

API_PORT = int(os.environ.get("CP_AIRFLOW_PORT") or LOCAL_ONLY_ENV_VARS["CP_AIRFLOW_PORT"][0])


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


def airflow_environ(s: Settings) -> dict[str, str]:
    home = s.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(API_PORT),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{API_PORT}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
        "CP_HOME": str(s.home),
    }
    env.update(connection_uris(s))
    return env


def apply(s: Settings) -> None:
    """Put the Airflow environment into this process (before `airflow` is imported)."""
    os.environ.update(airflow_environ(s))


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def migrate(s: Settings) -> None:
    """`airflow db migrate` once; a marker keyed on the Airflow version skips it on later runs."""
    # the version from package metadata: `import airflow` here would configure it before apply()
    from importlib.metadata import version

    marker = s.airflow_home / f".migrated-{version('apache-airflow')}"
    if marker.exists():
        return
    env = {**os.environ, **airflow_environ(s)}
    proc = subprocess.run([airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{proc.stderr[-3000:]}")
    marker.write_text("ok\n")


def last_run_state(s: Settings, dag_id: str) -> str | None:
    """State of the newest run of a DAG in the local metadata DB (`airflow dags test` exits 0 either way)."""
    import sqlite3

    with sqlite3.connect(s.airflow_home / "airflow.db") as conn:
        row = conn.execute("select state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)).fetchone()
    return row[0] if row else None
