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

from credit_platform import airflow_env, services
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


def load_dag_module(name: str):
    import importlib.util

    from credit_platform.settings import REPO_ROOT

    spec = importlib.util.spec_from_file_location(f"dag_{name}", REPO_ROOT / "dags" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_dag(dag, logical_date=None):
    """`dag.test()` after registering the DAG in the metadata DB (required since Airflow 3.1)."""
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.merge(DagBundleModel(name="tests"))
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, bundle_name="tests", bundle_version=None)
    if logical_date is None:
        import pendulum

        logical_date = pendulum.now("UTC")
    return dag.test(logical_date=logical_date)
