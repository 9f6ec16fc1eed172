"""Gate 1: record contracts built from the catalog as pandera schemas (no hand-written per-item schema).

Each catalog rule becomes a vectorised pandera check named by its reason code; a batch is validated
once, lazily, so every failure of every record is collected in one pass. Failures are reduced to one
reason per (row, field) by a fixed priority, so a clerk sees the most basic problem first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from credit_platform.catalog.items import Catalog, CodeList, Condition, FieldSpec, Item, catalog
from credit_platform.gates.normalize import blank_rows, normalize, probe, to_half_width
from credit_platform.gates.reasons import INVALID_CHARACTER, PRIORITY
from credit_platform.gates.structure import REF, ROW
from credit_platform.standards.identifiers import (
    BIRTH_MIN,
    ID_CHECK,
    ID_RE,
    ID_WEIGHTS,
    ORG_RE,
    ORG_WEIGHTS,
    USCC_CHARSET,
    USCC_RE,
    USCC_VALUE,
    USCC_WEIGHTS,
)

RECEIVED = "__received_on"
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


def date_expr(code: str) -> pl.Expr:
    # YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD (one- or two-digit month/day) and YYYYMMDD; impossible dates → null
    col = pl.col(code)
    dashed = col.str.replace_all(r"[/.]", "-").str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(dashed, col.str.to_date("%Y%m%d", strict=False)).alias(_d(code))


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
            out.append(date_expr(f.code))
        elif f.type == "decimal":
            c = pl.col(f.code)
            out.append(pl.when(c.str.contains(_NUMBER)).then(c.cast(pl.Float64, strict=False)).alias(_n(f.code)))
        elif f.type == "multicode":
            out.append(_split_expr(f.code, cat.code_lists[f.code_list]))
    return out


# --- identifier check digits, vectorised ---------------------------------------------------------


_FORMAT = {"uscc": USCC_RE.pattern, "resident_id": ID_RE.pattern, "org_code": ORG_RE.pattern}


def _lut(mapping: dict[str, int]) -> np.ndarray:
    lut = np.zeros(256, dtype=np.int64)
    for ch, v in mapping.items():
        lut[ord(ch)] = v
    return lut


_DIGITS = {str(i): i for i in range(10)}
_ORG_VALUES = {**_DIGITS, **{chr(c): c - 55 for c in range(ord("A"), ord("Z") + 1)}}
_CHECK = {
    # kind: (length, value table, weights, modulus, check characters indexed by the computed value)
    "uscc": (18, _lut(USCC_VALUE), np.array(USCC_WEIGHTS), 31,
             np.frombuffer(("".join(USCC_CHARSET[(31 - r) % 31] for r in range(31))).encode(), dtype=np.uint8)),
    "resident_id": (18, _lut(_DIGITS), np.array(ID_WEIGHTS), 11, np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)),
    "org_code": (9, _lut(_ORG_VALUES), np.array(ORG_WEIGHTS), 11,
                 np.frombuffer("".join("X" if 11 - r == 10 else "0" if 11 - r == 11 else str(11 - r)
                                       for r in range(11)).encode(), dtype=np.uint8)),
}


def identifier_flags(values: pl.Series, kind: str) -> tuple[pl.Series, pl.Series]:
    """(format ok, check character ok) for a column of normalised identifiers.

    The check digit is computed with numpy over the fixed-width bytes of the well-formed values: one
    matrix product per column instead of a Python call per record.
    """
    fmt = values.str.contains(_FORMAT[kind]).fill_null(False)
    if kind == "resident_id":
        # a birth date that is no calendar day (month 13, 30 February, 1800) is a wrong number whatever its
        # check digit says (standards.identifiers.resident_id_birth_date_ok)
        born = values.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
        fmt = fmt & born.is_between(BIRTH_MIN, date.today()).fill_null(False)
    good = np.zeros(len(values), dtype=bool)
    well_formed = values.filter(fmt)
    if kind == "org_code":
        well_formed = well_formed.str.replace("-", "", literal=True)
    if len(well_formed):
        width, lut, weights, modulus, check_chars = _CHECK[kind]
        arr = well_formed.cast(pl.Binary).to_arrow()
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(-1, width)
        expected = check_chars[(lut[data[:, : width - 1]] @ weights) % modulus]
        good[np.flatnonzero(fmt.to_numpy())] = data[:, width - 1] == expected
    return fmt, pl.Series(good)


def identifier_checks(kind: str, col: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Expression form of `identifier_flags` (format ok, check ok) for ad-hoc frames."""
    def run(s: pl.Series, part: int) -> pl.Series:
        return identifier_flags(s, kind)[part]

    fmt = col.map_batches(lambda s: run(s, 0), return_dtype=pl.Boolean)
    chk = col.map_batches(lambda s: run(s, 1), return_dtype=pl.Boolean)
    return fmt, chk


def _fmt(code: str) -> str:
    return f"__fmt__{code}"


def _chk(code: str) -> str:
    return f"__chk__{code}"


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One catalog rule: `fails` is true on the rows that break it."""

    field: str
    reason: str
    fails: pl.Expr


def field_rules(f: FieldSpec, item: Item, cat: Catalog, nul_rule: bool = True) -> list[Rule]:
    col = pl.col(f.code)
    given = col.is_not_null()
    rules: list[Rule] = []

    def add(reason: str, fails: pl.Expr) -> None:
        rules.append(Rule(f.code, reason, fails.fill_null(False)))

    if nul_rule:
        add(INVALID_CHARACTER, col.str.contains("\x00", literal=True))
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
        fmt, check = pl.col(_fmt(f.code)), pl.col(_chk(f.code))
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


def item_rules(item: Item, cat: Catalog, nul_rule: bool = True) -> list[Rule]:
    return [r for f in item.fields for r in field_rules(f, item, cat, nul_rule)]


# --- pandera schema ----------------------------------------------------------------------------


def _reason(code: str) -> str:
    return f"__reason__{code}"


def reason_expr(rules: list[Rule]) -> pl.Expr:
    """The highest-priority failing reason of one field (null when the field passes)."""
    ordered = sorted(rules, key=lambda r: PRIORITY[r.reason])
    expr = pl.when(ordered[0].fails).then(pl.lit(ordered[0].reason))
    for r in ordered[1:]:
        expr = expr.when(r.fails).then(pl.lit(r.reason))
    return expr.otherwise(pl.lit(None, dtype=pl.Utf8))


@dataclass(frozen=True)
class Compiled:
    """An item's rules, derived columns and pandera schema, built once per item."""

    rules: list[Rule]
    derived: list[pl.Expr]
    reasons: list[pl.Expr]
    identifiers: list[tuple[str, str]]  # (field code, identifier kind)
    schema: pa.DataFrameSchema


def _passes(reason_col: str):
    return lambda data: data.lazyframe.select(pl.col(reason_col).is_null())


@cache
def compiled(item_code: str, nul_rule: bool = True) -> Compiled:
    """`nul_rule=False`: the variant for a chunk whose probe found no NUL (the rule would only cost time)."""
    cat = catalog()
    item = cat.item(item_code)
    rules = item_rules(item, cat, nul_rule)
    by_field: dict[str, list[Rule]] = {}
    for rule in rules:
        by_field.setdefault(rule.field, []).append(rule)
    # All rules of all fields are evaluated in one parallel polars pass into per-field reason columns;
    # the pandera schema checks those columns lazily, so one validation collects every failing record.
    columns = {f.code: pa.Column(pl.Utf8, nullable=True, checks=(
        [pa.Check(_passes(_reason(f.code)), name="record_contract")] if f.code in by_field else []))
        for f in item.fields}
    columns[DUP_FIRST] = pa.Column(pl.Int64, nullable=True, checks=[pa.Check(
        lambda data: data.lazyframe.select(pl.col(DUP_FIRST).is_null()), name="duplicate_in_batch")])
    schema = pa.DataFrameSchema(columns, name=item_code, strict=False)
    reasons = [reason_expr(rs).alias(_reason(code)) for code, rs in by_field.items()]
    identifiers = [(f.code, f.identifier) for f in item.fields if f.type == "identifier"]
    return Compiled(rules, derived_columns(item, cat), reasons, identifiers, schema)


def schema_for(item_code: str) -> pa.DataFrameSchema:
    """The generated pandera schema of an item (for inspection: `print(schema_for("administrative_penalty"))`)."""
    return compiled(item_code, True).schema


# --- validation --------------------------------------------------------------------------------


@dataclass
class Validated:
    """One validated chunk: the normalised frame, which rows pass, and one reason per failing (row, field)."""

    frame: pl.DataFrame  # normalised catalog columns + ROW (1-based data row number)
    accepted: pl.Series  # boolean per row
    rejections: pl.DataFrame  # row, field, reason, value, other (extra detail)
    masked: dict[str, int] = field(default_factory=dict)  # field code → values an ID number was masked in


@dataclass
class DuplicateTracker:
    """Remembers natural keys across the chunks of one batch; duplicates reject the later rows."""

    seen: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"__key_hash": pl.UInt64, DUP_FIRST: pl.Int64}))

    def mark(self, df: pl.DataFrame, key: list[str]) -> pl.DataFrame:
        complete = pl.all_horizontal([pl.col(k).is_not_null() for k in key])
        h = pl.when(complete).then(pl.concat_str(key, separator="\x1f").hash(seed=7))
        out = df.with_columns(h.alias("__key_hash"))
        out = out.with_columns(pl.col(ROW).min().over("__key_hash").alias("__chunk_first"))
        dup = pl.when(pl.col("__key_hash").is_not_null() & (pl.col("__chunk_first") < pl.col(ROW)))
        out = out.with_columns(dup.then(pl.col("__chunk_first")).alias(DUP_FIRST))
        if self.seen.height:  # keys already seen in earlier chunks: the first row is there
            earlier = out.select(ROW, "__key_hash").join(self.seen, on="__key_hash", how="inner")
            if earlier.height:
                out = out.update(earlier.select(ROW, DUP_FIRST), on=ROW, how="left")
        firsts = out.filter(pl.col("__key_hash").is_not_null() & pl.col(DUP_FIRST).is_null())
        self.seen = pl.concat([self.seen, firsts.select("__key_hash", pl.col(ROW).alias(DUP_FIRST))])
        return out.drop("__key_hash", "__chunk_first")


def validate_frame(item: Item, raw: pl.DataFrame, received_on: date, row_offset: int = 0,
                   tracker: DuplicateTracker | None = None, cat: Catalog | None = None,
                   rows: pl.Series | None = None) -> Validated:
    """Validate one chunk of a batch. `raw` has the item's field codes as (string) columns; `rows` gives the
    records' 1-based row numbers in the file (default: consecutive from `row_offset`)."""
    cat = cat or catalog()
    missing = [c for c in item.codes if c not in raw.columns]
    if missing:  # optional columns absent from the file: treat as empty (gate 0 already rejected required ones)
        raw = raw.with_columns([pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing])
    # ID numbers outside the personal-ID fields (typed into a USCC column, a remark…) are masked before any
    # rule sees them: what is staged, quarantined or quoted in a message never holds them in clear (a masked
    # value in an identifier field then fails its format and is rejected, which is what it is: wrong data)
    fields = raw.select(item.codes)
    found = probe(fields, item.fields)
    masked: dict[str, int] = {}
    df = normalize(fields, item.fields, scan_ids=[f.code for f in item.fields if not f.personal_id], found=found,
                   masked=masked)
    if REF in raw.columns:  # a returned feedback workbook: each row's 记录编号 travels beside the fields
        df = df.with_columns(raw.get_column(REF).cast(pl.Utf8).str.strip_chars().replace("", None).alias(REF))
    row_numbers = (rows.cast(pl.Int64).alias(ROW) if rows is not None
                   else pl.int_range(row_offset + 1, row_offset + df.height + 1, dtype=pl.Int64).alias(ROW))
    df = df.with_columns(row_numbers, pl.lit(received_on).alias(RECEIVED))
    # A blank line is not a record; its row number stays used so later rows keep the clerk's numbering.
    blank = blank_rows(df, item.codes)
    if blank.any():
        df = df.filter(~blank)
    comp = compiled(item.code, bool(found.nul))  # positional: one cache entry per variant
    work = df.with_columns(comp.derived)
    id_cols = []
    for code, kind in comp.identifiers:
        fmt, chk = identifier_flags(work.get_column(code), kind)
        id_cols += [fmt.alias(_fmt(code)), chk.alias(_chk(code))]
    work = work.with_columns(id_cols)
    work = (tracker or DuplicateTracker()).mark(work, item.natural_key)
    work = work.with_columns(comp.reasons)
    try:
        comp.schema.validate(work, lazy=True)
        failures = pl.DataFrame(schema={"index": pl.Int64, "column": pl.Utf8})
    except SchemaErrors as err:
        fc = err.failure_cases
        known = pl.col("check").is_in(["record_contract", "duplicate_in_batch"])
        if fc.filter(~known).height:  # a schema-level failure would mean a bug in the generated schema itself
            raise RuntimeError(f"contract schema for {item.code} failed structurally: {fc.filter(~known).head(5)}"
                               ) from err
        failures = fc.select(pl.col("index").cast(pl.Int64), "column")
    rejections = reduce_failures(failures, work, item)
    rejected_rows = rejections.get_column("row").unique()
    accepted = ~work.get_column(ROW).is_in(rejected_rows.implode())
    return Validated(frame=df.drop(RECEIVED), accepted=accepted, rejections=rejections, masked=masked)


def reduce_failures(failures: pl.DataFrame, work: pl.DataFrame, item: Item) -> pl.DataFrame:
    """One row per failing (row, field) with its reason and the normalised value (for messages)."""
    out = {"row": [], "field": [], "reason": [], "value": [], "first_row": []}
    for (col,), part in failures.group_by(["column"]):
        idx = part.get_column("index")
        picked = work.select(ROW, DUP_FIRST, *(() if col == DUP_FIRST else (col, _reason(col)))).gather(idx)
        out["row"].append(picked.get_column(ROW))
        out["first_row"].append(picked.get_column(DUP_FIRST))
        if col == DUP_FIRST:
            out["field"].append(pl.repeat("*", len(idx), eager=True, dtype=pl.Utf8))
            out["reason"].append(pl.repeat("duplicate_in_batch", len(idx), eager=True, dtype=pl.Utf8))
            out["value"].append(pl.repeat(None, len(idx), eager=True, dtype=pl.Utf8))
        else:
            out["field"].append(pl.repeat(col, len(idx), eager=True, dtype=pl.Utf8))
            out["reason"].append(picked.get_column(_reason(col)))
            out["value"].append(picked.get_column(col))
    if not out["row"]:
        return pl.DataFrame(schema={"row": pl.Int64, "field": pl.Utf8, "reason": pl.Utf8, "value": pl.Utf8,
                                    "first_row": pl.Int64})
    return pl.DataFrame({k: pl.concat(v).alias(k) for k, v in out.items()}).sort(["row", "field"])

