"""The engineer-facing CLI commands and the notice channel."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from credit_platform.notify import notices

CLI = str(Path(sys.executable).parent / "credit-platform")


def test_services_status_shows_both_services(settings):
    out = subprocess.run([CLI, "services", "status"], capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "running" in lines["postgres"] and f"{settings.pg_host}:{settings.pg_port}" in lines["postgres"]
    assert "running" in lines["s3"] and settings.s3_endpoint in lines["s3"]


def test_airflow_env_exports_home_connections_and_a_long_jwt_secret(settings):
    out = subprocess.run([CLI, "airflow", "env"], capture_output=True, text=True, check=True).stdout
    exports = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in out.splitlines())
    assert exports["AIRFLOW_HOME"] == str(settings.airflow_home)
    assert exports["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert exports["AIRFLOW_CONN_CREDIT_WAREHOUSE"] == (
        f"postgres://{settings.pg_user}:{settings.pg_password}@{settings.pg_host}:{settings.pg_port}/"
        f"{settings.pg_database}")
    assert len(exports["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64


def test_a_notice_lands_in_the_outbox_with_its_recipient(settings):
    before = set(settings.outbox_dir.glob("*.json")) if settings.outbox_dir.exists() else set()
    assert notices.send(settings, "【测试】标题", "正文：请于3个工作日内整改。", recipient="ln_amr") is True
    [new] = sorted(set(settings.outbox_dir.glob("*.json")) - before)
    msg = json.loads(new.read_text(encoding="utf-8"))
    assert (msg["recipient"], msg["title"]) == ("ln_amr", "【测试】标题") and "整改" in msg["body"]


def test_an_unknown_notice_url_is_an_error_not_a_silent_drop(settings):
    with pytest.raises(ValueError, match="not understood"):
        notices.send(settings, "t", "b", recipient="x", urls=["nosuchscheme://host"])
