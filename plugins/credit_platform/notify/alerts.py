"""Alerts to the platform engineers (CP_ALERT_URLS): task failures and targets that stay undeliverable.
Sent through the delivery log like every message (kind "alert"), so a failed alert is retried and visible."""

from __future__ import annotations

from datetime import datetime

from credit_platform.notify import delivery, render, url_secrets
from credit_platform.notify.delivery import DeliveryResult, Notice
from credit_platform.settings import Settings

PLATFORM = "platform-ops"


def alert_targets(s: Settings) -> tuple[str, ...]:
    return tuple(url_secrets.resolve(u) for u in (s.alert_urls or s.notify_urls)) or (f"outbox://{PLATFORM}",)


def task_failed(s: Settings, dag_id: str, task_id: str, run_id: str, try_number: int, error: str,
                log_url: str = "", now: datetime | None = None) -> DeliveryResult:
    from credit_platform.standards.pii import redact_ids

    title, body = render.render("alerts/task_failed.j2", dag_id=dag_id, task_id=task_id, run_id=run_id,
                                try_number=try_number, error=redact_ids(error)[:2000], log_url=log_url or "-")
    return delivery.deliver(s, Notice(f"alert:{dag_id}:{run_id}:{task_id}:{try_number}", "alert", PLATFORM, title,
                                      body, alert_targets(s), (), {"dag": dag_id, "task": task_id, "run": run_id}),
                            now=now)


def undeliverable(s: Settings, after_attempts: int, now: datetime | None = None) -> list[DeliveryResult]:
    """Every message that failed `after_attempts` times tells the engineers, once per message."""
    import psycopg

    with psycopg.connect(s.pg_dsn()) as conn:
        if conn.execute("select to_regclass('ops.notices')").fetchone()[0] is None:
            return []
        rows = conn.execute(
            "select key, recipient, channel, attempts, last_error, targets_masked from ops.notices"
            " where status = 'failed' and kind <> 'alert' and attempts >= %s order by key",
            (after_attempts,)).fetchall()
    out = []
    for key, recipient, channel, attempts, error, masked in rows:
        title, body = render.render("alerts/undeliverable.j2", key=key, recipient=recipient, channel=channel,
                                    attempts=attempts, error=error or "", targets=masked)
        out.append(delivery.deliver(s, Notice(f"alert:undeliverable:{key}", "alert", PLATFORM, title, body,
                                              alert_targets(s), (), {"notice": key, "attempts": attempts}), now=now))
    return out
