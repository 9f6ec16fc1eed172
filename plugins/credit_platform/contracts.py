"""Gate 1: record contracts built from the catalog as pandera schemas (no hand-written per-item schema).

Each catalog rule becomes a vectorised pandera check named by its reason code; a batch is validated
once, lazily, so every failure of every record is collected in one pass. Failures are reduced to one
reason per (row, field) by a fixed priority, so a clerk sees the most basic problem first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from credit_platform.catalog import Catalog, CodeList, Condition, FieldSpec, Item, catalog
from credit_platform.identifiers import (
    _ID_CHECK,
    _ID_WEIGHTS,
    _ORG_WEIGHTS,
    _USCC_VALUE,
    _USCC_WEIGHTS,
    ID_RE,
    ORG_RE,
    USCC_CHARSET,
    USCC_RE,
)
from credit_platform.normalize import normalize, to_half_width

RECORD_REASONS = (
    "required_missing", "must_be_empty", "too_long", "invalid_format", "invalid_checksum", "invalid_date",
    "invalid_number", "not_in_code_list", "future_date", "date_order", "duplicate_in_batch",
)
BATCH_REASONS = ("unreadable_file", "unsupported_format", "undecodable_text", "empty_file", "missing_columns")
_PRIORITY = {r: i for i, r in enumerate(RECORD_REASONS)}

RECEIVED = "__received_on"
ROW = "__row"
DUP_FIRST = "__dup_first_row"


def _d(code: str) -> str:  # parsed date of a field
    return f"__date__{code}"


def _n(code: str) -> str:  # parsed number of a field
    return f"__num__{code}"


def _l(code: str) -> str:  # split values of a multi-valued code field
    return f"__list__{code}"


# --- conditions and derived columns ------------------------------------------------------------


def _norm_values(values: list[str]) -> list[str]:
    return [to_half_width(v).strip() for v in values]


def condition_expr(c: Condition, item: Item) -> pl.Expr:
    """Null-safe: a condition on an empty field is false (the empty field is reported on its own)."""
    if c.all:
        out = pl.lit(True)
        for sub in c.all:
            out = out & condition_expr(sub, item)
        return out
    if c.none_given:
        out = pl.lit(True)
        for code in c.none_given:
            out = out & pl.col(code).is_null()
        return out
    col = pl.col(c.field)
    if c.in_ is not None:
        return col.is_in(_norm_values(c.in_)).fill_null(False)
    if c.not_in is not None:
        return (col.is_not_null() & ~col.is_in(_norm_values(c.not_in))).fill_null(False)
    f = item.field(c.field)
    values = pl.col(_l(c.field)) if f.type == "multicode" else pl.concat_list([col])
    wanted = _norm_values(c.contains_any or [])
    return values.list.eval(pl.element().is_in(wanted)).list.any().fill_null(False)


_DATE_SEP = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"


def _date_expr(code: str) -> pl.Expr:
    col = pl.col(code)
    parts = []
    for pattern in (_DATE_SEP, _DATE_COMPACT):
        parts.append([col.str.extract(pattern, i) for i in (1, 2, 3)])
    y = pl.coalesce(parts[0][0], parts[1][0])
    m = pl.coalesce(parts[0][1], parts[1][1]).str.zfill(2)
    d = pl.coalesce(parts[0][2], parts[1][2]).str.zfill(2)
    return pl.concat_str([y, m, d], separator="-").str.to_date("%Y-%m-%d", strict=False).alias(_d(code))


_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def _split_expr(code: str, cl: CodeList) -> pl.Expr:
    e = pl.col(code)
    seps = _norm_values(cl.separators)
    if seps:
        e = e.str.replace_many(seps[1:], [seps[0]] * (len(seps) - 1)).str.split(seps[0])
    else:
        e = pl.concat_list([e])
    return e.list.eval(pl.element().str.strip_chars()).alias(_l(code))


def derived_columns(item: Item, cat: Catalog) -> list[pl.Expr]:
    out: list[pl.Expr] = []
    for f in item.fields:
        if f.type == "date":
            out.append(_date_expr(f.code))
        elif f.type == "decimal":
            c = pl.col(f.code)
            out.append(pl.when(c.str.contains(_NUMBER)).then(c.cast(pl.Float64, strict=False)).alias(_n(f.code)))
        elif f.type == "multicode":
            out.append(_split_expr(f.code, cat.code_lists[f.code_list]))
    return out


# --- identifier check digits, vectorised ---------------------------------------------------------


def _weighted_sum(col: pl.Expr, weights: list[int], mapping: dict[str, int]) -> pl.Expr:
    total = pl.lit(0, dtype=pl.Int64)
    for i, w in enumerate(weights):
        ch = col.str.slice(i, 1)
        total = total + ch.replace_strict(mapping, default=0, return_dtype=pl.Int64) * w
    return total


_DIGITS = {str(i): i for i in range(10)}
_ORG_VALUES = {**_DIGITS, **{chr(c): c - 55 for c in range(ord("A"), ord("Z") + 1)}}


def identifier_checks(kind: str, col: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(format ok, check digit ok) as boolean expressions over a normalised column."""
    if kind == "uscc":
        fmt = col.str.contains(USCC_RE.pattern)
        expected = (31 - _weighted_sum(col, _USCC_WEIGHTS, _USCC_VALUE) % 31) % 31
        check = col.str.slice(17, 1) == expected.replace_strict(dict(enumerate(USCC_CHARSET)), return_dtype=pl.Utf8)
    elif kind == "resident_id":
        fmt = col.str.contains(ID_RE.pattern)
        expected = _weighted_sum(col, _ID_WEIGHTS, _DIGITS) % 11
        check = col.str.slice(17, 1) == expected.replace_strict(dict(enumerate(_ID_CHECK)), return_dtype=pl.Utf8)
    else:  # org_code
        fmt = col.str.contains(ORG_RE.pattern)
        body = col.str.replace("-", "", literal=True)
        c = 11 - _weighted_sum(body, _ORG_WEIGHTS, _ORG_VALUES) % 11
        expected = pl.when(c == 10).then(pl.lit("X")).when(c == 11).then(pl.lit("0")).otherwise(c.cast(pl.Utf8))
        check = body.str.slice(8, 1) == expected
    return fmt, check


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One catalog rule: `fails` is true on the rows that break it."""

    field: str
    reason: str
    fails: pl.Expr


def field_rules(f: FieldSpec, item: Item, cat: Catalog) -> list[Rule]:
    col = pl.col(f.code)
    given = col.is_not_null()
    rules: list[Rule] = []

    def add(reason: str, fails: pl.Expr) -> None:
        rules.append(Rule(f.code, reason, fails.fill_null(False)))

    if f.required:
        add("required_missing", ~given)
    elif f.required_when:
        add("required_missing", condition_expr(f.required_when, item) & ~given)
    if f.must_be_empty_when:
        add("must_be_empty", condition_expr(f.must_be_empty_when, item) & given)
    if f.max_length:
        add("too_long", col.str.len_chars() > f.max_length)
    if f.type == "identifier":
        applies = condition_expr(f.identifier_when, item) if f.identifier_when else pl.lit(True)
        fmt, check = identifier_checks(f.identifier, col)
        add("invalid_format", applies & given & ~fmt)
        add("invalid_checksum", applies & given & fmt & ~check)
    if f.pattern:
        add("invalid_format", given & ~col.str.contains(f.pattern))
    if f.type == "date":
        parsed = pl.col(_d(f.code))
        add("invalid_date", given & parsed.is_null())
        if f.not_after_received:
            add("future_date", parsed > pl.col(RECEIVED))
        if f.not_before:
            add("date_order", parsed < pl.col(_d(f.not_before)))
    if f.type == "decimal":
        num = pl.col(_n(f.code))
        bad = num.is_null()
        if f.min is not None:
            bad = bad | (num < f.min)
        if f.positive_when:
            bad = bad | (condition_expr(f.positive_when, item) & (num <= 0))
        add("invalid_number", given & bad)
    if f.type in ("code", "multicode"):
        cl = cat.code_lists[f.code_list]
        allowed = _norm_values(cl.values)

        def ok(e: pl.Expr) -> pl.Expr:
            res = e.is_in(allowed)
            if cl.other_prefix:
                p = to_half_width(cl.other_prefix)
                res = res | (e.str.starts_with(p) & (e.str.len_chars() > len(p)))
            return res

        if f.type == "code":
            add("not_in_code_list", given & ~ok(col))
        else:
            add("not_in_code_list", given & ~pl.col(_l(f.code)).list.eval(ok(pl.element())).list.all())
    return rules


def item_rules(item: Item, cat: Catalog) -> list[Rule]:
    return [r for f in item.fields for r in field_rules(f, item, cat)]


# --- pandera schema ----------------------------------------------------------------------------


def _check(rule: Rule) -> pa.Check:
    def fn(data, fails=rule.fails) -> pl.LazyFrame:
        return data.lazyframe.select(~fails)

    return pa.Check(fn, name=rule.reason)


@cache
def schema_for(item_code: str) -> pa.DataFrameSchema:
    cat = catalog()
    item = cat.item(item_code)
    by_field: dict[str, list[pa.Check]] = {f.code: [] for f in item.fields}
    for rule in item_rules(item, cat):
        by_field[rule.field].append(_check(rule))
    columns = {code: pa.Column(pl.Utf8, checks=checks, nullable=True) for code, checks in by_field.items()}
    columns[DUP_FIRST] = pa.Column(pl.Int64, nullable=True, checks=[pa.Check(
        lambda data: data.lazyframe.select(pl.col(DUP_FIRST).is_null()), name="duplicate_in_batch")])
    return pa.DataFrameSchema(columns, name=item_code, strict=False)


# --- validation --------------------------------------------------------------------------------


@dataclass
class Validated:
    """One validated chunk: the normalised frame, which rows pass, and one reason per failing (row, field)."""

    frame: pl.DataFrame  # normalised catalog columns + ROW (1-based data row number)
    accepted: pl.Series  # boolean per row
    rejections: pl.DataFrame  # row, field, reason, value, other (extra detail)


@dataclass
class DuplicateTracker:
    """Remembers natural keys across the chunks of one batch; duplicates reject the later rows."""

    seen: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"__key_hash": pl.UInt64, DUP_FIRST: pl.Int64}))

    def mark(self, df: pl.DataFrame, key: list[str]) -> pl.DataFrame:
        complete = pl.all_horizontal([pl.col(k).is_not_null() for k in key])
        hashed = df.with_columns(
            pl.when(complete).then(pl.concat_str(key, separator="\x1f").hash(seed=7)).alias("__key_hash"))
        first_in_chunk = hashed.filter(pl.col("__key_hash").is_not_null()).group_by("__key_hash").agg(
            pl.col(ROW).min().alias("__chunk_first"))
        out = hashed.join(self.seen, on="__key_hash", how="left").join(first_in_chunk, on="__key_hash", how="left")
        dup_first = (pl.when(pl.col(DUP_FIRST).is_not_null()).then(pl.col(DUP_FIRST))
                     .when(pl.col("__chunk_first") < pl.col(ROW)).then(pl.col("__chunk_first")))
        out = out.with_columns(dup_first.alias(DUP_FIRST)).drop("__chunk_first")
        new = first_in_chunk.join(self.seen, on="__key_hash", how="anti").rename({"__chunk_first": DUP_FIRST})
        self.seen = pl.concat([self.seen, new])
        return out.drop("__key_hash")


def validate_frame(item: Item, raw: pl.DataFrame, received_on: date, row_offset: int = 0,
                   tracker: DuplicateTracker | None = None, cat: Catalog | None = None,
                   rows: pl.Series | None = None) -> Validated:
    """Validate one chunk of a batch. `raw` has the item's field codes as (string) columns; `rows` gives the
    records' 1-based row numbers in the file (default: consecutive from `row_offset`)."""
    cat = cat or catalog()
    missing = [c for c in item.codes if c not in raw.columns]
    if missing:  # optional columns absent from the file: treat as empty (gate 0 already rejected required ones)
        raw = raw.with_columns([pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing])
    df = normalize(raw.select(item.codes), item.fields)
    row_numbers = (rows.cast(pl.Int64).alias(ROW) if rows is not None
                   else pl.int_range(row_offset + 1, row_offset + df.height + 1, dtype=pl.Int64).alias(ROW))
    df = df.with_columns(row_numbers, pl.lit(received_on).alias(RECEIVED))
    work = df.with_columns(derived_columns(item, cat))
    work = (tracker or DuplicateTracker()).mark(work, item.natural_key)
    try:
        schema_for(item.code).validate(work, lazy=True)
        failures = pl.DataFrame(schema={"index": pl.Int64, "column": pl.Utf8, "check": pl.Utf8})
    except SchemaErrors as err:
        failures = err.failure_cases.select(pl.col("index").cast(pl.Int64), "column", "check")
        failures = failures.filter(pl.col("check").is_in(RECORD_REASONS))
        unexpected = err.failure_cases.filter(~pl.col("check").is_in(RECORD_REASONS))
        if unexpected.height:  # a schema-level failure would mean a bug in the generated schema itself
            raise RuntimeError(f"contract schema for {item.code} failed structurally: {unexpected.head(5)}") from err
    rejections = reduce_failures(failures, work, item)
    rejected_rows = rejections.get_column("row").unique()
    accepted = ~work.get_column(ROW).is_in(rejected_rows.implode())
    return Validated(frame=df.drop(RECEIVED), accepted=accepted, rejections=rejections)


def reduce_failures(failures: pl.DataFrame, work: pl.DataFrame, item: Item) -> pl.DataFrame:
    """One reason per (row, field), the highest-priority one; attach the normalised value for messages."""
    if failures.height == 0:
        return pl.DataFrame(schema={"row": pl.Int64, "field": pl.Utf8, "reason": pl.Utf8, "value": pl.Utf8,
                                    "first_row": pl.Int64})
    red = (failures.with_columns(pl.col("check").replace_strict(_PRIORITY, return_dtype=pl.Int32).alias("prio"))
           .sort("prio").group_by(["index", "column"], maintain_order=True).first())
    idx = red.get_column("index")
    rows = work.get_column(ROW).gather(idx)
    first = work.get_column(DUP_FIRST).gather(idx)
    # gather the offending values column by column (vectorised; one pass per failing column)
    value = pl.Series("value", [None] * red.height, dtype=pl.Utf8)
    columns = red.get_column("column")
    for col in columns.unique().to_list():
        if col == DUP_FIRST:
            continue
        positions = (columns == col).arg_true()
        value = value.scatter(positions, work.get_column(col).gather(idx.gather(positions)))
    return pl.DataFrame({
        "row": rows,
        "field": columns.replace(DUP_FIRST, "*"),
        "reason": red.get_column("check"),
        "value": value,
        "first_row": first,
    }).sort(["row", "field"])


Validator = Callable[[pl.DataFrame], Validated]
