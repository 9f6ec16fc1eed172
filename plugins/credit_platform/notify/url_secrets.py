"""Secrets in notice URLs (bot tokens, SMS gateway keys) never live in the repo: a registry URL names them as
`${NAME}` and they are filled in at send time from the environment variable NAME or, inside Airflow, from the
password of the Airflow connection `name` (lower case), e.g. `dingtalk://${LN_AMR_DINGTALK_TOKEN}/`."""

from __future__ import annotations

import os
import re

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class MissingSecret(ValueError):
    pass


def _lookup(name: str) -> str | None:
    if os.environ.get(name):
        return os.environ[name]
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(name.lower()).password or None
    except Exception:  # noqa: BLE001  - no such connection
        return None


def resolve(url: str) -> str:
    def fill(m: re.Match) -> str:
        value = _lookup(m.group(1))
        if value is None:
            raise MissingSecret(f"secret {m.group(1)} of a notice URL ({url.split(':', 1)[0]}://…) is not set:"
                                f" set the environment variable {m.group(1)} or the Airflow connection"
                                f" {m.group(1).lower()} (its password)")
        return value

    return PLACEHOLDER.sub(fill, url)
