"""dbt sources and tests generated from the catalog (never hand-copied).

`write_all()` writes them; `stale_files()` lists generated files that differ from what the catalog
produces now (`credit-platform contracts check` and a test fail on it).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from credit_platform.catalog.items import Catalog, catalog
from credit_platform.landing.schema import SCHEMA, item_columns
from credit_platform.settings import dbt_project_dir

GENERATED_SUBDIR = Path("models") / "staging" / "landing"  # inside the dbt project
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
    return HEADER + yaml.dump(doc, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)


class _PlainDumper(yaml.SafeDumper):
    """No anchors or aliases: every column shows its own allowed values, readable without YAML tricks."""

    def ignore_aliases(self, data) -> bool:
        return True


def generated(cat: Catalog | None = None, project_dir: Path | None = None) -> dict[Path, str]:
    from credit_platform.warehouse import obligation_seed  # the reminders stage's obligations (fct_obligations)

    cat = cat or catalog()
    project_dir = project_dir or dbt_project_dir()
    return {project_dir / GENERATED_SUBDIR / "_landing__sources.yml": sources_yaml(cat),
            project_dir / obligation_seed.SEED_SUBPATH: obligation_seed.seed_csv(cat)}


def write_all(cat: Catalog | None = None) -> list[Path]:
    out = []
    for path, text in generated(cat).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def stale_files(cat: Catalog | None = None, project_dir: Path | None = None) -> list[str]:
    project_dir = project_dir or dbt_project_dir()
    return [str(p.relative_to(project_dir.parent)) for p, text in generated(cat, project_dir).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]
