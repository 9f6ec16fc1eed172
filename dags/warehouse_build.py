"""Warehouse build: `dbt build` of the reference seeds, staging → intermediate → marts and the case snapshot,
with every model's tests — triggered by data (any landing table's Asset updated by an ingest DAG), not by the
clock. A successful build updates the `warehouse.marts` Asset that reports and reminders are scheduled on; a
failure alerts the platform engineers (the shared failure callback of orchestration.defaults)."""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task

from credit_platform.orchestration.assets import MARTS_ASSET, landing_assets
from credit_platform.orchestration.defaults import dag_kwargs

LANDING_ASSETS = landing_assets()


@dag(
    dag_id="warehouse_build",
    schedule=AssetAny(*LANDING_ASSETS),
    **dag_kwargs(),
    tags=["warehouse", "dbt"],
    doc_md=__doc__,
)
def warehouse_build():
    @task(outlets=[MARTS_ASSET])
    def dbt_build() -> dict:
        from credit_platform.ingest import landing_load
        from credit_platform.orchestration.runtime import task_settings
        from credit_platform.warehouse import dbt_build as runner

        s = task_settings()
        landing_load.ensure_schema(s)
        outcome = runner.build_warehouse(s)
        if not outcome.success:
            raise RuntimeError(f"dbt build failed: {outcome.failed()[:20]}")
        return {"nodes": len(outcome.results), "seconds": round(outcome.seconds, 1),
                "full_refresh": outcome.full_refresh,
                "prewarmed": outcome.prewarmed.summary() if outcome.prewarmed else None}

    dbt_build()


warehouse_build()
