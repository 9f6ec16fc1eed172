"""Airflow Assets that link the stages (defined once; DAG files import them).

ingest__<unit> ─(landing.<item>)─► warehouse_build ─(warehouse.marts)─► reports / reminders
"""

from __future__ import annotations

from airflow.sdk import Asset

from credit_platform.catalog.items import catalog


def landing_asset(item: str) -> Asset:
    return Asset(name=f"landing.{item}", uri=f"credit://landing/{item}")


def landing_assets() -> list[Asset]:
    return [landing_asset(code) for code in catalog().items]


# Updated by every successful warehouse build: the marts (schema `marts`) and the case snapshot are current.
WAREHOUSE_MARTS = Asset(name="warehouse.marts", uri="credit://warehouse/marts")
