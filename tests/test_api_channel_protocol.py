"""The api channel against a unit's system that breaks the protocol: clear errors, nothing landed or lost."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from credit_platform.catalog.registry import ChannelSpec, Obligation, registry
from credit_platform.ingest import channels, landing_load


class _Stub(BaseHTTPRequestHandler):
    answer: tuple[int, str, bytes] = (200, "application/json", b'{"records": [], "next_page": null}')

    def do_GET(self) -> None:
        status, ctype, body = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def stub(settings) -> Iterator[tuple[str, type[_Stub]]]:
    landing_load.ensure_schema(settings)
    handler = type("Stub", (_Stub,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def _unit(base: str):
    code = f"zz_api_{uuid.uuid4().hex[:8]}"  # its own watermark and extracted rows in the shared test DB
    return registry().unit("ln_tax").model_copy(update={
        "code": code,
        "channels": [ChannelSpec(channel="api", schedule="0 * * * *", endpoint=f"{base}/{code}")],
        "items": [Obligation(item="administrative_penalty", frequency="daily")]})


@pytest.mark.parametrize(("answer", "message"), [
    ((500, "text/plain", b"boom"), "HTTP 500"),
    ((200, "text/html", b"<html>\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad</html>"), "the answer is not JSON (22 bytes)"),
    ((200, "application/json", b'{"records": {"a": 1}}'), 'expected {"records": [objects]'),
    ((200, "application/json", b'{"records": [1, 2]}'), 'expected {"records": [objects]'),
    ((200, "application/json", b"[]"), 'expected {"records": [objects]'),
])
def test_a_broken_answer_is_a_clear_source_error(settings, stub, answer, message):
    base, handler = stub
    handler.answer = answer
    unit = _unit(base)
    with pytest.raises(channels.SourceError) as err:
        channels.extract_api(settings, unit)
    assert message in str(err.value) and f"/{unit.code}/administrative_penalty/records" in str(err.value)
    assert "since=" not in str(err.value)


def test_a_source_that_never_stops_paging_is_cut_off(settings, stub):
    base, handler = stub
    handler.answer = (200, "application/json", b'{"records": [], "next_page": 2}')
    with pytest.raises(channels.SourceError, match="more than 3 pages"):
        channels.extract_api(settings, _unit(base), max_pages=3)


def test_records_without_id_or_time_are_landed_and_not_pulled_twice(settings, stub):
    base, handler = stub
    records = [
        {"record_id": "r1", "updated_at": "2026-11-20T10:00:00", "CF_WSH": "甲"},  # local time without zone
        {"updated_at": "2026-11-20T09:00:00+08:00", "CF_WSH": "乙"},  # no record_id
        {"record_id": "r3", "updated_at": "yesterday", "CF_WSH": "丙"},  # unreadable time
        {"record_id": "r4", "CF_WSH": "丁"},  # no time at all
    ]
    handler.answer = (200, "application/json", json.dumps({"records": records, "next_page": None}).encode())
    unit = _unit(base)
    [extract] = channels.extract_api(settings, unit)
    landed = [json.loads(line) for line in extract.data.decode().splitlines()]
    assert [r["CF_WSH"] for r in landed] == ["甲", "乙", "丙", "丁"]
    keys = [k for k, _ in extract.confirm["keys"]]
    assert keys[0] == "r1" and keys[1].startswith("content:") and keys[2:] == ["r3", "r4"]
    # the newest readable time, the zone-less one read as Beijing time
    assert datetime.fromisoformat(extract.confirm["watermark"]) == datetime.fromisoformat("2026-11-20T10:00:00+08:00")

    channels.confirm(settings, unit.code, {"channel": "api", "item": extract.item, "confirm": extract.confirm}, "b1")
    assert channels.extract_api(settings, unit) == []  # the same answer again: every record already extracted
