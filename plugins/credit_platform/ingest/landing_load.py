"""Load a gated batch into PostgreSQL exactly once: staged rows (COPY), the ledger row, the rejections and the
rejected records' timing in one transaction, which also closes the earlier rejections this batch corrects
(ingest/corrections.py). The ledger SQL is landing.ledger.

A batch already in `landing.batches` is skipped, so a rerun changes nothing. `rows = accepted + rejected`
is asserted here and enforced by a check constraint.
"""

from __future__ import annotations

import io

import polars as pl

from credit_platform import object_store
from credit_platform.catalog.items import Catalog, catalog
from credit_platform.ingest import corrections
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
            "batch_error_detail": err.get("detail"), "timings": timings, "warnings": out.warnings})
        copied, keys = 0, []
        frames = out.staged_frames or (  # in-process hand-over, else the durable staged zone
            pl.read_parquet(io.BytesIO(object_store.get(c, s.bucket("staged"), key))) for key in out.staged_keys)
        for frame in frames:
            copy_frame(conn, f"{SCHEMA}.{item.table}", frame.select(columns))
            copied += frame.height
            keys.append(frame.select("row_no", "natural_key_hash"))
        if copied != out.accepted:
            raise RuntimeError(f"batch {b.batch_id}: staged {copied} rows but {out.accepted} were accepted")
        rej = out.rejections
        if rej is not None and rej.height:
            # a duplicate of an earlier row of the batch is recorded as such and closed by that row at once:
            # nothing to correct (all its field problems included: the record itself is reported once already)
            dup = rej.join(out.duplicates.unique("row"), on="row", how="left").get_column("first_row")
            is_dup = dup.is_not_null()
            ledger.insert_rejections(conn, rej.select(
                pl.lit(b.batch_id).alias("batch_id"), pl.col("row").alias("row_no"),
                pl.col("field").alias("field_code"), "reason", "message_zh", "natural_key_hash",
                pl.lit(b.unit).alias("unit_code"), pl.lit(b.item).alias("item_code"),
                pl.lit(b.received_at).alias("received_at"),
                pl.when(is_dup).then(pl.lit(b.batch_id)).alias("corrected_by_batch"),
                pl.when(is_dup).then(pl.lit(b.received_at)).alias("corrected_at"),
                dup.alias("corrected_by_row"),
                pl.when(is_dup).then(pl.lit("duplicate")).alias("resolution")))
        if out.rejected_timing.height:
            ledger.insert_rejected_records(conn, out.rejected_timing.select(
                pl.lit(b.batch_id).alias("batch_id"), pl.col("row").alias("row_no"), "decision_date", "on_time"))
        rejected_rows = [] if rej is None else rej.get_column("row").unique().to_list()
        corrections.close_corrected(conn, b, corrections.accepted_keys(keys), out.refs, rejected_rows)
    return "loaded"
