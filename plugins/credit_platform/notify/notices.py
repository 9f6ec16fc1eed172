"""Notices through apprise. Locally every message lands as a file in the outbox (CP_HOME/outbox).

The outbox is a custom apprise `@notify` plugin (scheme `outbox://<recipient>`); production replaces it
with mail / DingTalk / WeCom / Feishu URLs in CP_NOTIFY_URLS or per-contact URLs in the registry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import apprise
from apprise.decorators import notify

from credit_platform.settings import Settings


@notify(on="outbox", name="Credit platform local outbox")
def _outbox(body: str, title: str, notify_type: str, meta: dict, *args, **kwargs) -> bool:
    # The folder is not in the URL (apprise parses `outbox:///a/b` with host `a`): it is CP_HOME/outbox.
    # Read from the environment at send time, not module state: Airflow may import this module twice.
    outbox = Settings.from_env().outbox_dir
    recipient = meta.get("host") or "default"
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.sha256(f"{recipient}{title}{body}".encode()).hexdigest()[:10]
    path = outbox / f"{stamp}-{recipient}-{digest}.json"
    # what a mail would carry: the attached files' names (the files stay where the sender put them)
    attached = [a.name or a.path for a in kwargs.get("attach") or []]
    path.write_text(json.dumps({"recipient": recipient, "title": title, "body": body,
                                "type": str(notify_type), "sent_at": stamp, "attachments": attached},
                               ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return True


def send(s: Settings, title: str, body: str, recipient: str, urls: list[str] | None = None) -> bool:
    """Send one notice; returns apprise's verdict (False when no service accepted it)."""
    targets = urls or list(s.notify_urls) or [f"outbox://{recipient}"]
    ap = apprise.Apprise()
    for url in targets:
        if not ap.add(url):
            raise ValueError(f"notice URL not understood by apprise: {url.split(':', 1)[0]}://…")
    return bool(ap.notify(body=body, title=title))
