"""Catalog evolution as migrations: each change of an item in `contracts/catalog/` becomes named steps that alter
its landing table once, recorded in `landing.migrations` (step, applied_at, checksum), with the data kept.

The catalog as last applied is kept per item in `landing.catalog_applied`; the next load compares the current
catalog with it (`plan`) and runs the steps in the same transaction as the record:

- a new item → its table; a new optional field → its column(s); a field renamed (`renamed_from:` on the new
  field) → the new column filled from the old one, which stays as a deprecated column; a removed optional field →
  its column stays, commented deprecated, no longer loaded;
- a code added to (or removed from) a code list, a longer `max_length`, a changed `required` → no DDL, recorded;
- a date or decimal field becoming a string → its column widened to text;
- refused (`MigrationRefused`, naming the item and field): a removed required field, a new required field on a
  table that already holds rows, any other change of a column's type (text → date, hash ↔ clear value …).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from credit_platform.catalog.items import Catalog, FieldSpec, Item
from credit_platform.landing.schema import SCHEMA, field_columns, table_ddl


class MigrationRefused(RuntimeError):
    """A catalog change the landing data cannot follow; the message names the item and the field."""


@dataclass(frozen=True)
class Step:
    item: str
    change: str                     # "add field CF_X", "code list of CF_Y adds 罚金", …
    statements: tuple[str, ...] = ()

    @property
    def checksum(self) -> str:
        return hashlib.md5("\n".join((self.item, self.change, *self.statements)).encode()).hexdigest()


def field_state(f: FieldSpec, cat: Catalog) -> dict:
    return {"type": f.type, "columns": [[c.name, c.sql_type] for c in field_columns(f)], "required": f.required,
            "max_length": f.max_length, "values": cat.code_lists[f.code_list].values if f.code_list else None}


def item_state(item: Item, cat: Catalog) -> dict:
    return {"fields": {f.code: field_state(f, cat) for f in item.fields}, "deprecated": {}}


def plan(item: Item, cat: Catalog, applied: dict | None, existing_columns: dict[str, str] | None,
         has_rows: bool) -> tuple[list[Step], dict]:
    """The steps from `applied` (None: never recorded) to the item as the catalog has it now, and the new state.
    `existing_columns` (name → type) is the table as it is, None when it does not exist."""
    table = f"{SCHEMA}.{item.table}"
    new = item_state(item, cat)
    if existing_columns is None:
        return [Step(item.code, "add item", (table_ddl(item),))], new
    if applied is None:  # a table from before migrations were recorded: what it holds is the baseline
        states = {f.code: field_state(f, cat) for f in item.fields}
        applied = {"fields": {code: s for code, s in states.items()
                              if all(c in existing_columns for c, _ in s["columns"])}, "deprecated": {}}
        steps = [Step(item.code, "baseline (table from before recorded migrations)")]
    else:
        steps = []
    old_fields, deprecated = applied["fields"], dict(applied.get("deprecated", {}))
    renamed = {f.renamed_from: f.code for f in item.fields
               if f.renamed_from and f.renamed_from in old_fields and f.code not in old_fields}
    for f in item.fields:
        n = new["fields"][f.code]
        if f.code in old_fields:
            steps += _changed(item, f.code, old_fields[f.code], n)
        elif f.code in renamed.values():
            old_code = f.renamed_from
            o = old_fields[old_code]
            if len(o["columns"]) != len(n["columns"]) or [t for _, t in o["columns"]] != [t for _, t in n["columns"]]:
                raise MigrationRefused(f"item {item.code}: field {f.code} renamed from {old_code} changes its type"
                                       f" ({o['type']} → {n['type']}); rename and retype in two catalog changes")
            statements = []
            for (old_col, _), (new_col, sql_type) in zip(o["columns"], n["columns"], strict=True):
                statements += [f"alter table {table} add column {new_col} {sql_type}",
                               f"update {table} set {new_col} = {old_col}",
                               f"comment on column {table}.{old_col} is 'deprecated: renamed to {f.code}'"]
            steps.append(Step(item.code, f"rename field {old_code} to {f.code}", tuple(statements)))
            deprecated[old_code] = [c for c, _ in o["columns"]]
            steps += _changed(item, f.code, {**o, "columns": n["columns"]}, n)
        else:
            if f.required and has_rows:
                raise MigrationRefused(
                    f"item {item.code}: field {f.code} is new and required, but {table} already holds rows that"
                    " cannot have it; add it as optional (required: false)")
            statements = [f"alter table {table} add column if not exists {c} {t}" for c, t in n["columns"]]
            steps.append(Step(item.code, f"add field {f.code}", tuple(statements)))
    for code, o in old_fields.items():
        if code in new["fields"] or code in renamed:
            continue
        if o["required"]:
            raise MigrationRefused(
                f"item {item.code}: field {code} is required in the applied catalog and cannot be removed; make it"
                " optional first (its own change), or give its successor `renamed_from: " + code + "`")
        statements = [f"comment on column {table}.{c} is 'deprecated: removed from the catalog'"
                      for c, _ in o["columns"]]
        steps.append(Step(item.code, f"remove field {code} (column kept, deprecated)", tuple(statements)))
        deprecated[code] = [c for c, _ in o["columns"]]
    for code in new["fields"]:
        deprecated.pop(code, None)  # a field that came back is live again
    new["deprecated"] = deprecated
    return steps, new


def _changed(item: Item, code: str, o: dict, n: dict) -> list[Step]:
    table = f"{SCHEMA}.{item.table}"
    steps = []
    if o["columns"] != n["columns"]:
        widened = (len(o["columns"]) == len(n["columns"]) == 1 and n["columns"][0][1] == "text"
                   and o["columns"][0][0] == n["columns"][0][0])
        if not widened:
            raise MigrationRefused(
                f"item {item.code}: field {code}: type change {o['type']} → {n['type']} is not compatible with the"
                f" data in {table} ({_cols(o)} → {_cols(n)}); add a new field and remove this one instead")
        col = n["columns"][0][0]
        steps.append(Step(item.code, f"widen field {code} from {o['type']} to {n['type']}",
                          (f"alter table {table} alter column {col} type text using {col}::text",)))
    if o["values"] != n["values"] and n["values"] is not None:
        added = [v for v in n["values"] if v not in (o["values"] or [])]
        removed = [v for v in (o["values"] or []) if v not in n["values"]]
        what = "; ".join(x for x in (f"adds {'、'.join(added)}" if added else "",
                                     f"drops {'、'.join(removed)}" if removed else "") if x)
        steps.append(Step(item.code, f"code list of {code} {what or 'reordered'}"))
    if o["max_length"] != n["max_length"]:
        steps.append(Step(item.code, f"max_length of {code} {o['max_length']} → {n['max_length']}"))
    if o["required"] != n["required"]:
        steps.append(Step(item.code, f"{code} {'required' if n['required'] else 'optional'}"))
    if o["type"] != n["type"] and o["columns"] == n["columns"]:
        steps.append(Step(item.code, f"type of {code} {o['type']} → {n['type']} (same column)"))
    return steps


def _cols(state: dict) -> str:
    return ", ".join(f"{c} {t}" for c, t in state["columns"])


def migrate(conn, cat: Catalog) -> list[str]:
    """Bring every landing table to the catalog; returns the names of the steps run (and recorded)."""
    applied = dict(conn.execute(f"select item_code, state from {SCHEMA}.catalog_applied").fetchall())
    seq = conn.execute(f"select count(*) from {SCHEMA}.migrations").fetchone()[0]
    done = []
    for item in cat.items.values():
        columns = dict(conn.execute(
            "select column_name, data_type from information_schema.columns where table_schema = %s"
            " and table_name = %s", (SCHEMA, item.table)).fetchall()) or None
        has_rows = bool(columns) and conn.execute(f"select exists (select from {SCHEMA}.{item.table})").fetchone()[0]
        steps, state = plan(item, cat, applied.get(item.code), columns, has_rows)
        for step in steps:
            for sql in step.statements:
                conn.execute(sql)
            seq += 1
            name = f"{seq:04d} {step.item}: {step.change}"
            conn.execute(f"insert into {SCHEMA}.migrations (step, checksum) values (%s, %s)", (name, step.checksum))
            done.append(name)
        if steps or applied.get(item.code) != state:
            conn.execute(f"insert into {SCHEMA}.catalog_applied (item_code, state) values (%s, %s)"
                         " on conflict (item_code) do update set state = excluded.state, applied_at = now()",
                         (item.code, json.dumps(state, ensure_ascii=False)))
    return done
