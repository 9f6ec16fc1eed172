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
ALPHABET = [*"0123456789xX aZ处罚，", "\u3000", "\ufeff", "\u200b", "\u2060", "\x00", "\u00a0", "\t", "０", "５",
            "ｘ", "（"]
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
@given(st.lists(st.tuples(*[VALUES] * 4), min_size=1, max_size=6))
def test_probe_skips_nothing_that_needs_work(rows):
    fields = [f for f in ITEM.fields if f.code in ("CF_XDR_MC", "CF_XDR_SHXYM", "CF_XDR_ZJHM", "CF_JDRQ")]
    assert {f.type for f in fields} >= {"string", "identifier", "date"}
    df = pl.DataFrame({f.code: [r[i] for r in rows] for i, f in enumerate(fields)}, schema={f.code: pl.Utf8
                                                                                          for f in fields})
    out = normalize(df, fields, scan_ids=[f.code for f in fields if not f.personal_id])
    for f in fields:
        assert out.get_column(f.code).to_list() == [plain(v, f) for v in df.get_column(f.code).to_list()], f.code
    found = probe(df, fields)
    assert found.nul == {f.code for f in fields if df.get_column(f.code).str.contains("\x00", literal=True).any()}
