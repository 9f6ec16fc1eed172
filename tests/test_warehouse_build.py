"""The warehouse build is triggered by the landing Assets and its dbt tests hold on ingested data."""

from __future__ import annotations

import psycopg

from credit_platform.catalog.items import catalog
from credit_platform.dev.dag_runner import load_dag_module, run_dag


def test_triggered_by_every_landing_asset_not_the_clock(airflow_db):
    dag = load_dag_module("warehouse_build").warehouse_build()
    ingest = load_dag_module("ingest_units")
    names = {a.name for a in dag.timetable.asset_condition.objects}
    assert names == {f"landing.{code}" for code in catalog().items}
    # every asset an ingest DAG updates is one the build listens to
    # (a load declares its unit's AssetAlias and emits, through it, the Asset of the item it loaded)
    units = list(ingest.registry().units.values())
    assert all({o.name for t in ingest.build(u).tasks for o in t.outlets} == {ingest.landing_alias(u).name}
               for u in units)
    produced = {a.name for u in units for a in ingest.landing_assets(u)}
    assert produced and produced <= names


def test_dbt_build_passes_on_ingested_data(airflow_db):
    from credit_platform import clock
    from credit_platform.dev import simulated_sources
    from credit_platform.dev.generator import GenSpec, generate_rows
    from credit_platform.ingest import landing_load, pipeline

    s = airflow_db
    landing_load.ensure_schema(s)
    # natural persons, code lists, dates and amounts of several items, through the real ingestion
    for item in ("administrative_penalty", "administrative_license", "serious_dishonesty_list"):
        spec = GenSpec(item, 40, seed=77, defect_rate=0.1, received_on=clock.today(), unit_name="辽宁省财政厅",
                       seq_prefix="WB")
        simulated_sources.enter_online(s, "ln_finance", item, [rec for rec, _ in generate_rows(spec)])
    landed = pipeline.extract_and_land(s, "ln_finance", "online_fill")
    assert len(landed) == 3
    for batch in landed:
        assert pipeline.ingest_batch(s, batch)["accepted"] > 0
    run = run_dag(load_dag_module("warehouse_build").warehouse_build())
    assert run.state == "success"
    with psycopg.connect(s.pg_dsn()) as conn:
        loaded = conn.execute("select count(*) from landing.administrative_penalty where unit_code = 'ln_finance'"
                              " and cf_xdr_zjhm_masked is not null").fetchone()[0]
    assert loaded > 0, "the dbt tests ran over natural persons' records"
