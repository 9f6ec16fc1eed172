"""Personal data: natural persons' ID numbers become a keyed hash (for joins) and a masked form (for display)
before anything is staged, loaded, written to a feedback file or logged."""

from __future__ import annotations

import hashlib
import hmac
import re

import polars as pl


def keyed_hash(values: pl.Series, key: str) -> pl.Series:
    k = key.encode()
    # a plain loop over the values is ≈ 2× faster than map_elements for these one-line functions
    return pl.Series(values.name, [None if v is None else hmac.digest(k, v.encode(), "sha256").hex()
                                   for v in values.to_list()], dtype=pl.Utf8)


def masked(col: pl.Expr) -> pl.Expr:
    """2101**********123X: the region prefix and last four characters only."""
    n = col.str.len_chars()
    return (pl.when(n >= 8)
            .then(pl.concat_str([col.str.slice(0, 4), pl.lit("*").repeat_by(n - 8).list.join(""), col.str.slice(-4)]))
            .otherwise(pl.lit("*").repeat_by(n).list.join("")))


def stable_key_hash(values: pl.Series) -> pl.Series:
    """A hash of the natural key that is stable across versions (polars' own hash is not)."""
    return pl.Series(values.name, [None if v is None else hashlib.blake2b(v.encode(), digest_size=12).hexdigest()
                                   for v in values.to_list()], dtype=pl.Utf8)


# 18-digit resident IDs (last character a digit or X) and the old 15-digit ones, not inside a longer code
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def redact_ids(text: str) -> str:
    """Mask anything shaped like a resident ID number in free text from other libraries (parser errors),
    before it reaches a ledger, a feedback file, a notice or a log."""

    def mask(m: re.Match) -> str:
        whole = m.group(0)
        return whole[:4] + "*" * (len(whole) - 8) + whole[-4:]

    return _ID_LIKE.sub(mask, text)


def find_ids(text: str) -> list[str]:
    """Resident ID numbers in clear text (the scanner the tests run over marts and outputs): ID-shaped, with a
    real birth date and, for 18 characters, a valid check character — so an all-digit USCC or an amount is not
    taken for one."""
    from datetime import date

    from credit_platform.standards.identifiers import resident_id_status

    def birth(s: str) -> bool:
        try:
            d = date(int(s[:4]), int(s[4:6]), int(s[6:8]))
        except ValueError:
            return False
        return 1900 <= d.year <= 2100

    out = []
    for m in _ID_LIKE.findall(text):
        if len(m) == 18 and resident_id_status(m) == "ok" and birth(m[6:14]):
            out.append(m)
        elif len(m) == 15 and birth("19" + m[6:12]):
            out.append(m)
    return out
