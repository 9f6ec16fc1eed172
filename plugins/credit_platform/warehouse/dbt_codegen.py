"""dbt sources and tests generated from the catalog (never hand-copied).

`write_all()` writes them; `stale_files()` lists generated files that differ from what the catalog
produces now (`credit-platform contracts check` and a test fail on it).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from credit_platform.catalog.items import Catalog, catalog
from credit_platform.landing.schema import SCHEMA, item_columns
from credit_platform.settings import REPO_ROOT

GENERATED_DIR = REPO_ROOT / "dbt_project" / "models" / "staging" / "landing"
HEADER = ("# GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.\n"
          "# A test fails when this file is stale.\n")


def _column(col, cat: Catalog) -> dict:
    entry: dict = {"name": col.name}
    tests: list = []
    f = col.field
    if col.kind == "provenance":
        entry["description"] = "provenance"
        if col.name in ("batch_id", "row_no", "unit_code", "channel", "received_at", "natural_key_hash"):
            tests.append("not_null")
    else:
        entry["description"] = f"{f.name}（{f.code}）" + ("，HMAC" if col.kind == "hash" else
                                                       "，脱敏显示" if col.kind == "masked" else "")
        if f.required and col.kind != "masked":
            tests.append("not_null")
        if f.type == "code" and col.kind == "value":
            cl = cat.code_lists[f.code_list]
            if cl.other_prefix:
                tests.append({"credit_code_value": {"arguments": {"values": cl.values,
                                                                  "other_prefix": cl.other_prefix}}})
            else:
                tests.append({"accepted_values": {"arguments": {"values": cl.values}}})
        if col.kind == "masked":
            tests.append("credit_is_masked")
        if f.identifier == "uscc" and col.kind == "value":
            tests.append("credit_valid_uscc")
    if tests:
        entry["data_tests"] = tests
    return entry


def sources_yaml(cat: Catalog) -> str:
    tables = []
    for item in cat.items.values():
        tables.append({
            "name": item.table,
            "description": f"{item.name_zh}（{item.category}，{'基础目录' if item.catalog == 'base' else '补充目录'}，"
                           f"{item.version}版）",
            "columns": [_column(c, cat) for c in item_columns(item)],
            "data_tests": [{"unique": {"arguments": {"column_name": "batch_id || '-' || row_no"}}}],
        })
    doc = {"version": 2, "sources": [{"name": "landing", "schema": SCHEMA,
                                      "description": "Records that passed the catalog contracts, one table per item.",
                                      "tables": tables}]}
    return HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


def generated(cat: Catalog | None = None) -> dict[Path, str]:
    from credit_platform.warehouse import obligation_seed

    cat = cat or catalog()
    return {GENERATED_DIR / "_landing__sources.yml": sources_yaml(cat),
            obligation_seed.SEED_PATH: obligation_seed.seed_csv(cat)}


def write_all(cat: Catalog | None = None) -> list[Path]:
    out = []
    for path, text in generated(cat).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def stale_files(cat: Catalog | None = None) -> list[str]:
    return [str(p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p)
            for p, text in generated(cat).items() if not p.exists() or p.read_text(encoding="utf-8") != text]
