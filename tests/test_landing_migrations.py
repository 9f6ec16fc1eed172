"""Catalog evolution as recorded migrations, each case against a landing schema that already holds data."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import polars as pl
import psycopg
import pytest
import yaml

from credit_platform.catalog.items import Catalog, catalog, load_catalog
from credit_platform.landing import schema as landing_schema
from credit_platform.landing.bulk_copy import copy_frame
from credit_platform.landing.migrations import MigrationRefused
from credit_platform.landing.schema import item_columns
from credit_platform.settings import contracts_dir

ITEM = "utility_payment"


def _value(col, i: int):
    if col.sql_type == "date":
        return date(2026, 10, 1 + i % 20)
    if col.sql_type.startswith("numeric"):
        return 10.5 + i
    if col.name == "on_time":
        return True
    if col.name == "row_no":
        return i + 1
    if col.name == "received_at":
        return datetime(2026, 11, 2, tzinfo=UTC)
    return f"{col.name}-{i}"


def load_rows(conn, cat: Catalog, item: str = ITEM, n: int = 3, batch: str = "b0") -> None:
    """Rows as the loader copies them: every column the catalog's item has now."""
    cols = item_columns(cat.item(item))
    frame = pl.DataFrame({c.name: [_value(c, i) for i in range(n)] for c in cols}).with_columns(
        pl.lit(batch).alias("batch_id"))
    copy_frame(conn, f"landing.{cat.item(item).table}", frame)


def edited(tmp_path, edit_item=None, edit_lists=None, new_items: dict | None = None) -> Catalog:
    """A copy of contracts/ with the item's YAML (and the code lists) edited: the catalog an engineer commits."""
    root = tmp_path / "contracts"
    shutil.copytree(contracts_dir(), root)
    path = root / "catalog" / f"{ITEM}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if edit_item:
        edit_item(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if edit_lists:
        lists_path = root / "code_lists.yaml"
        lists = yaml.safe_load(lists_path.read_text(encoding="utf-8"))
        edit_lists(lists)
        lists_path.write_text(yaml.safe_dump(lists, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for code, item_doc in (new_items or {}).items():
        (root / "catalog" / f"{code}.yaml").write_text(yaml.safe_dump(item_doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(root)


def field(doc: dict, code: str) -> dict:
    return next(f for f in doc["fields"] if f["code"] == code)


@pytest.fixture
def db(settings):
    """A landing schema at today's catalog, holding data."""
    with psycopg.connect(settings.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
    with psycopg.connect(settings.pg_dsn()) as conn:
        landing_schema.ensure(conn, catalog())
        load_rows(conn, catalog())
    with psycopg.connect(settings.pg_dsn(), autocommit=True) as conn:
        yield conn


def ensure(conn, cat: Catalog) -> list[str]:
    """Run ensure in its own transaction (as the loader does); returns the steps it recorded."""
    exists = conn.execute("select to_regclass('landing.migrations')").fetchone()[0]
    before = {s for (s,) in conn.execute("select step from landing.migrations").fetchall()} if exists else set()
    with conn.transaction():
        landing_schema.ensure(conn, cat)
    return sorted(s for (s,) in conn.execute("select step from landing.migrations").fetchall() if s not in before)


def columns(conn, table: str = ITEM) -> dict[str, str]:
    return dict(conn.execute("select column_name, data_type from information_schema.columns"
                             " where table_schema = 'landing' and table_name = %s", (table,)).fetchall())


def count(conn, table: str = ITEM) -> int:
    return conn.execute(f"select count(*) from landing.{table}").fetchone()[0]


def test_fresh_schema_records_one_step_per_item_and_reruns_change_nothing(db):
    steps = [s for (s,) in db.execute("select step from landing.migrations where step ~ '^[0-9]'").fetchall()]
    assert len([s for s in steps if s.endswith(": add item")]) == len(catalog().items)
    assert ensure(db, catalog()) == []
    db.execute("update landing.schema_state set version = 'stale'")  # forces a full look: still nothing to do
    assert ensure(db, catalog()) == []


def test_add_optional_field(db, tmp_path):
    cat = edited(tmp_path, lambda d: d["fields"].append({"code": "GY_BZ", "name": "备注", "type": "string",
                                                          "max_length": 200}))
    [step] = ensure(db, cat)
    assert step.endswith(f"{ITEM}: add field GY_BZ")
    assert "gy_bz" in columns(db) and count(db) == 3
    load_rows(db, cat, batch="b1")  # the next load copies the new column
    assert db.execute("select count(gy_bz) from landing.utility_payment").fetchone()[0] == 3


def test_add_code_to_a_code_list_is_recorded_without_ddl(db, tmp_path):
    before = columns(db)
    cat = edited(tmp_path, edit_lists=lambda cl: cl["utility_type"]["values"].append("供暖"))
    [step] = ensure(db, cat)
    assert step.endswith(f"{ITEM}: code list of GY_LX adds 供暖")
    assert columns(db) == before and count(db) == 3
    checksum = db.execute("select checksum from landing.migrations where step = %s", (step,)).fetchone()[0]
    assert len(checksum) == 32


def test_widen_a_length(db, tmp_path):
    cat = edited(tmp_path, lambda d: field(d, "GY_HZMC").update(max_length=400))
    [step] = ensure(db, cat)
    assert step.endswith("max_length of GY_HZMC 200 → 400") and count(db) == 3


def test_widen_a_date_field_to_a_string_keeps_the_values(db, tmp_path):
    cat = edited(tmp_path, lambda d: field(d, "GY_QFQSRQ").update(type="string", max_length=20))
    steps = ensure(db, cat)
    assert any(s.endswith("widen field GY_QFQSRQ from date to string") for s in steps)
    assert columns(db)["gy_qfqsrq"] == "text"
    assert db.execute("select min(gy_qfqsrq) from landing.utility_payment").fetchone()[0] == "2026-10-01"


def test_add_item(db, tmp_path):
    doc = yaml.safe_load((contracts_dir() / "catalog" / f"{ITEM}.yaml").read_text(encoding="utf-8"))
    cat = edited(tmp_path, new_items={"heating_payment": {**doc, "code": "heating_payment", "name_zh": "供暖缴费信息"}})
    [step] = ensure(db, cat)
    assert step.endswith("heating_payment: add item")
    assert "gy_zhbh" in columns(db, "heating_payment") and count(db) == 3
    load_rows(db, cat, "heating_payment")
    assert count(db, "heating_payment") == 3


def test_rename_a_field_moves_the_data_and_keeps_the_old_column_deprecated(db, tmp_path):
    cat = edited(tmp_path, lambda d: field(d, "GY_DQSYR").update(code="GY_DQSYRMC", renamed_from="GY_DQSYR"))
    [step] = ensure(db, cat)
    assert step.endswith("rename field GY_DQSYR to GY_DQSYRMC")
    assert db.execute("select count(*) from landing.utility_payment where gy_dqsyrmc = gy_dqsyr").fetchone()[0] == 3
    assert _comment(db, "gy_dqsyr") == "deprecated: renamed to GY_DQSYRMC"
    load_rows(db, cat, batch="b1")  # the loader writes the new column only
    assert db.execute("select count(*) from landing.utility_payment where gy_dqsyr is null").fetchone()[0] == 3


def test_remove_an_optional_field_keeps_its_column_deprecated(db, tmp_path):
    cat = edited(tmp_path, lambda d: d["fields"].remove(field(d, "GY_DQSYR")))
    [step] = ensure(db, cat)
    assert step.endswith("remove field GY_DQSYR (column kept, deprecated)")
    assert "gy_dqsyr" in columns(db) and _comment(db, "gy_dqsyr") == "deprecated: removed from the catalog"
    load_rows(db, cat, batch="b1")
    assert db.execute("select count(gy_dqsyr) from landing.utility_payment").fetchone()[0] == 3  # the old ones


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d["fields"].remove(field(d, "GY_FCBH")), ["utility_payment", "GY_FCBH", "required"]),
    (lambda d: field(d, "GY_QFQSRQ").update(type="decimal"), ["utility_payment", "GY_QFQSRQ", "date → decimal"]),
    (lambda d: field(d, "GY_HZMC").update(type="date", max_length=None), ["utility_payment", "GY_HZMC",
                                                                             "string → date"]),
    (lambda d: d["fields"].append({"code": "GY_XX", "name": "新必填", "type": "string", "required": True}),
     ["utility_payment", "GY_XX", "holds rows"]),
])
def test_incompatible_changes_are_refused_naming_item_and_field(db, tmp_path, edit, words):
    cat = edited(tmp_path, edit)
    steps_before = db.execute("select count(*) from landing.migrations").fetchone()[0]
    with pytest.raises(MigrationRefused) as err:
        ensure(db, cat)
    for w in words:
        assert w in str(err.value)
    assert db.execute("select count(*) from landing.migrations").fetchone()[0] == steps_before
    assert count(db) == 3


def test_a_table_from_before_recorded_migrations_gets_a_baseline_and_its_missing_columns(db):
    db.execute("drop table landing.catalog_applied")
    db.execute("drop table landing.migrations")
    db.execute("alter table landing.utility_payment drop column gy_dqsyr")  # a field added since, say
    db.execute("update landing.schema_state set version = 'an older one'")
    steps = ensure(db, catalog())
    assert any(s.endswith(f"{ITEM}: baseline (table from before recorded migrations)") for s in steps)
    assert any(s.endswith(f"{ITEM}: add field GY_DQSYR") for s in steps)
    assert "gy_dqsyr" in columns(db) and count(db) == 3
    assert ensure(db, catalog()) == []


def _comment(conn, column: str) -> str | None:
    return conn.execute("select col_description('landing.utility_payment'::regclass, ordinal_position)"
                        " from information_schema.columns where table_schema = 'landing'"
                        " and table_name = 'utility_payment' and column_name = %s", (column,)).fetchone()[0]
