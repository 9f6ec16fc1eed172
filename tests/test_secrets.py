"""No silent secrets: outside the local runtime a task refuses missing or demo secrets, naming the variable; the
local runtime needs no configuration; dbt gets its credentials without the worker's environment."""

from __future__ import annotations

import dataclasses
import os

import pytest

from credit_platform.settings import ENV_VARS, SECRET_VARS, Settings, SettingsError

REAL = {"CP_ID_HASH_KEY": "a-real-key-0123456789", "CP_PG_PASSWORD": "pg-Secret-1", "CP_S3_SECRET_KEY": "s3-Secret-1"}


def test_local_runtime_needs_no_configuration(monkeypatch):
    for name in ("CP_RUNTIME", *SECRET_VARS):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env().require_secrets()
    assert s.runtime == "local" and s.id_hash_key == ENV_VARS["CP_ID_HASH_KEY"][0]


@pytest.mark.parametrize("name", SECRET_VARS)
@pytest.mark.parametrize("value", [None, "demo"])
def test_production_refuses_a_missing_or_demo_secret_naming_it(monkeypatch, name, value):
    monkeypatch.setenv("CP_RUNTIME", "production")
    for other, v in REAL.items():
        monkeypatch.setenv(other, v)
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, ENV_VARS[name][0])
    with pytest.raises(SettingsError, match=name):
        Settings.from_env().require_secrets()


def test_production_with_real_secrets_starts(monkeypatch):
    monkeypatch.setenv("CP_RUNTIME", "production")
    for name, v in REAL.items():
        monkeypatch.setenv(name, v)
    assert Settings.from_env().require_secrets().id_hash_key == REAL["CP_ID_HASH_KEY"]


def test_an_unknown_runtime_is_an_error(monkeypatch):
    monkeypatch.setenv("CP_RUNTIME", "prod")
    with pytest.raises(SettingsError, match="CP_RUNTIME"):
        Settings.from_env()


def test_a_production_task_refuses_the_demo_password_of_its_connection(airflow_db, monkeypatch):
    from credit_platform.orchestration.runtime import task_settings

    monkeypatch.setenv("CP_RUNTIME", "production")
    monkeypatch.setenv("CP_ID_HASH_KEY", REAL["CP_ID_HASH_KEY"])
    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_WAREHOUSE", "postgres://credit:credit-local-only@10.0.0.5:5432/warehouse")
    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_OBJECT_STORE", "aws://AK:s3-Secret-1@?endpoint_url=http%3A%2F%2Fs3%3A9000")
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="CP_PG_PASSWORD") as failed:  # failed, not retried
        task_settings()
    assert isinstance(failed.value.__cause__, SettingsError)
    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_WAREHOUSE", "postgres://credit:pg-Secret-1@10.0.0.5:5432/warehouse")
    assert task_settings().pg_password == "pg-Secret-1"


def test_a_production_dag_task_fails_before_doing_anything(airflow_db, monkeypatch):
    from credit_platform.dev.dag_runner import load_dag_module, run_dag

    monkeypatch.setenv("CP_RUNTIME", "production")  # the local connections carry the demo secrets
    run = run_dag(load_dag_module("warehouse_build").warehouse_build())
    assert run.state == "failed"
    [first] = [ti for ti in run.get_task_instances() if ti.state == "failed"]
    assert first.try_number == 1  # a missing secret is not retried: it would stay missing


def test_dbt_gets_credentials_without_the_process_environment(settings, monkeypatch):
    from credit_platform.warehouse import dbt_build

    for name in [k for k in os.environ if k.startswith(("CP_PG_", "DBT_"))]:
        monkeypatch.delenv(name)  # the settings object alone carries the connection
    before = dict(os.environ)
    out = dbt_build.run(settings, ["show", "--inline", "select 1 as one"])
    assert out.success  # the profile reached the database
    assert dict(os.environ) == before  # nothing written into the worker's environment
    with pytest.raises(RuntimeError, match="password authentication failed"):  # the profile's, not a fallback
        dbt_build.run(dataclasses.replace(settings, pg_password="not-the-password"), ["show", "--inline", "select 1"])
