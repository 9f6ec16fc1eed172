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


KEEP = 4  # characters kept at each end: the region prefix (4 digits) and the last four


def mask_id(code: str) -> str:
    """The one masking rule for display: 2101**********123X, the region prefix and last four only; a value too
    short to keep both ends is all stars."""
    if len(code) < 2 * KEEP:
        return "*" * len(code)
    return code[:KEEP] + "*" * (len(code) - 2 * KEEP) + code[-KEEP:]


def masked(col: pl.Expr) -> pl.Expr:
    """`mask_id` over a column, vectorised (a Python call per value would cost the load; a test holds the two
    equal on every length)."""
    n = col.str.len_chars()
    return (pl.when(n >= 2 * KEEP)
            .then(pl.concat_str([col.str.slice(0, KEEP), pl.lit("*").repeat_by(n - 2 * KEEP).list.join(""),
                                 col.str.slice(-KEEP)]))
            .otherwise(pl.lit("*").repeat_by(n).list.join("")))


def stable_key_hash(values: pl.Series) -> pl.Series:
    """A hash of the natural key that is stable across versions (polars' own hash is not)."""
    return pl.Series(values.name, [None if v is None else hashlib.blake2b(v.encode(), digest_size=12).hexdigest()
                                   for v in values.to_list()], dtype=pl.Utf8)


# --- the one scanner for ID numbers in free text ----------------------------------------------------
#
# A resident ID number is 17 digits and a check character (digit or X) whose first six digits are a region,
# then a birth date YYYYMMDD; old ones are 15 digits with a YYMMDD birth date and no check character. Text is
# searched for runs of digits (ASCII or full-width) however they are glued to their neighbours — letters, a
# JSON escape such as `\u00a0` or `\n`, other digits — and every 18-character window of a run is tested: a
# valid check character and a plausible birth date make it an ID number. A run exactly 18 long needs only the
# plausible birth date (a mistyped ID number is still someone's). A 15-digit run is an old ID number
# when it has a plausible birth date. The platform redacts with this scanner and every PII test scans with it.

_FULL_DIGITS = {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")} | {ord("Ｘ"): ord("X"),
                                                                                     ord("ｘ"): ord("x")}
_RUN = re.compile(r"[0-9０-９]{15,}[XxＸｘ]?")
# a cheap first pass: text without 15 consecutive digits holds no ID number (most values)
# (18 digits, or 17 and an X, in a row; or a run of exactly 15 digits): one vectorised regex pass per column,
# so a USCC such as 11230500001755309F (17 digits and a letter) never reaches Python
CANDIDATE_PATTERN = r"[0-9０-９]{17}[0-9０-９XxＸｘ]|(?:^|[^0-9０-９])[0-9０-９]{15}(?:[^0-9０-９]|$)"
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK = "10X98765432"


def _plausible_date(yyyymmdd: str) -> bool:
    y, m, d = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    if not (1900 <= y <= 2100 and 1 <= m <= 12 and d >= 1):
        return False
    days = (31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return d <= days[m - 1]


def _is_id18(s: str) -> bool:
    return (s[0] != "0" and _plausible_date(s[6:14])
            and _CHECK[sum(int(c) * w for c, w in zip(s[:17], _WEIGHTS, strict=True)) % 11] == s[17].upper())


def find_ids(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of every ID number in `text`, non-overlapping, left to right."""
    spans: list[tuple[int, int]] = []
    for m in _RUN.finditer(text):
        run = m.group(0).translate(_FULL_DIGITS)
        start, i = m.start(), 0
        if len(run) == 18 and run[:17].isdigit() and run[0] != "0" and _plausible_date(run[6:14]):
            spans.append((start, start + 18))  # exactly ID-long: an ID number even with a mistyped check digit
            continue
        while i + 18 <= len(run):
            if run[i + 17] in "0123456789Xx" and run[i:i + 17].isdigit() and _is_id18(run[i:i + 18]):
                spans.append((start + i, start + i + 18))
                i += 18
            else:
                i += 1
        # an old 15-digit number has no check digit: only standing alone (not glued to letters, where hex
        # hashes would give false alarms) does it count
        alone = not (m.start() and text[m.start() - 1].isalnum()) and not (m.end() < len(text)
                                                                             and text[m.end()].isalnum())
        if alone and len(run) == 15 and run.isdigit() and run[0] != "0" and _plausible_date("19" + run[6:12]):
            spans.append((m.start(), m.end()))
    return spans


def contains_id(text: str) -> bool:
    return bool(find_ids(text))


def redact_ids(text: str) -> str:
    """Mask every ID number in free text (a value, a parser error, a file name, a log line): the region prefix
    and last four characters stay, as in `masked`."""
    spans = find_ids(text)
    if not spans:
        return text
    out, last = [], 0
    for a, b in spans:
        out += [text[last:a], text[a:a + 4], "*" * (b - a - 8), text[b - 4:b]]
        last = b
    out.append(text[last:])
    return "".join(out)


def redact_column(values: pl.Series, hit: pl.Series | None = None) -> pl.Series:
    """`redact_ids` over a column: only values with 15 consecutive digits (few, in practice) go through Python.
    `hit`: the values matching CANDIDATE_PATTERN, when the caller has them already."""
    hit = values.str.contains(CANDIDATE_PATTERN).fill_null(False) if hit is None else hit
    if not hit.any():
        return values
    at = hit.arg_true()
    cand = values.gather(at)
    # a whole value 18 long (an identifier column: many USCCs are digits only) is decided here, vectorised,
    # exactly as `find_ids` would: an ID number iff it does not start with 0 and has a plausible birth date
    exact = cand.str.contains(r"^[0-9]{17}[0-9Xx]$").fill_null(False)
    born = cand.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    plausible = (born.dt.year().is_between(1900, 2100) & ~cand.str.starts_with("0")).fill_null(False)
    python = ~exact | plausible
    if not python.any():
        return values
    idx = at.filter(python)
    fixed = pl.Series([redact_ids(v) for v in cand.filter(python).to_list()], dtype=pl.Utf8)
    return values.scatter(idx, fixed)


def redact_frame(df: pl.DataFrame, columns: list[str], masked: dict[str, int] | None = None) -> pl.DataFrame:
    """`redact_column` over some columns of a frame: the candidates of all of them in one parallel pass (most
    hold none at all), then only the columns with a candidate are rewritten. `masked`, when given, gets the
    number of values each column had an ID number masked in (the unit is told)."""
    if not columns:
        return df
    hits = df.select([pl.col(c).str.contains(CANDIDATE_PATTERN).fill_null(False) for c in columns])
    fixed = [redact_column(df.get_column(c), hits.get_column(c)) for c in columns if hits.get_column(c).any()]
    if masked is not None:
        for new in fixed:
            changed = int((new != df.get_column(new.name)).fill_null(False).sum())
            if changed:
                masked[new.name] = masked.get(new.name, 0) + changed
    return df.with_columns(fixed) if fixed else df
