"""One settings module: every environment variable the platform reads is declared here.

Local runs (`make demo`, `make test`) and production (`infra/`) use the same names; a test checks that
the production compose file sets every one of them (`ENV_VARS`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]

# name -> (default, meaning). Defaults are for the local runtime only.
ENV_VARS: dict[str, tuple[str, str]] = {
    "CP_HOME": (str(REPO_ROOT / ".platform"), "local state: service data, Airflow home, outbox"),
    "CP_PG_HOST": ("127.0.0.1", "warehouse PostgreSQL host"),
    "CP_PG_PORT": ("55432", "warehouse PostgreSQL port"),
    "CP_PG_USER": ("credit", "warehouse PostgreSQL role"),
    "CP_PG_PASSWORD": ("credit-local-only", "warehouse PostgreSQL password"),
    "CP_PG_DATABASE": ("credit_warehouse", "warehouse database"),
    "CP_FRONTEND_DATABASE": ("credit_frontend", "front-end database (前置机) the frontend_db channel pulls from"),
    "CP_SOURCE_API_BASE": ("http://127.0.0.1:58090", "base URL of source units' APIs without an own endpoint"),
    "CP_S3_ENDPOINT": ("127.0.0.1:59000", "S3 endpoint host:port"),
    "CP_S3_ACCESS_KEY": ("credit-local", "S3 access key"),
    "CP_S3_SECRET_KEY": ("credit-local-secret-key", "S3 secret key"),
    "CP_S3_SECURE": ("false", "use https for S3"),
    "CP_S3_REGION": ("us-east-1", "S3 region"),
    "CP_S3_BUCKET_PREFIX": ("", "prefix of the zone buckets (raw, staged, ...)"),
    "CP_ID_HASH_KEY": ("local-demo-key-change-me", "HMAC key for natural persons' ID numbers"),
    "CP_NOTIFY_URLS": ("", "apprise URLs, space separated; empty = the local outbox"),
    "CP_ALERT_URLS": ("", "apprise URLs of the platform engineers (task failures, undeliverable targets); "
                          "empty = CP_NOTIFY_URLS, else the local outbox"),
}
# Read only by the local launcher (airflow_env.py); production runs the chart's own API server.
LOCAL_ONLY_ENV_VARS = {"CP_AIRFLOW_PORT": ("58080", "port of the local Airflow API server / UI")}

# Object-store zones; each is a bucket so that retention and access can differ (object lock on raw).
ZONES = ("inbox", "raw", "staged", "quarantine", "feedback", "reports")


def env(name: str) -> str:
    if name not in ENV_VARS:
        raise KeyError(f"{name} is not a declared setting; add it to ENV_VARS")
    return os.environ.get(name) or ENV_VARS[name][0]


@dataclass(frozen=True)
class Settings:
    home: Path
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    pg_database: str
    frontend_database: str
    source_api_base: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_secure: bool
    s3_region: str
    bucket_prefix: str
    id_hash_key: str
    notify_urls: tuple[str, ...]
    alert_urls: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=Path(env("CP_HOME")).resolve(),
            pg_host=env("CP_PG_HOST"),
            pg_port=int(env("CP_PG_PORT")),
            pg_user=env("CP_PG_USER"),
            pg_password=env("CP_PG_PASSWORD"),
            pg_database=env("CP_PG_DATABASE"),
            frontend_database=env("CP_FRONTEND_DATABASE"),
            source_api_base=env("CP_SOURCE_API_BASE"),
            s3_endpoint=env("CP_S3_ENDPOINT"),
            s3_access_key=env("CP_S3_ACCESS_KEY"),
            s3_secret_key=env("CP_S3_SECRET_KEY"),
            s3_secure=env("CP_S3_SECURE").lower() in {"1", "true", "yes"},
            s3_region=env("CP_S3_REGION"),
            bucket_prefix=env("CP_S3_BUCKET_PREFIX"),
            id_hash_key=env("CP_ID_HASH_KEY"),
            notify_urls=tuple(env("CP_NOTIFY_URLS").split()),
            alert_urls=tuple(env("CP_ALERT_URLS").split()),
        )

    # --- derived locations -------------------------------------------------------------
    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    def bucket(self, zone: str) -> str:
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r}; zones are {ZONES}")
        return f"{self.bucket_prefix}{zone}"

    def pg_dsn(self, database: str | None = None) -> str:
        return (
            f"postgresql://{quote(self.pg_user)}:{quote(self.pg_password, safe='')}"
            f"@{self.pg_host}:{self.pg_port}/{database or self.pg_database}"
        )

    @property
    def s3_host(self) -> str:
        return self.s3_endpoint.rsplit(":", 1)[0]

    @property
    def s3_port(self) -> int:
        return int(self.s3_endpoint.rsplit(":", 1)[1])
