"""Normalisation applied before the contract checks; what it produces is what gets staged.

Trim every value (Unicode whitespace, the full-width space included), empty → null; in codes, identifiers,
dates and amounts turn full-width ASCII (ＡＢＣ１２３（）) into half-width; identifiers are upper-cased
(a lowercase x ends a valid ID number). Invisible characters (BOM, zero-width space/joiners, word joiner)
are removed from every value, so a pasted U+FEFF does not change a record's natural key. ID numbers typed
where they do not belong are masked here too, so no later step sees them in clear.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from credit_platform.catalog.items import FieldSpec
from credit_platform.standards.pii import redact_frame

_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_TABLE = {ord(f): h for f, h in zip(_FULL, _HALF, strict=True)}
# character sets (class bodies); every pattern below is built from them, so the probe cannot miss a character
# the rewrite handles
_WIDE_SET = "\uff01-\uff5e\u3000"
_INVISIBLE_SET = "\ufeff\u200b\u200c\u200d\u2060"
_WIDE = f"[{_WIDE_SET}]"
_INVISIBLE = f"[{_INVISIBLE_SET}]"
_LOWER = "[a-z\uff41-\uff5a]"
_UNSEEN = f"[\x00{_INVISIBLE_SET}]"  # invisible, or NUL
_ODD_TYPED = f"[\x00{_INVISIBLE_SET}{_WIDE_SET}]"  # …, or full-width

HALF_WIDTH_TYPES = {"identifier", "code", "multicode", "date", "decimal"}


def to_half_width(text: str) -> str:
    return text.translate(_TABLE)


# One cheap probe per column says whether it needs any costly step at all. A column that does not match its
# probe has no full-width, invisible or NUL character, no run of 15 digits and no whitespace at either end:
# it needs no rewriting (upper-casing aside), cannot hold an ID number, and the NUL rule can skip it (most
# columns, most batches). Full-width digits are in the typed probe's first class.
_EDGE_SPACE = "|^\\s|\\s$"  # Unicode White_Space, as `strip_chars` strips it
_ATTENTION_TYPED = f"{_ODD_TYPED}|[0-9]{{15}}{_EDGE_SPACE}"
_ATTENTION_TEXT = f"{_UNSEEN}|[0-9\uff10-\uff19]{{15}}{_EDGE_SPACE}"


@dataclass(frozen=True)
class Probe:
    """What a chunk's columns need, found in one parallel pass (then a second over the few that matched)."""

    attention: frozenset[str]  # may hold an ID number, a NUL, a full-width or invisible character, edge spaces
    wide: frozenset[str]
    upper: frozenset[str]
    invisible: frozenset[str]
    nul: frozenset[str]


def probe(df: pl.DataFrame, fields: list[FieldSpec]) -> Probe:
    typed = {f.code for f in fields if f.type in HALF_WIDTH_TYPES}
    lower = [f.code for f in fields if f.type == "identifier"]
    first = df.select([pl.col(f.code).str.contains(_ATTENTION_TYPED if f.code in typed else _ATTENTION_TEXT)
                       .any().alias(f"a{i}") for i, f in enumerate(fields)]
                      # a full-width ｘ is lower case once made half-width
                      + [pl.col(c).str.contains(_LOWER).any().alias(f"l{i}") for i, c in enumerate(lower)])
    attention = [f.code for i, f in enumerate(fields) if first[0, f"a{i}"]]
    # most attention columns matched only for their digits (identifiers): one more pass finds the few with an
    # odd character, and only those are told apart
    odd = df.select([pl.col(c).str.contains(_ODD_TYPED if c in typed else _UNSEEN).any().alias(f"o{i}")
                     for i, c in enumerate(attention)])
    odd_cols = [c for i, c in enumerate(attention) if odd[0, f"o{i}"]]
    last = df.select([pl.col(c).str.contains(_WIDE).any().alias(f"w{i}") for i, c in enumerate(odd_cols)]
                     + [pl.col(c).str.contains("\x00", literal=True).any().alias(f"n{i}")
                        for i, c in enumerate(odd_cols)]
                     + [pl.col(c).str.contains(_INVISIBLE).any().alias(f"v{i}") for i, c in enumerate(odd_cols)])
    return Probe(attention=frozenset(attention),
                 wide=frozenset(c for i, c in enumerate(odd_cols) if c in typed and last[0, f"w{i}"]),
                 upper=frozenset(c for i, c in enumerate(lower) if first[0, f"l{i}"]),
                 invisible=frozenset(c for i, c in enumerate(odd_cols) if last[0, f"v{i}"]),
                 nul=frozenset(c for i, c in enumerate(odd_cols) if last[0, f"n{i}"]))


def normalize(df: pl.DataFrame, fields: list[FieldSpec], scan_ids: Collection[str] = (),
              found: Probe | None = None, masked: dict[str, int] | None = None) -> pl.DataFrame:
    """Normalise every field; then mask ID numbers found in the `scan_ids` columns (`pii.redact_frame`)."""
    found = found or probe(df, fields)
    exprs = []
    for f in fields:
        e = pl.col(f.code).cast(pl.Utf8)
        if f.code in found.invisible:
            e = e.str.replace_all(_INVISIBLE, "")
        if f.code in found.attention:
            e = e.str.strip_chars()
        if f.code in found.wide:
            e = e.str.replace_many(_FULL, _HALF).str.strip_chars()
        if f.code in found.upper:
            e = e.str.to_uppercase()
        exprs.append(e.alias(f.code))
    # empty → null in a second step: `e` twice in one expression would be evaluated twice (eager: no CSE)
    out = df.with_columns(exprs).with_columns(
        [pl.when(pl.col(f.code).str.len_bytes() > 0).then(pl.col(f.code)) for f in fields])
    return redact_frame(out, [c for c in scan_ids if c in found.attention], masked)


def blank_rows(df: pl.DataFrame, codes: list[str]) -> pl.Series:
    """Rows whose every field is empty after normalisation: blank lines, not records."""
    return df.select(pl.all_horizontal([pl.col(c).is_null() for c in codes])).to_series()
