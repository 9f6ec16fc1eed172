"""Normalisation applied before the contract checks; what it produces is what gets staged.

Trim every value (Unicode whitespace, the full-width space included), empty → null; in codes, identifiers,
dates and amounts turn full-width ASCII (ＡＢＣ１２３（）) into half-width; identifiers are upper-cased
(a lowercase x ends a valid ID number). Invisible characters (BOM, zero-width space/joiners, word joiner)
are removed from every value, so a pasted U+FEFF does not change a record's natural key.
"""

from __future__ import annotations

import polars as pl

from credit_platform.catalog.items import FieldSpec

_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_TABLE = {ord(f): h for f, h in zip(_FULL, _HALF, strict=True)}
_WIDE = "[\uff01-\uff5e\u3000]"

_INVISIBLE = "[\ufeff\u200b\u200c\u200d\u2060]"

HALF_WIDTH_TYPES = {"identifier", "code", "multicode", "date", "decimal"}


def to_half_width(text: str) -> str:
    return text.translate(_TABLE)


def normalize(df: pl.DataFrame, fields: list[FieldSpec]) -> pl.DataFrame:
    # Decide per column whether the costly rewrites are needed at all (most columns are already clean),
    # then run every column's normalisation in one parallel pass.
    wide = [f.code for f in fields if f.type in HALF_WIDTH_TYPES]
    lower = [f.code for f in fields if f.type == "identifier"]
    probe = df.select([pl.col(c).str.contains(_WIDE).any().alias(f"w{i}") for i, c in enumerate(wide)]
                      + [pl.col(c).str.contains("[a-z]").any().alias(f"l{i}") for i, c in enumerate(lower)]
                      + [pl.col(f.code).str.contains(_INVISIBLE).any().alias(f"z{i}") for i, f in enumerate(fields)])
    needs_wide = {c for i, c in enumerate(wide) if probe[0, f"w{i}"]}
    needs_upper = {c for i, c in enumerate(lower) if probe[0, f"l{i}"]}
    needs_visible = {f.code for i, f in enumerate(fields) if probe[0, f"z{i}"]}
    exprs = []
    for f in fields:
        e = pl.col(f.code).cast(pl.Utf8)
        if f.code in needs_visible:
            e = e.str.replace_all(_INVISIBLE, "")
        e = e.str.strip_chars()
        if f.code in needs_wide:
            e = e.str.replace_many(_FULL, _HALF).str.strip_chars()
        if f.code in needs_upper:
            e = e.str.to_uppercase()
        exprs.append(e.replace("", None).alias(f.code))
    return df.with_columns(exprs)


def blank_rows(df: pl.DataFrame, codes: list[str]) -> pl.Series:
    """Rows whose every field is empty after normalisation: blank lines, not records."""
    return df.select(pl.all_horizontal([pl.col(c).is_null() for c in codes])).to_series()
