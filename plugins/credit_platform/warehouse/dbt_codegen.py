"""dbt code generated from the catalog and the registry (never hand-copied).

Generated: the landing sources with their tests, one typed staging model per catalog item
(`stg_landing__<item>` + YAML), one golden-record mart per item (`fct_<item>` + YAML with an enforced
contract), the reference seeds (units, offices, regions, catalog items) and a macro listing the items and the
fields compared for conflicts. Adding an item to the catalog adds all of these with no SQL written by hand.
`write_all()` writes them; `stale_files()` lists generated files that differ from what the catalog
produces now (`credit-platform contracts check` and a test fail on it).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from credit_platform.catalog.items import Catalog, Item, catalog
from credit_platform.catalog.registry import Registry, registry
from credit_platform.landing.schema import SCHEMA, Column, item_columns
from credit_platform.settings import dbt_project_dir

# inside the dbt project
GENERATED_SUBDIR = Path("models") / "staging" / "landing"
ITEM_MARTS_SUBDIR = Path("models") / "marts" / "items"
SEEDS_SUBDIR = Path("seeds") / "reference"
MACROS_SUBDIR = Path("macros") / "generated"
HEADER = ("# GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.\n"
          "# A test fails when this file is stale.\n")


def _column(col, cat: Catalog, checks: dict) -> dict:
    """A source column's description and its own tests; not-null, code-list and USCC checks are collected into
    `checks` and run as table-level tests (one scan of the table instead of one per column)."""
    entry: dict = {"name": col.name}
    tests: list = []
    f = col.field
    if col.kind == "provenance":
        entry["description"] = "provenance"
        if col.name in ("batch_id", "row_no", "unit_code", "channel", "received_at", "natural_key_hash"):
            checks["not_null"].append(col.name)
    else:
        entry["description"] = f"{f.name}（{f.code}）" + ("，HMAC" if col.kind == "hash" else
                                                       "，脱敏显示" if col.kind == "masked" else "")
        if f.required and col.kind != "masked":
            checks["not_null"].append(col.name)
        if f.type == "code" and col.kind == "value":
            cl = cat.code_lists[f.code_list]
            checks["code_values"][col.name] = {"values": cl.values, "other_prefix": cl.other_prefix}
        if col.kind == "masked":
            tests.append("credit_is_masked")
        if f.identifier == "uscc" and col.kind == "value":
            checks["uscc"].append(col.name)
    if tests:
        entry["data_tests"] = tests
    return entry


def sources_yaml(cat: Catalog) -> str:
    tables = []
    for item in cat.items.values():
        checks: dict = {"not_null": [], "code_values": {}, "uscc": []}
        columns = [_column(c, cat, checks) for c in item_columns(item)]
        uscc = checks.pop("uscc")
        tables.append({
            "name": item.table,
            "description": f"{item.name_zh}（{item.category}，{'基础目录' if item.catalog == 'base' else '补充目录'}，"
                           f"{item.version}版）",
            "columns": columns,
            "data_tests": [{"unique": {"arguments": {"column_name": "batch_id || '-' || row_no"}}},
                           {"credit_required_and_codes": {"arguments": checks}}]
                          # every USCC column in one scan (three scans of 10M rows took 100 s of a full build)
                          + ([{"credit_valid_uscc": {"arguments": {"columns": uscc}}}] if uscc else []),
        })
    tables += LEDGER_SOURCES
    doc = {"version": 2, "sources": [{"name": "landing", "schema": SCHEMA,
                                      "description": "Records that passed the catalog contracts, one table per item,"
                                                     " and the ledger tables of the landing schema.",
                                      "tables": tables}]}
    return HEADER + yaml.dump(doc, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)


SQL_HEADER = ("-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.\n"
              "-- A test fails when this file is stale.\n")

# Ledger tables of the landing schema that the warehouse reads (not generated from items).
LEDGER_SOURCES = [
    {"name": "batches", "description": "The ledger: one row per batch received (counts, status, times).",
     "columns": [{"name": "batch_id", "data_tests": ["unique", "not_null"]}]},
    {"name": "rejections", "description": "Every rejected record with its reason (one row per field)."},
    {"name": "calendar",
     "description": "China's official working-day calendar (contracts/calendar.yaml + chinesecalendar).",
     "columns": [{"name": "day", "data_tests": ["unique", "not_null"]}]},
]

# The roles of active_until, the first one an item has first (an item with neither: null, never expires).
ACTIVE_UNTIL_ROLES = ("publicity_until", "valid_until")
ACTIVE_UNTIL = "|".join(ACTIVE_UNTIL_ROLES)

# Columns every staging model has under the same name, whatever the item calls them (from the field roles).
# (name, type, roles, description); roles joined by "|": the first field an item has of them, coalesced with the
# next ones (active_until); an item with none has null.
STANDARD_COLUMNS: list[tuple[str, str, str, str]] = [
    ("decision_date", "date", "decision_date", "决定/认定/列入日期 (role decision_date)"),
    ("document_no", "text", "document_no", "文书号/案号 (role document_no)"),
    ("subject_name", "text", "subject_name", "主体名称 (role subject_name)"),
    ("subject_category", "text", "subject_category", "主体类别 (role subject_category)"),
    ("subject_uscc", "text", "subject_uscc", "主体统一社会信用代码 (role subject_uscc)"),
    ("subject_reg_no", "text", "subject_reg_no", "主体工商注册号 (role subject_reg_no)"),
    ("subject_org_code", "text", "subject_org_code", "主体组织机构代码 (role subject_org_code)"),
    ("subject_person_hash", "text", "person_id", "自然人证件号码 HMAC (role person_id)"),
    ("subject_person_masked", "text", "person_id", "自然人证件号码脱敏 (role person_id)"),
    ("authority_uscc", "text", "authority_uscc", "决定机关统一社会信用代码 (role authority_uscc)"),
    ("region_code", "text", "region_code", "区划代码 (role region_code)"),
    # a case's state only moves forward (survivorship of stateful items, docs/warehouse.md)
    ("state_date", "date", "removal_date|resolution_date",
     "the day a case's state took effect: 删除（退出）日期, else 化解日期 (roles removal_date, resolution_date);"
     " empty while it is open"),
    # a credit profile counts the record as active until this day; narrow, so the profile reads it from the
    # subject bridge instead of probing each item's wide fact table
    ("active_until", "date", ACTIVE_UNTIL, "公示截止期, else 有效期: active in the credit profile until this day"
                                          " (roles publicity_until, valid_until)"),
]
PROVENANCE = ["batch_id", "row_no", "unit_code", "channel", "received_at", "natural_key_hash", "on_time"]
PROVENANCE_TYPES = {"batch_id": "text", "row_no": "integer", "unit_code": "text", "channel": "text",
                    "received_at": "timestamp with time zone", "natural_key_hash": "text", "on_time": "boolean"}


class _PlainDumper(yaml.SafeDumper):
    """No anchors or aliases: every column shows its own allowed values, readable without YAML tricks."""

    def ignore_aliases(self, data) -> bool:
        return True


def _dump(doc: dict) -> str:
    return HEADER + yaml.dump(doc, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)


def _value_columns(item: Item) -> list[Column]:
    return [c for c in item_columns(item) if c.kind != "provenance"]


def _typed(col: Column) -> str:
    return {"date": "date", "numeric(18, 6)": "numeric(18, 6)"}.get(col.sql_type, "text")


def _role_expr(item: Item, role: str, name: str, sql_type: str) -> str:
    fields = [f for f in (item.by_role(r) for r in role.split("|")) if f is not None]
    if not fields:
        return f"null::{sql_type}"
    if fields[0].personal_id:
        return f"{fields[0].code.lower()}_{'hash' if name.endswith('_hash') else 'masked'}"
    typed = [f"{f.code.lower()}::{sql_type}" for f in fields]
    return typed[0] if len(typed) == 1 else f"coalesce({', '.join(typed)})"


# a remark says something about the report, not the fact: the one field whose difference is no conflict
NOT_COMPARED_NAMES = frozenset({"备注"})


def conflict_columns(item: Item) -> list[str]:
    """Fields compared across the copies of one fact: every field but the remark (备注) and the masked display
    form (its hash is compared). A different amount, date, code, subject or text of the decision (处罚内容,
    暂扣或吊销证照, a registration number) is a conflict; a different remark is not."""
    return [c.name for c in _value_columns(item)
            if c.kind != "masked" and c.field.name not in NOT_COMPARED_NAMES]


def staging_sql(item: Item) -> str:
    cols = [f"'{item.code}'::text as item_code", *PROVENANCE]
    cols.append("(received_at at time zone 'Asia/Shanghai')::date as received_date")
    cols += [f"{c.name}::{_typed(c)} as {c.name}" for c in _value_columns(item)]
    cols += [f"{_role_expr(item, role, name, t)} as {name}" for name, t, role, _d in STANDARD_COLUMNS]
    content = ", ".join(c.name for c in _value_columns(item) if c.kind != "masked")
    # hashed by value, column by column (PostgreSQL's hash of each type): no conversion of the row to text, which
    # cost three times as much (3.4 s against 1.1 s per million penalty records, the bulk of a full build's
    # int_record_copies); 64 bits, compared only among the copies of one fact
    cols.append(f"hash_record_extended(row({content}), 0) as record_hash")
    cols.append(f"hash_record_extended(row({', '.join(conflict_columns(item))}), 0) as compared_hash")
    body = ",\n    ".join(cols)
    return (SQL_HEADER + f"-- {item.name_zh}: landing rows typed, catalog names, provenance kept, role columns added.\n"
            f"select\n    {body}\nfrom {{{{ source('landing', '{item.table}') }}}}\n")


def staging_yaml(cat: Catalog) -> str:
    models = []
    for item in cat.items.values():
        # the landing source's tests cover the values; here: one row per landed record, nothing added or lost
        columns = [{"name": "item_code"}] + [{"name": name, "description": "provenance"} for name in PROVENANCE]
        for c in _value_columns(item):
            columns.append({"name": c.name, "description": f"{c.field.name}（{c.field.code}）"
                            + ("，HMAC" if c.kind == "hash" else "，脱敏显示" if c.kind == "masked" else "")})
        for name, _t, _role, desc in STANDARD_COLUMNS:
            columns.append({"name": name, "description": desc})
        columns.append({"name": "record_hash", "description": "64-bit hash of the record's values (copies with"
                                                              " equal values share it)"})
        columns.append({"name": "compared_hash", "description": "64-bit hash of the fields compared for conflicts"})
        models.append({
            "name": f"stg_landing__{item.code}",
            "description": f"{item.name_zh}: every landed copy, typed, with provenance (one row per landed record).",
            # only the model itself: a test that also read the source would be picked with `--select source:…`
            "data_tests": [{"unique": {"arguments": {"column_name": "batch_id || '-' || row_no"}}}],
            "columns": columns,
        })
    return _dump({"version": 2, "models": models})


GOLDEN_COLUMNS: list[tuple[str, str, str]] = [
    ("copies", "integer", "landed copies of this fact (every unit, channel, batch; corrections included)"),
    ("reporting_units", "integer", "distinct units that reported it"),
    ("winning_batch_id", "text", "batch of the copy the survivorship rule chose"),
    ("winning_row_no", "integer", "row of that copy in its batch"),
    ("winning_unit_code", "text", "unit of that copy"),
    ("winning_channel", "text", "channel of that copy"),
    ("winning_received_at", "timestamp with time zone", "when the platform received that copy"),
    ("first_received_at", "timestamp with time zone", "first copy received"),
    ("last_received_at", "timestamp with time zone", "last copy received"),
    ("has_conflicts", "boolean", "copies differ in a compared field (see fct_value_conflicts)"),
]


def item_mart_sql(item: Item) -> str:
    return (SQL_HEADER + f"-- {item.name_zh}: one row per fact (golden record), rule in docs/warehouse.md.\n"
            "-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).\n"
            "-- depends_on: {{ ref('int_touched_keys') }}\n"
            "{{ config(materialized='incremental', incremental_strategy='credit_golden',"
            " on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}],"
            " pre_hook='{{ credit_prefer_hash_join() }}') }}\n"
            f"{{{{ golden_record('{item.code}', {[c.name for c in _value_columns(item)]!r}) }}}}\n")


def item_marts_yaml(cat: Catalog) -> str:
    models = []
    for item in cat.items.values():
        columns = [{"name": "natural_key_hash", "data_type": "text",
                    "description": "hash of the natural key (" + "、".join(item.names[k] for k in item.natural_key)
                                   + ")",
                    "constraints": [{"type": "not_null"}]}]
        for c in _value_columns(item):
            entry = {"name": c.name, "data_type": _typed(c),
                     "description": f"{c.field.name}（{c.field.code}）"
                     + ("，HMAC" if c.kind == "hash" else "，脱敏显示" if c.kind == "masked" else "")}
            if c.kind == "masked":
                entry["data_tests"] = ["credit_is_masked"]
            columns.append(entry)
        for name, typ, desc in GOLDEN_COLUMNS:
            entry = {"name": name, "data_type": typ, "description": desc}
            if name not in ("has_conflicts",):
                entry["constraints"] = [{"type": "not_null"}]
            columns.append(entry)
        models.append({
            "name": f"fct_{item.code}",
            "description": f"{item.name_zh}: one golden record per natural key across every copy reported.",
            "config": {"contract": {"enforced": True}},
            # (natural_key_hash has a unique index: tests/generic/credit_unique_index.sql)
            "data_tests": [{"credit_unique_index": {"arguments": {"columns": ["natural_key_hash"]}}},
                           {"credit_copies_add_up": {"arguments": {"item_code": item.code}}}],
            "columns": columns,
        })
    return _dump({"version": 2, "models": models})


def _csv(header: list[str], rows: list[list]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


def seed_files(cat: Catalog, reg: Registry) -> dict[str, str]:
    units = [[u.code, u.name_zh, u.level, u.region, u.uscc, u.supervising_office,
              " ".join(u.channel_names), " ".join(o.item for o in u.items)] for u in reg.units.values()]
    offices = [[o.code, o.name_zh, o.level, o.region, o.uscc, o.parent] for o in reg.offices.values()]
    regions = [[code, name, "province" if code.endswith("0000") else "city",
                None if code.endswith("0000") else code[:2] + "0000"] for code, name in reg.regions.items()]
    items = [[i.code, i.name_zh, i.category, i.catalog, i.version, i.disclosure, i.sharing, " ".join(i.subject_types),
              i.update_frequency, i.deadline.working_days if i.deadline else None,
              i.deadline.from_ if i.deadline else None, " ".join(i.natural_key)] for i in cat.items.values()]
    seeds = {
        "ref_source_units": (["unit_code", "name_zh", "level", "region_code", "uscc", "supervising_office",
                              "channels", "items"], units),
        "ref_credit_offices": (["office_code", "name_zh", "level", "region_code", "uscc", "parent_office"], offices),
        "ref_regions": (["region_code", "name_zh", "level", "parent_code"], regions),
        "ref_catalog_items": (["item_code", "name_zh", "category", "catalog", "version", "disclosure", "sharing",
                               "subject_types", "update_frequency", "deadline_working_days", "deadline_from",
                               "natural_key"], items),
    }
    out = {f"{name}.csv": _csv(h, rows) for name, (h, rows) in seeds.items()}
    doc = {"version": 2, "seeds": [
        {"name": name, "description": f"GENERATED from contracts/ ({name}); read through its dim_ model.",
         "config": {"column_types": {c: ("integer" if c == "deadline_working_days" else "text") for c in h}}}
        for name, (h, _rows) in seeds.items()]}
    out["_reference__seeds.yml"] = _dump(doc)
    return out


def catalog_macro(cat: Catalog) -> str:
    items = list(cat.items)
    fields = {i.code: conflict_columns(i) for i in cat.items.values()}
    stateful = [i.code for i in cat.items.values() if i.by_role("case_status")]
    return ("{# GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand. #}\n"
            f"{{% macro catalog_items() %}}{{{{ return({items!r}) }}}}{{% endmacro %}}\n"
            f"{{% macro catalog_conflict_columns() %}}{{{{ return({fields!r}) }}}}{{% endmacro %}}\n"
            f"{{% macro catalog_stateful_items() %}}{{{{ return({stateful!r}) }}}}{{% endmacro %}}\n")


def generated(cat: Catalog | None = None, project_dir: Path | None = None,
              reg: Registry | None = None) -> dict[Path, str]:
    cat = cat or catalog()
    reg = reg or registry()
    root = project_dir or dbt_project_dir()
    staging, marts = root / GENERATED_SUBDIR, root / ITEM_MARTS_SUBDIR
    out = {staging / "_landing__sources.yml": sources_yaml(cat)}
    for item in cat.items.values():
        out[staging / f"stg_landing__{item.code}.sql"] = staging_sql(item)
        out[marts / f"fct_{item.code}.sql"] = item_mart_sql(item)
    out[staging / "_stg_landing__models.yml"] = staging_yaml(cat)
    out[marts / "_fct_items.yml"] = item_marts_yaml(cat)
    out.update({root / SEEDS_SUBDIR / name: text for name, text in seed_files(cat, reg).items()})
    out[root / MACROS_SUBDIR / "catalog_items.sql"] = catalog_macro(cat)
    from credit_platform.warehouse import obligation_seed  # the reminders stage's obligations (fct_obligations)

    out[root / obligation_seed.SEED_SUBPATH] = obligation_seed.seed_csv(cat)
    return out


def write_all(cat: Catalog | None = None, reg: Registry | None = None, project_dir: Path | None = None) -> list[Path]:
    out = []
    files = generated(cat, project_dir, reg)
    for path in orphaned(files, project_dir):
        path.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


GENERATED_GLOBS = [(GENERATED_SUBDIR, "stg_landing__*.sql"), (ITEM_MARTS_SUBDIR, "fct_*.sql"), (SEEDS_SUBDIR, "*.csv")]


def orphaned(files: dict[Path, str], project_dir: Path | None = None) -> list[Path]:
    """Generated files of an item no longer in the catalog."""
    project_dir = project_dir or dbt_project_dir()
    return [p for sub, pattern in GENERATED_GLOBS if (project_dir / sub).exists()
            for p in sorted((project_dir / sub).glob(pattern)) if p not in files]


def stale_files(cat: Catalog | None = None, project_dir: Path | None = None, reg: Registry | None = None) -> list[str]:
    project_dir = project_dir or dbt_project_dir()
    files = generated(cat, project_dir, reg)
    bad = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    return [str(p.relative_to(project_dir.parent)) for p in bad + orphaned(files, project_dir)]
