"""Session runtime for the suite: real PostgreSQL and S3 on 127.0.0.1, a migrated Airflow metadata DB.

Services are shared with `make demo` (same CP_HOME, reused when healthy); tests write to their own
database and buckets so demo data and test data never mix.
"""

from __future__ import annotations

import os

os.environ.setdefault("CP_PG_DATABASE", "credit_test")
os.environ.setdefault("CP_S3_BUCKET_PREFIX", "test-")

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


def run_dag(dag, logical_date):
    """`dag.test()` after registering the DAG in the metadata DB (required since Airflow 3.1)."""
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.merge(DagBundleModel(name="tests"))
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, bundle_name="tests", bundle_version=None)
    return dag.test(logical_date=logical_date)
