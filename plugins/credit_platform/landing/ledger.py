"""The batch ledger (`landing.batches`) and the rejections (`landing.rejections`): the one home of their SQL.

A batch's ledger row is written in the transaction that copies its rows (landing_load), so "in the ledger" means
"loaded, exactly once". Functions taking a connection run inside the caller's transaction.
"""

from __future__ import annotations

import json

import polars as pl
import psycopg
from psycopg.rows import dict_row

from credit_platform.landing.bulk_copy import copy_frame
from credit_platform.landing.schema import SCHEMA
from credit_platform.settings import Settings

BATCH_COLUMNS = ("batch_id", "unit_code", "item_code", "channel", "source_ref", "received_at", "raw_key", "sha256",
                 "bytes", "encoding", "rows", "accepted", "rejected", "status", "batch_error_reason",
                 "batch_error_detail", "timings")


def connect(s: Settings) -> psycopg.Connection:
    return psycopg.connect(s.pg_dsn())


def is_loaded(conn: psycopg.Connection, batch_id: str) -> bool:
    return conn.execute(f"select 1 from {SCHEMA}.batches where batch_id = %s", (batch_id,)).fetchone() is not None


def already_loaded(s: Settings, batch_id: str) -> bool:
    with connect(s) as conn:
        return is_loaded(conn, batch_id)


def lock_batch(conn: psycopg.Connection, batch_id: str) -> None:
    """Two tasks loading the same batch take turns (transaction-scoped)."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (batch_id,))


def insert_batch(conn: psycopg.Connection, row: dict) -> None:
    values = {**row, "timings": json.dumps(row.get("timings") or {})}
    conn.execute(f"insert into {SCHEMA}.batches ({', '.join(BATCH_COLUMNS)})"
                 f" values ({', '.join(['%s'] * len(BATCH_COLUMNS))})", [values.get(c) for c in BATCH_COLUMNS])


def insert_rejections(conn: psycopg.Connection, rejections: pl.DataFrame) -> None:
    """rejections: batch_id, row_no, field_code, reason, message_zh, natural_key_hash, unit_code, item_code,
    received_at."""
    copy_frame(conn, f"{SCHEMA}.rejections", rejections)


def open_rejection_keys(conn: psycopg.Connection, unit: str, item: str, batch_id: str, received_at) -> list[str]:
    """Natural-key hashes of the unit's open rejections of the item received up to this batch (not its own)."""
    return [k for (k,) in conn.execute(
        f"select distinct natural_key_hash from {SCHEMA}.rejections where unit_code = %s and item_code = %s"
        f" and corrected_by_batch is null and batch_id <> %s and received_at <= %s and natural_key_hash is not null",
        (unit, item, batch_id, received_at)).fetchall()]


def close_rejections(conn: psycopg.Connection, unit: str, item: str, batch_id: str, received_at,
                     keys: list[str]) -> None:
    """Mark the open rejections with these natural keys corrected by `batch_id`."""
    conn.execute(
        f"update {SCHEMA}.rejections set corrected_by_batch = %s, corrected_at = %s"
        f" where unit_code = %s and item_code = %s and corrected_by_batch is null and batch_id <> %s"
        f" and received_at <= %s and natural_key_hash = any(%s)",
        (batch_id, received_at, unit, item, batch_id, received_at, keys))


def ledger_row(s: Settings, batch_id: str) -> dict:
    """A loaded batch's counts and status, as the ingest task reports them."""
    with connect(s) as conn:
        row = conn.cursor(row_factory=dict_row).execute(
            f"select batch_id, unit_code, item_code, channel, rows, accepted, rejected, status,"
            f" batch_error_reason, feedback_sent_at is not null as feedback_sent"
            f" from {SCHEMA}.batches where batch_id = %s", (batch_id,)).fetchone()
    return dict(row)


def mark_feedback_sent(s: Settings, batch_id: str) -> None:
    with connect(s) as conn:
        conn.execute(f"update {SCHEMA}.batches set feedback_sent_at = now() where batch_id = %s"
                     " and feedback_sent_at is null", (batch_id,))
