"""The Assets DAGs hand data over by are defined once (orchestration/assets.py) and used by both sides."""

from __future__ import annotations

from credit_platform.catalog.items import catalog
from credit_platform.dev.dag_runner import load_dag_module
from credit_platform.orchestration.assets import MARTS_ASSET, landing_asset, landing_assets


def test_one_landing_asset_per_item_and_the_marts_asset_from_the_warehouse_build(airflow_db):
    assert [a.name for a in landing_assets()] == [f"landing.{code}" for code in catalog().items]
    assert landing_asset("administrative_penalty") == landing_assets()[list(catalog().items).index(
        "administrative_penalty")]
    dag = load_dag_module("warehouse_build").warehouse_build()
    assert [o for t in dag.tasks for o in t.outlets] == [MARTS_ASSET]
    assert MARTS_ASSET.name == "warehouse.marts"
