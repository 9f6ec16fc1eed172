"""Run a DAG in this process with `dag.test()` (demo and tests): register it in the metadata DB first,
which Airflow 3.1+ requires before `dag.test()` creates a run."""

from __future__ import annotations

import os


def run_dag(dag, logical_date=None):
    import logging

    import pendulum
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.merge(DagBundleModel(name="in-process"))
    # the ad-hoc bundle is not in the config, which Airflow reports on every run: expected here
    logging.getLogger("airflow.dag_processing.bundles.manager").setLevel(logging.ERROR)
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, bundle_name="in-process", bundle_version=None)
    return dag.test(logical_date=logical_date or pendulum.now("UTC"))


def load_dag_module(name: str):
    import importlib.util

    from credit_platform.settings import REPO_ROOT

    spec = importlib.util.spec_from_file_location(f"dag_{name}", REPO_ROOT / "dags" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
