"""Load a gated batch into PostgreSQL exactly once: staged rows (COPY), the ledger row and the rejections
in one transaction; then close the earlier rejections this batch corrects. The ledger SQL is landing.ledger.

A batch already in `landing.batches` is skipped, so a rerun changes nothing. `rows = accepted + rejected`
is asserted here and enforced by a check constraint.
"""

from __future__ import annotations

import io

import polars as pl
import psycopg

from credit_platform import object_store
from credit_platform.catalog.items import Catalog, catalog
from credit_platform.ingest.staged_zone import GateOutcome
from credit_platform.landing import ledger
from credit_platform.landing import schema as landing_schema
from credit_platform.landing.bulk_copy import copy_frame
from credit_platform.landing.schema import SCHEMA, item_columns
from credit_platform.settings import Settings


def ensure_schema(s: Settings, cat: Catalog | None = None) -> None:
    with ledger.connect(s) as conn:
        # one migration at a time when several ingest tasks start together
        conn.execute("select pg_advisory_xact_lock(hashtext('credit_platform.landing.schema'))")
        landing_schema.ensure(conn, cat or catalog())


def load(s: Settings, out: GateOutcome, timings: dict | None = None, cat: Catalog | None = None) -> str:
    """Returns "loaded" or "already_loaded"."""
    cat = cat or catalog()
    b = out.batch
    assert out.rows == out.accepted + out.rejected, f"batch {b.batch_id}: rows != accepted + rejected"
    item = cat.item(b.item)
    columns = [c.name for c in item_columns(item)]
    c = object_store.client(s)
    with ledger.connect(s) as conn, conn.transaction():
        ledger.lock_batch(conn, b.batch_id)
        if ledger.is_loaded(conn, b.batch_id):
            return "already_loaded"
        err = out.batch_error or {}
        ledger.insert_batch(conn, {
            "batch_id": b.batch_id, "unit_code": b.unit, "item_code": b.item, "channel": b.channel,
            "source_ref": b.source_ref, "received_at": b.received_at, "raw_key": b.raw_key, "sha256": b.sha256,
            "bytes": b.bytes, "encoding": out.encoding, "rows": out.rows, "accepted": out.accepted,
            "rejected": out.rejected, "status": out.status, "batch_error_reason": err.get("reason"),
            "batch_error_detail": err.get("detail"), "timings": timings})
        copied, keys = 0, []
        frames = out.staged_frames or (  # in-process hand-over, else the durable staged zone
            pl.read_parquet(io.BytesIO(object_store.get(c, s.bucket("staged"), key))) for key in out.staged_keys)
        for frame in frames:
            copy_frame(conn, f"{SCHEMA}.{item.table}", frame.select(columns))
            copied += frame.height
            keys.append(frame.get_column("natural_key_hash"))
        if copied != out.accepted:
            raise RuntimeError(f"batch {b.batch_id}: staged {copied} rows but {out.accepted} were accepted")
        rej = out.rejections
        if rej is not None and rej.height:
            ledger.insert_rejections(conn, rej.select(
                pl.lit(b.batch_id).alias("batch_id"), pl.col("row").alias("row_no"),
                pl.col("field").alias("field_code"), "reason", "message_zh", "natural_key_hash",
                pl.lit(b.unit).alias("unit_code"), pl.lit(b.item).alias("item_code"),
                pl.lit(b.received_at).alias("received_at")))
        _close_corrected(conn, b, keys)
    return "loaded"


def _close_corrected(conn: psycopg.Connection, b, keys: list[pl.Series]) -> None:
    """A valid record with the same natural key from the same unit, arriving later, corrects a rejection.

    The unit's open rejections are few; the batch's keys are already in memory: match them here rather than
    make the landing table carry an index for this lookup (it would cost every load ≈ 20% of its time)."""
    open_keys = ledger.open_rejection_keys(conn, b.unit, b.item, b.batch_id, b.received_at)
    if not open_keys or not keys:
        return
    candidates = pl.Series(open_keys, dtype=pl.Utf8)
    corrected = candidates.filter(candidates.is_in(pl.concat(keys).implode())).to_list()
    if corrected:
        ledger.close_rejections(conn, b.unit, b.item, b.batch_id, b.received_at, corrected)
