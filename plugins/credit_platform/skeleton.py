"""The walking skeleton: one tiny batch through every real part (S3 raw zone, pandera, COPY, dbt, apprise).

It proves the runtime end to end; the catalog-driven ingestion replaces it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime

import pandera.polars as pa
import polars as pl
import psycopg

from credit_platform import object_store
from credit_platform.identifiers import make_uscc, uscc_status
from credit_platform.settings import Settings

ITEM, UNIT = "skeleton", "demo_unit"
COLUMNS = ["record_no", "subject_name", "subject_uscc", "decision_date", "fine_wan_yuan"]


def sample_csv(day: date) -> bytes:
    bodies = ["91210100MA0PQR12", "91210200MA0ABC34", "11210000001234567"]
    rows = [
        [f"辽沈罚〔{day:%Y}〕{day:%m%d}{i + 1:02d}号", name, make_uscc((body + "8")[:17]), day.isoformat(), fine]
        for i, (name, body, fine) in enumerate(zip(
            ["沈阳示例商贸有限公司", "大连示例物流有限公司", "辽宁省示例局"], bodies, ["0.2", "1.5", "0"],
            strict=True))
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def batch_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def land(s: Settings, data: bytes, day: date) -> dict:
    """Write the bytes once into the raw zone with a manifest; same bytes → same key, no rewrite."""
    bid = batch_id(data)
    key = f"{ITEM}/{UNIT}/dt={day.isoformat()}/{bid}.csv"
    c = object_store.client(s)
    created = object_store.put_once(c, s.bucket("raw"), key, data, "text/csv")
    manifest = {"batch_id": bid, "unit": UNIT, "item": ITEM, "channel": "batch_file",
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                "received_at": datetime.now(UTC).isoformat(), "raw_key": key}
    object_store.put_once(c, s.bucket("raw"), key + ".manifest.json",
                          json.dumps(manifest, ensure_ascii=False).encode(), "application/json")
    return {**manifest, "created": created}


SCHEMA = pa.DataFrameSchema({
    "record_no": pa.Column(str, nullable=False),
    "subject_name": pa.Column(str, nullable=False),
    "subject_uscc": pa.Column(str, pa.Check(lambda v: uscc_status(v) == "ok", element_wise=True,
                                            name="uscc_check_digit")),
    "decision_date": pa.Column(pl.Date),
    "fine_wan_yuan": pa.Column(pl.Float64, pa.Check.ge(0)),
}, strict=True)


def validate(s: Settings, raw_key: str) -> pl.DataFrame:
    data = object_store.get(object_store.client(s), s.bucket("raw"), raw_key)
    frame = pl.read_csv(io.BytesIO(data), schema_overrides={"subject_uscc": pl.Utf8, "record_no": pl.Utf8},
                        try_parse_dates=True)
    return SCHEMA.validate(frame, lazy=True)


DDL = """
create schema if not exists landing;
create table if not exists landing.skeleton_penalties (
    batch_id text not null,
    record_no text not null,
    subject_name text not null,
    subject_uscc text not null,
    decision_date date not null,
    fine_wan_yuan numeric(18, 6) not null,
    primary key (batch_id, record_no)
);
"""


def load(s: Settings, bid: str, frame: pl.DataFrame) -> int:
    """COPY the batch in one transaction; a rerun replaces the batch's rows, so the table is unchanged."""
    with psycopg.connect(s.pg_dsn()) as conn, conn.transaction():
        conn.execute(DDL)
        conn.execute("delete from landing.skeleton_penalties where batch_id = %s", (bid,))
        with conn.cursor().copy(
            "copy landing.skeleton_penalties (batch_id, record_no, subject_name, subject_uscc, decision_date,"
            " fine_wan_yuan) from stdin"
        ) as copy:
            for row in frame.iter_rows():
                copy.write_row((bid, *row))
    return frame.height
