"""One delivery log for every message the platform sends (table `ops.notices`).

`deliver` sends a notice at most once per idempotency key: a key with a `sent` row is never sent again, two
tasks delivering one key at the same moment are serialised by an advisory lock on the key (the second one finds
the first one's `sent` row), and a notice counts as sent only when apprise reports success. A failure is
recorded with its error and retried by a later call — `deliver` with the same key, or `retry_due` — once
`next_attempt_at` (exponential backoff) has passed.

At least once, never silently zero: a process killed between apprise's success and the commit of the `sent` row
sends the notice again on its retry. Target URLs are stored masked (apprise's privacy form: no passwords or
tokens); bodies must not carry clear ID numbers (the callers render masked values only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import apprise
import psycopg
from psycopg.rows import dict_row

from credit_platform.notify import notices  # noqa: F401  (registers the local outbox plugin, outbox://)
from credit_platform.settings import Settings

log = logging.getLogger(__name__)

SCHEMA = "ops"
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=12)
KINDS = ("feedback", "office_summary", "reminder", "escalation", "report", "alert")

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.notices (
    key text primary key,
    kind text not null,
    recipient text not null,
    level text,
    subject_period text,
    targets_masked text[] not null,
    channel text not null,
    title text not null,
    body text not null,
    attachments text[] not null default '{{}}',
    meta jsonb not null default '{{}}',
    status text not null check (status in ('sent', 'failed')),
    attempts integer not null,
    last_error text,
    first_attempt_at timestamptz not null,
    last_attempt_at timestamptz not null,
    sent_at timestamptz,
    next_attempt_at timestamptz,
    check ((status = 'sent') = (sent_at is not null))
);
create index if not exists notices_due on {SCHEMA}.notices (next_attempt_at) where status = 'failed';
"""


@dataclass(frozen=True)
class Notice:
    key: str                 # idempotency key: "feedback:<batch_id>", "reminder:<unit>:<rule>:<period>:<level>", …
    kind: str                # feedback | office_summary | reminder | escalation | report | alert
    recipient: str           # unit code, office code or "platform"
    title: str
    body: str
    targets: tuple[str, ...]  # apprise URLs; empty = the default targets of the recipient (CP_NOTIFY_URLS / outbox)
    attachments: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)  # rule, level, period, batch, counts … (no clear IDs)


@dataclass(frozen=True)
class DeliveryResult:
    key: str
    status: str              # sent | failed
    sent_now: bool           # this call sent it (False: sent earlier, or failed, or waiting for its backoff)
    attempts: int
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None

    @property
    def sent(self) -> bool:
        return self.status == "sent"


def default_targets(s: Settings, recipient: str) -> tuple[str, ...]:
    return tuple(s.notify_urls) or (f"outbox://{recipient}",)


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 5 min, 10, 20, … capped at 12 h."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def ensure_schema(conn: psycopg.Connection) -> None:
    # only when missing: DDL on an existing table would still queue behind its readers
    if conn.execute("select to_regclass(%s)", (f"{SCHEMA}.notices",)).fetchone()[0] is None:
        conn.execute("select pg_advisory_xact_lock(hashtext('credit_platform.ops.notices'))")
        conn.execute(DDL)


def deliver(s: Settings, notice: Notice, now: datetime | None = None, carries: tuple[Notice, ...] = ()
            ) -> DeliveryResult:
    """Send `notice` unless its key was sent already or its backoff has not passed; record the attempt.
    `carries`: notices whose text this one brings together (a unit's reminders of one day in one message): once
    it is sent they are recorded as sent with it, in the same transaction (meta `sent_in`), never sent alone."""
    if notice.kind not in KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}; kinds are {KINDS}")
    targets = notice.targets or default_targets(s, notice.recipient)
    ap, masked = _apprise(targets)  # a URL apprise cannot read is the caller's bug: raise before any record
    with psycopg.connect(s.pg_dsn()) as conn:
        with conn.transaction():
            ensure_schema(conn)
        with conn.transaction():
            # held while sending: a racing delivery of the same key waits here, then finds the `sent` row
            conn.execute("select pg_advisory_xact_lock(hashtext('ops.notices:' || %s))", (notice.key,))
            now = now or _db_now(conn)
            row = _row(conn, notice.key)
            if row and (row["status"] == "sent" or (row["next_attempt_at"] and row["next_attempt_at"] > now)):
                return _result(row, sent_now=False)
            ok, error = _send(ap, notice)
            attempts = (row["attempts"] if row else 0) + 1
            _record(conn, notice, notice.meta, masked, _channel(targets), ok, attempts, error, now)
            for part in carries if ok else ():
                _record(conn, part, {**part.meta, "sent_in": notice.key}, masked, _channel(targets), True, 0, None,
                        now, keep_sent=True)
            row = _row(conn, notice.key)
    if not ok:
        log.warning("notice %s not delivered (attempt %s): %s", notice.key, attempts, error)
    return _result(row, sent_now=ok)


def _record(conn: psycopg.Connection, notice: Notice, meta: dict, masked: list[str], channel: str, ok: bool,
            attempts: int, error: str | None, now: datetime, keep_sent: bool = False) -> None:
    """One attempt of a notice in ops.notices (a failed one due again after the backoff); `keep_sent`: a row
    already sent is left as it is (a part carried by a bundle sent earlier alone)."""
    conn.execute(
        f"insert into {SCHEMA}.notices as n (key, kind, recipient, level, subject_period, targets_masked,"
        " channel, title, body, attachments, meta, status, attempts, last_error, first_attempt_at,"
        " last_attempt_at, sent_at, next_attempt_at)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (key) do update set targets_masked = excluded.targets_masked,"
        " channel = excluded.channel, title = excluded.title, body = excluded.body,"
        " attachments = excluded.attachments, meta = excluded.meta, status = excluded.status,"
        " attempts = excluded.attempts, last_error = excluded.last_error,"
        " last_attempt_at = excluded.last_attempt_at, sent_at = excluded.sent_at,"
        " next_attempt_at = excluded.next_attempt_at" + (" where n.status <> 'sent'" if keep_sent else ""),
        (notice.key, notice.kind, notice.recipient, meta.get("level"), _str_or_none(meta.get("period")), masked,
         channel, notice.title, notice.body, list(notice.attachments),
         json.dumps(meta, ensure_ascii=False, default=str), "sent" if ok else "failed", attempts,
         None if ok else error, now, now, now if ok else None, None if ok else now + backoff(attempts)))


def retry_due(s: Settings, now: datetime | None = None,
              targets_for: Callable[[str], tuple[str, ...]] | None = None, recipient: str | None = None,
              kind: str | None = None, renew: Callable[[Notice], Notice] | None = None) -> list[DeliveryResult]:
    """Retry every failed notice whose backoff has passed (of one recipient / kind when given). Targets are not
    stored in clear, so they are resolved again for the recipient (`targets_for`, default: CP_NOTIFY_URLS or the
    outbox); a notice whose stored masked targets differ from the resolved ones is left for its own caller to
    retry, never sent somewhere else. `renew` rewrites what ages in a stored notice (a download link) before it
    is sent again; the notice stored is the one sent."""
    targets_for = targets_for or (lambda recipient: default_targets(s, recipient))
    with psycopg.connect(s.pg_dsn()) as conn:
        with conn.transaction():
            ensure_schema(conn)
        now = now or _db_now(conn)
        due = conn.cursor(row_factory=dict_row).execute(
            f"select * from {SCHEMA}.notices where status = 'failed' and next_attempt_at <= %s"
            " and (%s::text is null or recipient = %s) and (%s::text is null or kind = %s) order by key",
            (now, recipient, recipient, kind, kind)).fetchall()
    results = []
    for row in due:
        targets = targets_for(row["recipient"])
        if _apprise(targets)[1] != list(row["targets_masked"]):
            log.warning("notice %s: its targets are not the recipient's defaults; left for its sender", row["key"])
            continue
        notice = Notice(row["key"], row["kind"], row["recipient"], row["title"], row["body"], targets,
                        tuple(row["attachments"]), row["meta"])
        results.append(deliver(s, renew(notice) if renew else notice, now))
    return results


def status(s: Settings, key: str) -> DeliveryResult | None:
    with psycopg.connect(s.pg_dsn()) as conn:
        if conn.execute("select to_regclass(%s)", (f"{SCHEMA}.notices",)).fetchone()[0] is None:
            return None
        row = _row(conn, key)
    return _result(row, sent_now=False) if row else None


# --- internals -------------------------------------------------------------------------------------------------
def _apprise(targets: tuple[str, ...]) -> tuple[apprise.Apprise, list[str]]:
    ap = apprise.Apprise()
    for url in targets:
        if not ap.add(url):
            raise ValueError(f"notice URL not understood by apprise: {url.split(':', 1)[0]}://…")
    return ap, [server.url(privacy=True) for server in ap]


def _send(ap: apprise.Apprise, notice: Notice) -> tuple[bool, str | None]:
    # apprise returns a bare bool; its log says why (connection refused, HTTP 500 …)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        try:
            ok = bool(ap.notify(body=notice.body, title=notice.title, attach=list(notice.attachments) or None))
        except Exception as exc:  # noqa: BLE001  (a plugin bug must not lose the record of the attempt)
            ok, captured_extra = False, f"{type(exc).__name__}: {exc}"
        else:
            captured_extra = ""
        text = captured.getvalue().strip()
    if ok:
        return True, None
    lines = [line for line in (text + "\n" + captured_extra).splitlines() if line.strip()]
    return False, ("\n".join(lines[-5:]) or "apprise reported failure without a message")[:2000]


def _channel(targets: tuple[str, ...]) -> str:
    return ",".join(sorted({t.split(":", 1)[0] for t in targets}))


def _str_or_none(v) -> str | None:
    return None if v is None else str(v)


def _db_now(conn: psycopg.Connection) -> datetime:
    return conn.execute("select clock_timestamp()").fetchone()[0]


def _row(conn: psycopg.Connection, key: str) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(
        f"select * from {SCHEMA}.notices where key = %s", (key,)).fetchone()


def _result(row: dict, sent_now: bool) -> DeliveryResult:
    return DeliveryResult(row["key"], row["status"], sent_now, row["attempts"], row["sent_at"],
                          row["next_attempt_at"], row["last_error"])

