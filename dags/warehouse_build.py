"""Warehouse build: `dbt build` over the landing sources, triggered by data — any landing table's Asset
updated by an ingest DAG — not by the clock. Today it runs the catalog-generated source tests; the staging,
intermediate and mart models of the warehouse issue hang off the same trigger."""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task

from credit_platform.orchestration.assets import MARTS_ASSET, landing_assets
from credit_platform.orchestration.defaults import dag_kwargs


@dag(
    dag_id="warehouse_build",
    schedule=AssetAny(*landing_assets()),
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
        outcome = runner.build(s, ["source:landing+", "source:ledger+", "obligation_schedule+"])
        if not outcome.success:
            raise RuntimeError(f"dbt build failed: {outcome.failed()[:20]}")
        return {"nodes": len(outcome.results)}

    dbt_build()


warehouse_build()
