"""The delivery log (notify/delivery.py) against a real local HTTP endpoint: apprise's json:// URLs POST to it."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from credit_platform.notify import delivery
from credit_platform.notify.delivery import Notice


class Endpoint:
    """A tiny HTTP endpoint on 127.0.0.1 answering with the next status of `statuses` (the last one repeats)."""

    def __init__(self, port: int, statuses: list[int]):
        self.port, self.statuses, self.requests = port, list(statuses), []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.requests.append(body)
                code = endpoint.statuses.pop(0) if len(endpoint.statuses) > 1 else endpoint.statuses[0]
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notice(port: int, key: str | None = None) -> Notice:
    return Notice(key=key or f"feedback:test-{uuid.uuid4().hex[:8]}", kind="feedback", recipient="ln_amr",
                  title="【问题数据反馈】测试", body="正文", targets=(f"json://127.0.0.1:{port}/hook",),
                  meta={"batch": "b1", "period": "2026-11"})


def row(settings, key: str) -> dict:
    with psycopg.connect(settings.pg_dsn()) as conn:
        return conn.cursor(row_factory=psycopg.rows.dict_row).execute(
            "select * from ops.notices where key = %s", (key,)).fetchone()


def test_refused_then_500_then_200_is_sent_once_after_two_recorded_failures(settings):
    port = free_port()
    n = notice(port)
    first = delivery.deliver(settings, n)  # nothing listens: connection refused
    assert (first.status, first.sent_now, first.attempts) == ("failed", False, 1)
    assert first.sent_at is None and "connection error" in first.last_error.lower()
    r = row(settings, n.key)
    assert r["status"] == "failed" and r["next_attempt_at"] - r["last_attempt_at"] == delivery.backoff(1)
    assert r["targets_masked"] == [u for u in r["targets_masked"] if "127.0.0.1" in u]

    with Endpoint(port, [500, 200]) as ep:
        # before its backoff has passed, a later call does not try again
        assert delivery.deliver(settings, n).attempts == 1 and ep.requests == []
        later = first.next_attempt_at + timedelta(seconds=1)
        second = delivery.deliver(settings, n, now=later)
        assert (second.status, second.attempts) == ("failed", 2) and "500" in second.last_error
        assert second.next_attempt_at == later + delivery.backoff(2) and len(ep.requests) == 1
        third = delivery.deliver(settings, n, now=second.next_attempt_at)
        assert (third.status, third.sent_now, third.attempts, third.last_error) == ("sent", True, 3, None)
        assert len(ep.requests) == 2 and json.loads(ep.requests[-1])["title"] == n.title
        # sent is final: any later call sends nothing
        again = delivery.deliver(settings, n, now=second.next_attempt_at + timedelta(days=3))
        assert (again.status, again.sent_now) == ("sent", False) and len(ep.requests) == 2
    assert row(settings, n.key)["sent_at"] is not None


def test_retry_due_resends_failed_notices_to_the_recipients_default_targets(settings):
    port = free_port()
    n = notice(port)
    assert delivery.deliver(settings, n).status == "failed"
    with Endpoint(port, [200]) as ep:
        due_at = row(settings, n.key)["next_attempt_at"]
        # another recipient's defaults: not this notice's targets, so never sent there
        others = delivery.retry_due(settings, now=due_at, targets_for=lambda r: ("json://127.0.0.1:9/x",))
        assert n.key not in [x.key for x in others] and ep.requests == []
        results = delivery.retry_due(settings, now=due_at, targets_for=lambda r: n.targets)
        mine = [x for x in results if x.key == n.key]
        assert [(x.status, x.attempts) for x in mine] == [("sent", 2)] and len(ep.requests) == 1


def test_three_threads_delivering_one_key_send_exactly_once(settings):
    port = free_port()
    n = notice(port)
    with Endpoint(port, [200]) as ep:
        results: list = []
        threads = [threading.Thread(target=lambda: results.append(delivery.deliver(settings, n))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(ep.requests) == 1
    assert sorted(r.sent_now for r in results) == [False, False, True]
    assert {r.status for r in results} == {"sent"} and row(settings, n.key)["attempts"] == 1


def test_passwords_in_target_urls_are_not_stored(settings):
    port = free_port()
    n = Notice(f"alert:test-{uuid.uuid4().hex[:8]}", "alert", "platform", "t", "b",
               (f"json://user:s3cret-token@127.0.0.1:{port}/hook",))
    with Endpoint(port, [200]):
        assert delivery.deliver(settings, n).sent
    r = row(settings, n.key)
    assert "s3cret-token" not in " ".join(r["targets_masked"]) and r["channel"] == "json"


def test_the_default_target_is_the_local_outbox(settings):
    n = Notice(f"report:test:{uuid.uuid4().hex[:8]}", "report", "ln_amr", "【测试】", "正文", ())
    before = set(settings.outbox_dir.glob("*.json")) if settings.outbox_dir.exists() else set()
    assert delivery.deliver(settings, n).sent
    assert delivery.deliver(settings, n).sent_now is False
    assert len(set(settings.outbox_dir.glob("*.json")) - before) == 1


def test_bad_urls_and_kinds_are_errors_not_records(settings):
    with pytest.raises(ValueError, match="not understood"):
        delivery.deliver(settings, Notice("alert:x", "alert", "platform", "t", "b", ("nosuchscheme://h",)))
    with pytest.raises(ValueError, match="kind"):
        delivery.deliver(settings, Notice("x:y", "gossip", "platform", "t", "b", ()))


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 5), (2, 10), (3, 20), (8, 640), (9, 720), (30, 720)])
def test_backoff_doubles_up_to_its_cap(attempts, minutes):
    assert delivery.backoff(attempts) == timedelta(minutes=minutes)
