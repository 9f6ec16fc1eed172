"""Inside Airflow, tasks take endpoints and secrets from the Airflow connections, not the CP_* variables."""

from __future__ import annotations

from credit_platform.orchestration.runtime import task_settings


def test_task_settings_follow_the_airflow_connections(airflow_db, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_WAREHOUSE", "postgres://etl:s3cret@10.1.2.3:6543/warehouse_prod")
    monkeypatch.setenv("AIRFLOW_CONN_CREDIT_OBJECT_STORE",
                       "aws://AK:SK@?endpoint_url=https%3A%2F%2Fminio.example%3A9000&region_name=cn-north-1")
    s = task_settings()
    assert (s.pg_host, s.pg_port, s.pg_user, s.pg_password, s.pg_database) == (
        "10.1.2.3", 6543, "etl", "s3cret", "warehouse_prod")
    assert (s.s3_endpoint, s.s3_secure, s.s3_access_key, s.s3_secret_key, s.s3_region) == (
        "minio.example:9000", True, "AK", "SK", "cn-north-1")


def test_without_connections_the_environment_is_used(airflow_db, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CREDIT_WAREHOUSE", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_CREDIT_OBJECT_STORE", raising=False)
    s = task_settings()
    assert s.pg_database == airflow_db.pg_database and s.s3_endpoint == airflow_db.s3_endpoint
