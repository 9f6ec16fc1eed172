"""Generated dbt sources: current with the catalog, and their tests really run (and fail) in `dbt build`."""

from __future__ import annotations

import psycopg
import pytest

from credit_platform.catalog.items import catalog
from credit_platform.landing import schema as landing_schema
from credit_platform.warehouse import dbt_build, dbt_codegen


def test_generated_files_are_current():
    assert dbt_codegen.stale_files() == [], "run `credit-platform contracts generate`"


def test_stale_detection_sees_an_edit(tmp_path):
    files = dbt_codegen.write_all(project_dir=tmp_path)
    assert dbt_codegen.stale_files(project_dir=tmp_path) == []
    target = tmp_path / "models/staging/landing/_landing__sources.yml"
    assert target in files
    target.write_text(dbt_codegen.sources_yaml(catalog()) + "# edited\n")
    assert dbt_codegen.stale_files(project_dir=tmp_path) == [f"{tmp_path.name}/models/staging/landing/_landing__sources.yml"]


def test_active_until_comes_from_the_roles_publicity_until_then_valid_until():
    cat = catalog()
    penalty = cat.item("administrative_penalty")
    assert "coalesce(cf_gsjzq::date, cf_yxq::date) as active_until" in dbt_codegen.staging_sql(penalty)
    # one role alone is that field; an item with neither never expires
    only_valid = penalty.model_copy(update={"fields": [f for f in penalty.fields if f.role != "publicity_until"]})
    assert "cf_yxq::date as active_until" in dbt_codegen.staging_sql(only_valid)
    assert "null::date as active_until" in dbt_codegen.staging_sql(cat.item("administrative_license"))


def test_generated_sources_have_no_yaml_anchors_or_aliases():
    import yaml

    text = dbt_codegen.sources_yaml(catalog())
    events = list(yaml.parse(text))
    assert not [e for e in events if isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)]
    # each code column carries its own list of values
    doc = yaml.safe_load(text)
    # (code lists are checked by one test per table, credit_required_and_codes)
    tests = [col for tbl in doc["sources"][0]["tables"] for t in tbl.get("data_tests", [])
             if isinstance(t, dict) and "credit_required_and_codes" in t
             for col in t["credit_required_and_codes"]["arguments"]["code_values"]]
    assert len(tests) > 10


@pytest.fixture
def landing(settings):
    with psycopg.connect(settings.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        landing_schema.ensure(conn, catalog())
        yield conn
        # the planted rows have no ledger batch (one holds an ID number): left behind, they would fail the next
        # suite's source tests and the PII scans
        conn.execute("drop schema landing cascade")


def _insert(conn, masked_id: str) -> None:
    conn.execute(
        "insert into landing.administrative_penalty (batch_id, row_no, unit_code, channel, received_at,"
        " natural_key_hash, cf_xdr_mc, cf_xdr_lb, cf_xdr_zjlx, cf_xdr_zjhm_hash, cf_xdr_zjhm_masked, cf_wsh, cf_wfxw,"
        " cf_sy, cf_yj, cf_cflb, cf_nr, cf_jdrq, cf_yxq, cf_cfjg, cf_cfjgdm, cf_sjly, cf_sjlydm)"
        " values ('b1', 1, 'ln_amr', 'batch_file', now(), 'k', '王某', '自然人', '身份证', 'h', %s, '文号', '类型',"
        " '事实', '依据', '警告', '警告', '2026-11-02', '2027-11-02', '机关', '11230500001755309F', '机关',"
        " '11230500001755309F')", (masked_id,))


def test_dbt_source_tests_pass_on_valid_rows_and_catch_a_clear_id(landing, settings):
    _insert(landing, "2101**********0010")
    ok = dbt_build.build(settings, ["source:landing.administrative_penalty"])
    assert ok.success and len(ok.results) > 5
    landing.execute("delete from landing.administrative_penalty")
    _insert(landing, "210102198001010010")
    bad = dbt_build.build(settings, ["source:landing.administrative_penalty"])
    assert not bad.success
    assert any("credit_is_masked" in node for node, _ in bad.failed())
