"""How a later batch closes earlier rejections (整改), and how a returned feedback workbook's masked ID numbers
get their original back. The rule (docs/ingestion.md, "Corrections"):

1. A row carrying a 记录编号 (the reference a feedback workbook gives every rejected record: batch and row) is
   matched to that record's open rejection, whatever fields were changed — key fields included.
2. A row without a reference (or with one that names no open rejection) is matched by natural key to the
   unit's most recent open rejection of the same item with that key.
3. An accepted row closes its record (all the record's field rejections) with this batch and row. A row that
   is rejected again closes the old record as `resubmitted`: the new rejection is the open one (and carries
   the problem forward under its own reference), so one problem is never counted open twice.
4. One row closes at most one record, and a record is closed by at most one row.
5. A row rejected as a duplicate of an earlier row of its batch is recorded as a duplicate (feeding
   重复报送率), closed at once by that earlier row: there is nothing for the unit to correct.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

import polars as pl
import psycopg

from credit_platform import object_store
from credit_platform.catalog.items import Item
from credit_platform.clock import beijing_date
from credit_platform.gates.record_contract import REF
from credit_platform.ingest.feedback import parse_ref
from credit_platform.ingest.raw_zone import LandedBatch
from credit_platform.landing.schema import SCHEMA
from credit_platform.settings import Settings
from credit_platform.standards.identifiers import mask_resident_id

log = logging.getLogger(__name__)


# --- masked ID numbers of a returned workbook ----------------------------------------------------------------
class MaskedIdRestorer:
    """Chunk preparation for gate 1: a row whose 记录编号 names a rejected record of this unit and item, and whose
    personal ID field still shows exactly that record's masked number, gets the original number back (from
    the quarantine zone, where the rejected record's clear number lives, restricted like the raw zone). Any
    other value — a number the clerk retyped — is validated as typed."""

    def __init__(self, s: Settings, batch: LandedBatch, item: Item) -> None:
        self.s, self.batch, self.item = s, batch, item
        self.personal = [f.code for f in item.fields if f.personal_id]
        self._ids: dict[str, dict[int, dict[str, str]]] = {}  # ref prefix → row → field → clear value
        self.restored = 0

    def __call__(self, chunk: pl.DataFrame) -> pl.DataFrame:
        if REF not in chunk.columns or not self.personal:
            return chunk
        present = [c for c in self.personal if c in chunk.columns]
        if not present:
            return chunk
        refs = chunk.get_column(REF).to_list()
        columns = {c: chunk.get_column(c).to_list() for c in present}
        changed = False
        for i, ref in enumerate(refs):
            parsed = parse_ref(ref)
            if parsed is None:
                continue
            original = self._originals(parsed[0]).get(parsed[1], {})
            for c in present:
                shown, clear = columns[c][i], original.get(c)
                if shown and clear and "*" in shown and shown.strip().upper() == mask_resident_id(clear):
                    columns[c][i] = clear
                    changed = True
                    self.restored += 1
        if not changed:
            return chunk
        return chunk.with_columns([pl.Series(c, v, dtype=pl.Utf8) for c, v in columns.items()])

    def _originals(self, prefix: str) -> dict[int, dict[str, str]]:
        if prefix not in self._ids:
            self._ids[prefix] = self._load(prefix)
        return self._ids[prefix]

    def _load(self, prefix: str) -> dict[int, dict[str, str]]:
        b = self.batch
        with psycopg.connect(self.s.pg_dsn()) as conn:
            found = conn.execute(
                f"select batch_id, received_at from {SCHEMA}.batches where unit_code = %s and item_code = %s"
                f" and batch_id like %s and rejected > 0", (b.unit, b.item, prefix + "%")).fetchall()
        if len(found) != 1:  # unknown, or (never seen) ambiguous: no restoring, the value is validated as typed
            return {}
        batch_id, received_at = found[0]
        key = f"{b.item}/{b.unit}/dt={beijing_date(received_at).isoformat()}/{batch_id}.rejected.ids.parquet"
        c = object_store.client(self.s)
        data = object_store.get_if_exists(c, self.s.bucket("quarantine"), key)
        if data is None:
            log.warning("batch %s: no quarantined ID numbers at %s; masked values stay as typed", b.batch_id, key)
            return {}
        frame = pl.read_parquet(io.BytesIO(data))
        cols = [c for c in self.personal if c in frame.columns]
        return {row["row"]: {c: row[c] for c in cols if row[c]} for row in frame.iter_rows(named=True)}


# --- closing rejections ----------------------------------------------------------------------------------------
def close_corrected(conn: psycopg.Connection, b: LandedBatch, accepted: pl.DataFrame, refs: pl.DataFrame,
                    rejected_rows: list[int]) -> int:
    """Close the earlier open rejections this batch corrects (inside the load's transaction); returns how many
    records were closed. accepted: row_no, natural_key_hash of the accepted rows; refs: row, ref, accepted."""
    received_at = datetime.fromisoformat(b.received_at)
    open_records = conn.execute(
        f"select batch_id, row_no, max(natural_key_hash), max(received_at) from {SCHEMA}.rejections"
        f" where unit_code = %s and item_code = %s and corrected_by_batch is null and batch_id <> %s"
        f" and received_at <= %s group by batch_id, row_no order by max(received_at) desc, batch_id, row_no",
        (b.unit, b.item, b.batch_id, received_at)).fetchall()
    if not open_records or (accepted.is_empty() and refs.is_empty()):
        return 0
    by_ref = {(bid[:12], row): (bid, row) for bid, row, _, _ in open_records}
    closes: list[tuple[str, int, int, str]] = []  # (old batch, old row, new row, resolution)
    used_records: set[tuple[str, int]] = set()
    used_rows: set[int] = set()

    # 1. by reference, whatever changed
    rejected = set(rejected_rows)
    for row, ref, ok in refs.sort("row").iter_rows():
        parsed = parse_ref(ref)
        target = by_ref.get(parsed) if parsed else None
        if target is None or target in used_records or row in used_rows:
            continue
        if not ok and row not in rejected:  # neither loaded nor rejected (a blank line): nothing to match
            continue
        used_records.add(target)
        used_rows.add(row)
        closes.append((*target, row, "corrected" if ok else "resubmitted"))

    # 2. by natural key, the most recent open record first (open_records is ordered so)
    by_key: dict[str, list[tuple[str, int]]] = {}
    for bid, row, key, _ in open_records:
        if key is not None and (bid, row) not in used_records:
            by_key.setdefault(key, []).append((bid, row))
    for row, key in accepted.sort("row_no").iter_rows():
        if row in used_rows or key not in by_key:
            continue
        candidates = [r for r in by_key[key] if r not in used_records]
        if not candidates:
            continue
        used_records.add(candidates[0])
        used_rows.add(row)
        closes.append((*candidates[0], row, "corrected"))

    if closes:
        with conn.cursor() as cur:
            cur.executemany(
                f"update {SCHEMA}.rejections set corrected_by_batch = %s, corrected_by_row = %s, corrected_at = %s,"
                f" resolution = %s where batch_id = %s and row_no = %s and corrected_by_batch is null",
                [(b.batch_id, new_row, received_at, resolution, old_batch, old_row)
                 for old_batch, old_row, new_row, resolution in closes])
    return len(closes)


def accepted_keys(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema={"row_no": pl.Int64, "natural_key_hash": pl.Utf8})
    return pl.concat([f.select(pl.col("row_no").cast(pl.Int64), "natural_key_hash") for f in frames])

