"""Production deployment files set every variable the code reads."""

from __future__ import annotations

import re

import yaml

from credit_platform.dev.airflow_env import connection_uris
from credit_platform.settings import ENV_VARS, REPO_ROOT, Settings

INFRA = REPO_ROOT / "infra"


def _code_reads() -> set[str]:
    names = set(ENV_VARS)
    names |= set(connection_uris(Settings.from_env()))  # AIRFLOW_CONN_* the tasks resolve
    profiles = (REPO_ROOT / "dbt_project" / "profiles.yml").read_text()
    names |= set(re.findall(r"env_var\('([A-Z0-9_]+)'", profiles))
    return names


def test_compose_sets_every_variable_the_code_reads():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    platform_env = compose["x-platform-env"]
    missing = sorted(_code_reads() - set(platform_env))
    assert not missing, f"infra/compose.yaml x-platform-env lacks {missing}"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker"):
        env = compose["services"][name]["environment"]
        assert set(platform_env) <= set(env), f"{name} does not get the platform environment"
        assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) > 0


def test_compose_has_the_production_parts():
    services = yaml.safe_load((INFRA / "compose.yaml").read_text())["services"]
    for name in ("postgres", "redis", "minio", "minio-init", "mailpit", "airflow-worker"):
        assert name in services
    init = "\n".join(services["minio-init"]["command"])
    assert "--with-lock local/raw" in init
    for zone in ("inbox", "staged", "quarantine", "feedback", "reports"):
        assert zone in init


def test_helm_values_set_every_variable_the_code_reads():
    values = yaml.safe_load((INFRA / "helm" / "values.yaml").read_text())
    names = {e["name"] for e in values["env"]} | {e["envName"] for e in values["secret"]}
    missing = sorted(_code_reads() - names)
    assert not missing, f"infra/helm/values.yaml lacks {missing}"


def test_compose_postgres_includes_the_warehouse_settings():
    postgres = yaml.safe_load((INFRA / "compose.yaml").read_text())["services"]["postgres"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in postgres["volumes"]}
    assert mounts["./postgres/warehouse.conf"] == "/etc/postgresql/warehouse.conf"
    init = (INFRA / "postgres" / "init-databases.sh").read_text()
    assert "include '/etc/postgresql/warehouse.conf'" in init
    # the host is shared with Airflow and MinIO: shared_buffers below the dedicated server's, overridable
    assert postgres["command"] == ["postgres", "-c", "shared_buffers=${CP_PG_SHARED_BUFFERS:-4GB}"]
