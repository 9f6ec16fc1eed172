"""The gate skips work on columns its one-pass probe finds clean (gates/normalize.py). Skipping must never
change a value: normalisation with the probe equals the plain rule applied to every value, on hostile text."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_platform.catalog.items import catalog
from credit_platform.gates.normalize import _FULL, _HALF, _INVISIBLE, HALF_WIDTH_TYPES, normalize, probe
from credit_platform.standards.pii import redact_ids

ITEM = catalog().item("administrative_penalty")
ALPHABET = [*"0123456789xX aZ.,处罚，", "\u3000", "\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\x00", "\u00a0",
            "\t", "０", "５", "ｘ", "ａ", "Ｚ", "（", "．"]
ID = "110105199001011237"  # a valid resident ID number (check digit 7)
VALUES = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=24),
                   st.sampled_from([ID, f"备注{ID}", " ".join(ID), "１１０１０５１９９００１０１１２３７", f"\u200b{ID}"]))


def plain(value: str | None, f) -> str | None:
    """The rule, value by value, with nothing skipped."""
    if value is None:
        return None
    import re

    v = re.sub(_INVISIBLE, "", value).strip()
    if f.type in HALF_WIDTH_TYPES:
        for a, b in zip(_FULL, _HALF, strict=True):
            v = v.replace(a, b)
        v = v.strip()
    if f.type == "identifier":
        v = v.upper()
    if not f.personal_id:
        v = redact_ids(v)
    return v or None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(*[VALUES] * 7), min_size=1, max_size=6))
def test_probe_skips_nothing_that_needs_work(rows):
    fields = [f for f in ITEM.fields if f.code in ("CF_XDR_MC", "CF_XDR_SHXYM", "CF_XDR_ZJHM", "CF_JDRQ",
                                                   "CF_XDR_LB", "CF_CFLB", "CF_NR_FK")]
    assert {f.type for f in fields} == {"string", "identifier", "date", "code", "multicode", "decimal"}
    df = pl.DataFrame({f.code: [r[i] for r in rows] for i, f in enumerate(fields)}, schema={f.code: pl.Utf8
                                                                                          for f in fields})
    out = normalize(df, fields, scan_ids=[f.code for f in fields if not f.personal_id])
    for f in fields:
        assert out.get_column(f.code).to_list() == [plain(v, f) for v in df.get_column(f.code).to_list()], f.code
    found = probe(df, fields)
    assert found.nul == {f.code for f in fields if df.get_column(f.code).str.contains("\x00", literal=True).any()}


def test_a_chunk_with_a_nul_gets_the_same_decisions_for_its_other_records():
    """The NUL rule is compiled in only for chunks whose probe found a NUL: both variants decide alike."""
    from datetime import date

    from credit_platform.dev.generator import GenSpec, generate_rows
    from credit_platform.gates.record_contract import validate_frame

    spec = GenSpec("administrative_penalty", 400, seed=5, defect_rate=0.3, received_on=date(2026, 11, 20))
    records = [{k: (None if v is None else str(v)) for k, v in rec.items()} for rec, _ in generate_rows(spec)]
    clean = pl.DataFrame({c: [r.get(c) for r in records] for c in ITEM.codes}, schema={c: pl.Utf8 for c in ITEM.codes})
    poisoned = pl.concat([clean, clean.head(1).with_columns(pl.lit("坏\x00值").alias("BZ"))])
    a = validate_frame(ITEM, clean, date(2026, 11, 20)).rejections
    b = validate_frame(ITEM, poisoned, date(2026, 11, 20)).rejections
    assert a.height > 0
    assert b.filter(pl.col("row") <= clean.height).equals(a)
    last = b.filter(pl.col("row") == clean.height + 1)
    assert ("BZ", "invalid_character") in zip(last["field"], last["reason"], strict=True)
