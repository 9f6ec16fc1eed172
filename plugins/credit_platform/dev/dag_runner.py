"""Run a DAG in this process with `dag.test()` (demo and tests): register it in the metadata DB first,
which Airflow 3.1+ requires before `dag.test()` creates a run."""

from __future__ import annotations

import os

BUNDLE = "dags-folder"


def run_dag(dag, logical_date=None):
    import pendulum
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    # the default bundle of the dags folder: a name Airflow's config knows, so it is not disabled as unknown
    with create_session() as session:
        session.merge(DagBundleModel(name=BUNDLE))
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, bundle_name=BUNDLE, bundle_version=None)
    return dag.test(logical_date=logical_date or pendulum.now("UTC"))


def load_dag_module(name: str):
    import importlib.util

    from credit_platform.settings import REPO_ROOT

    spec = importlib.util.spec_from_file_location(f"dag_{name}", REPO_ROOT / "dags" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
