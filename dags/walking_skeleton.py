"""Walking skeleton: S3 raw zone → pandera → COPY into PostgreSQL → dbt build → apprise notice."""

from __future__ import annotations

from airflow.sdk import Asset, dag, get_current_context, task

from credit_platform.dag_defaults import dag_kwargs

SKELETON_LANDING = Asset(name="landing.skeleton_penalties", uri="credit://landing/skeleton_penalties")


@dag(
    dag_id="walking_skeleton",
    schedule=None,
    **dag_kwargs(),
    tags=["skeleton", "demo"],
    doc_md=__doc__,
)
def walking_skeleton():
    @task
    def land() -> dict:
        from credit_platform import skeleton
        from credit_platform.dag_defaults import interval_day
        from credit_platform.runtime import task_settings

        day = interval_day(get_current_context())
        return skeleton.land(task_settings(), skeleton.sample_csv(day), day)

    @task(outlets=[SKELETON_LANDING])
    def validate_and_load(manifest: dict) -> dict:
        from credit_platform import skeleton
        from credit_platform.runtime import task_settings

        s = task_settings()
        frame = skeleton.validate(s, manifest["raw_key"])
        return {**manifest, "loaded": skeleton.load(s, manifest["batch_id"], frame)}

    @task
    def build_warehouse(batch: dict) -> dict:
        from credit_platform import dbt_build
        from credit_platform.runtime import task_settings

        outcome = dbt_build.build(task_settings(), ["+stg_skeleton__penalties"])
        if not outcome.success:
            raise RuntimeError(f"dbt build failed: {outcome.failed()}")
        return {**batch, "dbt_nodes": len(outcome.results)}

    @task
    def notify(batch: dict) -> None:
        from credit_platform import notices
        from credit_platform.runtime import task_settings

        body = (f"批次 {batch['batch_id']} 已入库 {batch['loaded']} 条，"
                f"数据仓库构建完成（{batch['dbt_nodes']} 个节点）。原始文件：raw/{batch['raw_key']}")
        if not notices.send(task_settings(), "【信用平台】演示批次处理完成", body, recipient="credit-office"):
            raise RuntimeError("notice was not accepted by any service")

    notify(build_warehouse(validate_and_load(land())))


walking_skeleton()
