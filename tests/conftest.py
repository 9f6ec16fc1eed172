"""Session runtime for the suite: real PostgreSQL and S3 on 127.0.0.1, a migrated Airflow metadata DB.

Services are shared with `make demo` (same CP_HOME, reused when healthy); tests write to their own
database and buckets so demo data and test data never mix.
"""

from __future__ import annotations

import os

os.environ.setdefault("CP_PG_DATABASE", "credit_test")
os.environ.setdefault("CP_S3_BUCKET_PREFIX", "test-")
os.environ.setdefault("CP_FRONTEND_DATABASE", "credit_frontend_test")
os.environ.setdefault("CP_SOURCE_API_BASE", "http://127.0.0.1:58091")

import pytest

from credit_platform.dev import airflow_env, services
from credit_platform.settings import Settings

SETTINGS = Settings.from_env()
airflow_env.apply(SETTINGS)  # before anything imports airflow


@pytest.fixture(scope="session")
def settings() -> Settings:
    services.up(SETTINGS)
    return SETTINGS


@pytest.fixture(scope="session")
def airflow_db(settings: Settings) -> Settings:
    airflow_env.migrate(settings)
    return settings


from credit_platform.dev.dag_runner import load_dag_module, run_dag  # noqa: E402, F401  (re-exported for tests)
