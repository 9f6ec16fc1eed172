"""COPY a polars frame into a landing table (CSV over the COPY protocol: the fastest path psycopg offers)."""

from __future__ import annotations

import io

import polars as pl
import psycopg


def copy_frame(conn: psycopg.Connection, table: str, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False)
    with conn.cursor().copy(f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)") as cp:
        cp.write(buf.getvalue())
