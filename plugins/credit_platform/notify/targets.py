"""Whether apprise can send to a URL, and if not why, in apprise's own words: `contracts check` runs it on every
contact of the registry so that a mistyped URL fails when a unit is added, not when its first notice is due."""

from __future__ import annotations

import logging

import apprise

from credit_platform.notify import notices  # noqa: F401  (registers the local outbox:// scheme)
from credit_platform.notify.url_secrets import PLACEHOLDER

# Stands in for a `${NAME}` secret while the URL's shape is checked: the secret itself is only read at send time.
_SAMPLE_SECRET = "0123456789abcdef" * 4


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def url_problem(url: str) -> str | None:
    """None when apprise builds a notifier from `url`; else the reason apprise gives (secrets stay masked)."""
    url = PLACEHOLDER.sub(_SAMPLE_SECRET, url)
    collect = _Collect()
    logger = logging.getLogger("apprise")
    logger.addHandler(collect)
    try:
        ok = apprise.Apprise().add(url)
    finally:
        logger.removeHandler(collect)
    if ok:
        return None
    return "; ".join(dict.fromkeys(collect.messages)) or "apprise cannot parse it"


def masked(url: str) -> str:
    return url.split("://", 1)[0] + "://…" if "://" in url else "…"
