"""Personal data: natural persons' ID numbers become a keyed hash (for joins) and a masked form (for display)
before anything is staged, loaded, written to a feedback file or logged."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl


def keyed_hash(values: pl.Series, key: str) -> pl.Series:
    k = key.encode()
    return values.map_elements(lambda v: hmac.new(k, v.encode(), hashlib.sha256).hexdigest(),
                               return_dtype=pl.Utf8, skip_nulls=True)


def masked(col: pl.Expr) -> pl.Expr:
    """2101**********123X: the region prefix and last four characters only."""
    n = col.str.len_chars()
    return (pl.when(n >= 8)
            .then(pl.concat_str([col.str.slice(0, 4), pl.lit("*").repeat_by(n - 8).list.join(""), col.str.slice(-4)]))
            .otherwise(pl.lit("*").repeat_by(n).list.join("")))


def stable_key_hash(values: pl.Series) -> pl.Series:
    """A hash of the natural key that is stable across versions (polars' own hash is not)."""
    return values.map_elements(lambda v: hashlib.blake2b(v.encode(), digest_size=12).hexdigest(),
                               return_dtype=pl.Utf8, skip_nulls=True)
