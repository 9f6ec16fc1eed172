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
                 "batch_error_detail", "timings", "warnings")


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
    values = {**row, "timings": json.dumps(row.get("timings") or {}),
              "warnings": json.dumps(row["warnings"], ensure_ascii=False) if row.get("warnings") else None}
    conn.execute(f"insert into {SCHEMA}.batches ({', '.join(BATCH_COLUMNS)})"
                 f" values ({', '.join(['%s'] * len(BATCH_COLUMNS))})", [values.get(c) for c in BATCH_COLUMNS])


def insert_rejections(conn: psycopg.Connection, rejections: pl.DataFrame) -> None:
    """rejections: batch_id, row_no, field_code, reason, message_zh, natural_key_hash, unit_code, item_code,
    received_at, and for duplicates already closed: corrected_by_batch, corrected_at, corrected_by_row,
    resolution."""
    copy_frame(conn, f"{SCHEMA}.rejections", rejections)


def insert_rejected_records(conn: psycopg.Connection, records: pl.DataFrame) -> None:
    """records: batch_id, row_no, decision_date, on_time — one per rejected record (及时率 counts them)."""
    copy_frame(conn, f"{SCHEMA}.rejected_records", records)


def open_rejection_records(conn: psycopg.Connection, unit: str, item: str, batch_id: str,
                           received_at) -> list[tuple[str, int, str | None]]:
    """The unit's open rejected records of the item received up to this batch (not its own), one per
    (batch, row) with its natural-key hash, the most recent first (ingest.corrections matches them)."""
    return conn.execute(
        f"select batch_id, row_no, max(natural_key_hash) from {SCHEMA}.rejections where unit_code = %s"
        f" and item_code = %s and corrected_by_batch is null and batch_id <> %s and received_at <= %s"
        f" group by batch_id, row_no order by max(received_at) desc, batch_id, row_no",
        (unit, item, batch_id, received_at)).fetchall()


def close_records(conn: psycopg.Connection, batch_id: str, received_at,
                  closes: list[tuple[str, int, int, str]]) -> None:
    """Close rejected records (all their field rejections): (old batch, old row, closing row, resolution)."""
    with conn.cursor() as cur:
        cur.executemany(
            f"update {SCHEMA}.rejections set corrected_by_batch = %s, corrected_by_row = %s, corrected_at = %s,"
            f" resolution = %s where batch_id = %s and row_no = %s and corrected_by_batch is null",
            [(batch_id, new_row, received_at, resolution, old_batch, old_row)
             for old_batch, old_row, new_row, resolution in closes])


def referenced_batch(s: Settings, unit: str, item: str, prefix: str) -> tuple[str, str, set[int]] | None:
    """The batch with rejections a 记录编号's prefix names (batch id, raw key, its rejected rows), if exactly one."""
    with connect(s) as conn:
        found = conn.execute(
            f"select batch_id, raw_key from {SCHEMA}.batches where unit_code = %s and item_code = %s"
            f" and batch_id like %s and rejected > 0", (unit, item, prefix + "%")).fetchall()
        if len(found) != 1:
            return None
        batch_id, raw_key = found[0]
        rows = {r for (r,) in conn.execute(f"select distinct row_no from {SCHEMA}.rejections where batch_id = %s",
                                           (batch_id,)).fetchall()}
    return batch_id, raw_key, rows


def ledger_row(s: Settings, batch_id: str) -> dict:
    """A loaded batch's counts and status, as the ingest task reports them; `corrected`: the earlier rejected
    records its rows corrected (整改)."""
    with connect(s) as conn:
        row = conn.cursor(row_factory=dict_row).execute(
            f"select batch_id, unit_code, item_code, channel, rows, accepted, rejected, status,"
            f" batch_error_reason, warnings, feedback_sent_at is not null as feedback_sent,"
            f" (select count(distinct (r.batch_id, r.row_no)) from {SCHEMA}.rejections r"
            f"  where r.corrected_by_batch = b.batch_id and r.resolution = 'corrected') as corrected"
            f" from {SCHEMA}.batches b where batch_id = %s", (batch_id,)).fetchone()
    return dict(row)


def count_load_failure(s: Settings, batch_id: str, detail: str) -> int:
    """One more try of a load the database refused for the batch's data; returns the tries so far."""
    with connect(s) as conn:
        return conn.execute(
            f"insert into {SCHEMA}.load_failures (batch_id, attempts, last_error) values (%s, 1, %s)"
            " on conflict (batch_id) do update set attempts = load_failures.attempts + 1,"
            " last_error = excluded.last_error, last_at = now() returning attempts", (batch_id, detail)).fetchone()[0]


def mark_feedback_sent(s: Settings, batch_id: str, sent_at=None) -> None:
    """Only once the notice was delivered (notify.delivery), at the time it was."""
    with connect(s) as conn:
        conn.execute(f"update {SCHEMA}.batches set feedback_sent_at = coalesce(%s, now()) where batch_id = %s"
                     " and feedback_sent_at is null", (sent_at, batch_id))
