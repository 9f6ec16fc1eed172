"""Session runtime for the suite: real PostgreSQL and S3 on 127.0.0.1, a migrated Airflow metadata DB.

Services are shared with `make demo` (same CP_HOME, reused when healthy); tests write to their own
database and buckets so demo data and test data never mix. Importing this module changes nothing: the test
environment is put in place by `pytest_configure` (before collection imports airflow) and taken back after.
"""

from __future__ import annotations

import os

import pytest

from credit_platform.settings import Settings

# the suite's own database, buckets and source stand-ins; a value already in the environment wins
TEST_ENV = {
    "CP_PG_DATABASE": "credit_test",
    "CP_S3_BUCKET_PREFIX": "test-",
    "CP_FRONTEND_DATABASE": "credit_frontend_test",
    "CP_SOURCE_API_BASE": "http://127.0.0.1:58091",
}
_saved_environ: dict[str, str] | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _saved_environ
    from credit_platform.dev import airflow_env

    _saved_environ = dict(os.environ)
    for name, value in TEST_ENV.items():
        os.environ.setdefault(name, value)
    airflow_env.apply(Settings.from_env())  # before any test module imports airflow


def pytest_unconfigure(config: pytest.Config) -> None:
    if _saved_environ is not None:
        os.environ.clear()
        os.environ.update(_saved_environ)


@pytest.fixture(scope="session")
def settings() -> Settings:
    from credit_platform.dev import services

    s = Settings.from_env()
    services.up(s)
    return s


@pytest.fixture(scope="session")
def airflow_db(settings: Settings) -> Settings:
    from credit_platform.dev import airflow_env

    airflow_env.migrate(settings)
    return settings


# --- the ingest test modules (tests/test_ingest_*.py): each starts from an empty landing schema and zones ---


@pytest.fixture(scope="module")
def env(airflow_db: Settings):
    import psycopg

    from credit_platform import object_store
    from credit_platform.dev import simulated_sources
    from credit_platform.ingest import landing_load

    s = airflow_db
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        conn.execute("drop schema if exists online_fill cascade")
    with psycopg.connect(s.pg_dsn(s.frontend_database), autocommit=True) as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname like 'fe\\_%' or"
                                      " nspname like 'api\\_%'").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
    c = object_store.client(s)
    for zone in ("inbox", "staged", "quarantine", "feedback"):
        for obj in c.list_objects(s.bucket(zone), recursive=True):
            c.remove_object(s.bucket(zone), obj.object_name)
    landing_load.ensure_schema(s)
    server = simulated_sources.start_api_server(s)
    yield s
    server.shutdown()


@pytest.fixture(scope="module")
def dags() -> dict:
    """Every unit's ingest DAG by id."""
    from credit_platform.dev.dag_runner import load_dag_module

    mod = load_dag_module("ingest_units")
    return {d.dag_id: d for d in (mod.build(u) for u in mod.registry().units.values())}
