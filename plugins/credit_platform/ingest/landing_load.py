"""Load a gated batch into PostgreSQL exactly once: staged rows (COPY), the ledger row and the rejections
in one transaction, which also closes the earlier rejections this batch corrects (ingest/corrections.py).

A batch already in `landing.batches` is skipped, so a rerun changes nothing. `rows = accepted + rejected`
is asserted here and enforced by a check constraint.
"""

from __future__ import annotations

import io
import json

import polars as pl
import psycopg

from credit_platform import object_store
from credit_platform.catalog.items import Catalog, catalog
from credit_platform.ingest import corrections
from credit_platform.ingest.staged_zone import GateOutcome
from credit_platform.landing import schema as landing_schema
from credit_platform.landing.schema import SCHEMA, item_columns
from credit_platform.settings import Settings


def connect(s: Settings) -> psycopg.Connection:
    return psycopg.connect(s.pg_dsn())


def ensure_schema(s: Settings, cat: Catalog | None = None) -> None:
    with connect(s) as conn:
        # one migration at a time when several ingest tasks start together
        conn.execute("select pg_advisory_xact_lock(hashtext('credit_platform.landing.schema'))")
        landing_schema.ensure(conn, cat or catalog())


def already_loaded(s: Settings, batch_id: str) -> bool:
    with connect(s) as conn:
        return conn.execute(f"select 1 from {SCHEMA}.batches where batch_id = %s", (batch_id,)).fetchone() is not None


def load(s: Settings, out: GateOutcome, timings: dict | None = None, cat: Catalog | None = None) -> str:
    """Returns "loaded" or "already_loaded"."""
    cat = cat or catalog()
    b = out.batch
    assert out.rows == out.accepted + out.rejected, f"batch {b.batch_id}: rows != accepted + rejected"
    item = cat.item(b.item)
    columns = [c.name for c in item_columns(item)]
    c = object_store.client(s)
    with connect(s) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (b.batch_id,))
        if conn.execute(f"select 1 from {SCHEMA}.batches where batch_id = %s", (b.batch_id,)).fetchone():
            return "already_loaded"
        err = out.batch_error or {}
        conn.execute(
            f"insert into {SCHEMA}.batches (batch_id, unit_code, item_code, channel, source_ref, received_at, raw_key,"
            " sha256, bytes, encoding, rows, accepted, rejected, status, batch_error_reason, batch_error_detail,"
            " timings) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (b.batch_id, b.unit, b.item, b.channel, b.source_ref, b.received_at, b.raw_key, b.sha256, b.bytes,
             out.encoding, out.rows, out.accepted, out.rejected, out.status, err.get("reason"), err.get("detail"),
             json.dumps(timings or {})))
        copied, keys = 0, []
        frames = out.staged_frames or (  # in-process hand-over, else the durable staged zone
            pl.read_parquet(io.BytesIO(object_store.get(c, s.bucket("staged"), key))) for key in out.staged_keys)
        for frame in frames:
            _copy_csv(conn, f"{SCHEMA}.{item.table}", frame.select(columns))
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
            _copy_csv(conn, f"{SCHEMA}.rejections", rej.select(
                pl.lit(b.batch_id).alias("batch_id"), pl.col("row").alias("row_no"),
                pl.col("field").alias("field_code"), "reason", "message_zh", "natural_key_hash",
                pl.lit(b.unit).alias("unit_code"), pl.lit(b.item).alias("item_code"),
                pl.lit(b.received_at).alias("received_at"),
                pl.when(is_dup).then(pl.lit(b.batch_id)).alias("corrected_by_batch"),
                pl.when(is_dup).then(pl.lit(b.received_at)).alias("corrected_at"),
                dup.alias("corrected_by_row"),
                pl.when(is_dup).then(pl.lit("duplicate")).alias("resolution")))
        rejected_rows = [] if rej is None else rej.get_column("row").unique().to_list()
        corrections.close_corrected(conn, b, corrections.accepted_keys(keys), out.refs, rejected_rows)
    return "loaded"


def _copy_csv(conn: psycopg.Connection, table: str, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False)
    with conn.cursor().copy(f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)") as cp:
        cp.write(buf.getvalue())
