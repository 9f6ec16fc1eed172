"""Every DAG file imports cleanly, quickly, and carries owner, tags, retries and a doc."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from credit_platform.settings import REPO_ROOT

DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG was found in dags/"


def test_every_dag_is_documented_owned_tagged_and_retried(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md, f"{dag_id} has no doc"
        assert dag.tags, f"{dag_id} has no tags"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id} has no owner"
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_a_first_start_runs_no_past_tick(dagbag):
    """Airflow's cron timetables run the latest past tick on a DAG's first start when it lies within a tenth of
    the period (2.4 h for a daily cron) unless run_immediately says otherwise: an ingest run then would take
    what a unit dropped for the next tick."""
    from datetime import timedelta

    from airflow.timetables.trigger import CronTriggerTimetable, MultipleCronTriggerTimetable

    crons = 0
    for dag_id, dag in dagbag.dags.items():
        tt = dag.timetable
        parts = tt._timetables if isinstance(tt, MultipleCronTriggerTimetable) else [tt]
        for part in parts:
            if isinstance(part, CronTriggerTimetable):
                crons += 1
                assert part._run_immediately == timedelta(0), f"{dag_id}: run_immediately={part._run_immediately!r}"
    assert crons >= 90  # the ingest DAGs, the reminders and the reports


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: Path(p).name)
def test_each_dag_file_parses_under_two_seconds(airflow_db, path):
    from airflow.dag_processing.dagbag import DagBag

    DagBag(dag_folder=str(REPO_ROOT / "dags"))  # warm imports shared by all files
    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path))
    elapsed = time.perf_counter() - started
    assert bag.import_errors == {}
    assert elapsed < 2.0, f"{path.name} took {elapsed:.2f}s to parse"
