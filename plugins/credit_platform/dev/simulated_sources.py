"""Stand-ins for the source units' own systems, for the demo and the tests (not part of the platform).

- a front-end database (前置机) table `fe_<unit>.<item>` per unit and item;
- a unit's HTTP JSON API: a real local server answering `/<unit>/<item>/records?since=&page=&page_size=`
  from tables `api_<unit>.<item>` in the same database;
- files dropped into the S3 inbox; rows entered in the online-fill table.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg
from psycopg import sql

from credit_platform import object_store
from credit_platform.catalog.items import catalog
from credit_platform.settings import Settings


def _table(schema: str, item: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(item))


def ensure_source_table(conn: psycopg.Connection, schema: str, item: str) -> None:
    cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c.lower())) for c in catalog().item(item).codes)
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("create table if not exists {} (record_id text primary key, updated_at timestamptz not null,"
                         " {})").format(_table(schema, item), cols))


def upsert_source_rows(s: Settings, schema: str, item: str, records: list[dict], updated_at: datetime) -> None:
    """Write records (field code → value, plus record_id) as the source system would, at `updated_at`."""
    codes = catalog().item(item).codes
    with psycopg.connect(s.pg_dsn(s.frontend_database)) as conn, conn.transaction():
        ensure_source_table(conn, schema, item)
        names = sql.SQL(", ").join(sql.Identifier(c.lower()) for c in codes)
        updates = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c.lower())) for c in codes)
        stmt = sql.SQL("insert into {} (record_id, updated_at, {}) values ({}) on conflict (record_id) do update set"
                       " updated_at = excluded.updated_at, {}").format(
            _table(schema, item), names, sql.SQL(", ").join(sql.Placeholder() * (len(codes) + 2)), updates)
        with conn.cursor() as cur:
            cur.executemany(stmt, [(r["record_id"], updated_at, *[r.get(c) for c in codes]) for r in records])


def drop_in_inbox(s: Settings, unit: str, item: str, filename: str, data: bytes) -> str:
    key = f"{unit}/{item}/{filename}"
    object_store.put(object_store.client(s), s.bucket("inbox"), key, data)
    return key


def enter_online(s: Settings, unit: str, item: str, records: list[dict], clerk: str = "录入员") -> None:
    with psycopg.connect(s.pg_dsn()) as conn, conn.cursor() as cur:
        cur.executemany("insert into online_fill.entries (unit_code, item_code, payload, entered_by)"
                        " values (%s, %s, %s, %s)",
                        [(unit, item, json.dumps(r, ensure_ascii=False), clerk) for r in records])


class _ApiHandler(BaseHTTPRequestHandler):
    settings: Settings

    def do_GET(self) -> None:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[2] != "records":
            self.send_error(404)
            return
        unit, item = parts[0], parts[1]
        q = parse_qs(url.query)
        since = datetime.fromisoformat(q.get("since", ["2000-01-01T00:00:00+00:00"])[0])
        page, size = int(q.get("page", ["1"])[0]), min(int(q.get("page_size", ["500"])[0]), 1000)
        records: list[dict] = []
        with psycopg.connect(self.settings.pg_dsn(self.settings.frontend_database)) as conn:
            if conn.execute("select to_regclass(%s)", (f'api_{unit}."{item}"',)).fetchone()[0]:
                cur = conn.cursor(row_factory=psycopg.rows.dict_row)
                rows = cur.execute(sql.SQL("select * from {} where updated_at > %s order by updated_at, record_id"
                                           " limit %s offset %s").format(_table(f"api_{unit}", item)),
                                   (since, size + 1, (page - 1) * size)).fetchall()
                records = [{(k if k in ("record_id", "updated_at") else k.upper()): v for k, v in r.items()}
                           for r in rows]
        body = {"records": records[:size], "next_page": page + 1 if len(records) > size else None}
        data = json.dumps(body, ensure_ascii=False, default=lambda v: v.isoformat()).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class _ApiServer(ThreadingHTTPServer):
    def shutdown(self) -> None:
        """Stop serving and release the port (the plain shutdown keeps the socket bound until collected, so
        the next stand-in on that port, in another process, found it taken)."""
        super().shutdown()
        self.server_close()


def api_server(s: Settings) -> ThreadingHTTPServer:
    """The source units' API on CP_SOURCE_API_BASE (127.0.0.1), bound but not yet serving."""
    url = urlparse(s.source_api_base)
    handler = type("ApiHandler", (_ApiHandler,), {"settings": s})
    return _ApiServer((url.hostname or "127.0.0.1", url.port or 80), handler)


def start_api_server(s: Settings) -> ThreadingHTTPServer:
    """The API stand-in in a background thread of this process (tests)."""
    server = api_server(s)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def now() -> datetime:
    return datetime.now(UTC)
