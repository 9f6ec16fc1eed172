"""Settings as seen from inside an Airflow task: endpoints and secrets come from Airflow connections.

Outside Airflow (CLI, tests of pure functions) the CP_* environment is used directly. Outside the local runtime
(CP_RUNTIME) a task refuses to start with a missing or demo secret (`Settings.require_secrets`).
"""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlparse

from credit_platform.settings import Settings, SettingsError

log = logging.getLogger(__name__)

# Airflow connection ids the tasks resolve (set by infra/ in production, by dev.airflow_env locally)
WAREHOUSE_CONN_ID = "credit_warehouse"
OBJECT_STORE_CONN_ID = "credit_object_store"


def task_settings() -> Settings:
    s = Settings.from_env()
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return s.require_secrets()
    changes: dict = {}
    try:
        pg = BaseHook.get_connection(WAREHOUSE_CONN_ID)
        changes.update(pg_host=pg.host, pg_port=int(pg.port or 5432), pg_user=pg.login,
                       pg_password=pg.password or "", pg_database=pg.schema or s.pg_database)
    except Exception as err:  # noqa: BLE001  - an absent connection falls back to the CP_* environment
        log.warning("connection %s not usable (%s); using CP_PG_* settings", WAREHOUSE_CONN_ID, type(err).__name__)
    try:
        s3 = BaseHook.get_connection(OBJECT_STORE_CONN_ID)
        extra = s3.extra_dejson
        endpoint = urlparse(extra.get("endpoint_url", ""))
        if endpoint.netloc:
            changes.update(s3_endpoint=endpoint.netloc, s3_secure=endpoint.scheme == "https")
        changes.update(s3_access_key=s3.login, s3_secret_key=s3.password or "",
                       s3_region=extra.get("region_name", s.s3_region))
    except Exception as err:  # noqa: BLE001
        log.warning("connection %s not usable (%s); using CP_S3_* settings", OBJECT_STORE_CONN_ID, type(err).__name__)
    try:
        return dataclasses.replace(s, **changes).require_secrets()
    except SettingsError as err:
        # a missing secret stays missing on the next try: fail now instead of retrying for minutes
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(err)) from err
