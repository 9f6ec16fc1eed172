"""Normalisation applied before the contract checks; what it produces is what gets staged.

Trim every value (half- and full-width spaces), empty → null; in codes, identifiers, dates and amounts turn
full-width ASCII (ＡＢＣ１２３（）) into half-width; identifiers are upper-cased (a lowercase x ends a valid ID).
"""

from __future__ import annotations

import polars as pl

from credit_platform.catalog import FieldSpec

_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_TRIM = " \t\r\n\u3000\u00a0\ufeff"

HALF_WIDTH_TYPES = {"identifier", "code", "multicode", "date", "decimal"}


def to_half_width(text: str) -> str:
    return text.translate({ord(f): h for f, h in zip(_FULL, _HALF, strict=True)})


def field_expr(f: FieldSpec) -> pl.Expr:
    e = pl.col(f.code).cast(pl.Utf8).str.strip_chars(_TRIM)
    if f.type in HALF_WIDTH_TYPES:
        e = e.str.replace_many(_FULL, _HALF).str.strip_chars(_TRIM)
    if f.type == "identifier":
        e = e.str.to_uppercase()
    return pl.when(e.str.len_bytes() == 0).then(None).otherwise(e).alias(f.code)


def normalize(df: pl.DataFrame, fields: list[FieldSpec]) -> pl.DataFrame:
    return df.with_columns([field_expr(f) for f in fields])
