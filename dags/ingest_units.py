"""Ingestion DAGs, one per source unit in contracts/registry/units.yaml (`ingest__<unit>`).

Each run pulls the unit's channels, lands every extract in the raw zone, then gates, stages and loads each
batch exactly once (mapped over batches, each labelled `<item> · <batch>`). A load that put rows into landing
emits the Asset event of that item's landing table only (through the unit's AssetAlias: the items a run
loads are known at run time), which triggers the warehouse build.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias, dag, get_current_context, task

from credit_platform.catalog.registry import CHANNEL_ZH, Unit, registry
from credit_platform.orchestration.assets import landing_asset
from credit_platform.orchestration.defaults import cron_schedule, dag_kwargs


def landing_alias(unit: Unit) -> AssetAlias:
    """What a load declares: the assets behind it are the items the run loaded (`landing_assets`)."""
    return AssetAlias(name=f"landing__{unit.code}")


def landing_assets(unit: Unit) -> list[Asset]:
    """Every landing Asset a unit's loads can emit an event for."""
    return [landing_asset(ob.item) for ob in unit.items]


def build(unit: Unit):
    @dag(
        dag_id=f"ingest__{unit.code}",
        schedule=cron_schedule(*(c.schedule for c in unit.channels)),
        **dag_kwargs(),
        tags=["ingest", f"region:{unit.region}", *[f"channel:{c.channel}" for c in unit.channels]],
        doc_md=f"{unit.name_zh}（{unit.code}）：" + "、".join(CHANNEL_ZH[c.channel] for c in unit.channels)
        + "。\n\n" + (__doc__ or ""),
    )
    def ingest():
        @task
        def extract(channel: str) -> list[dict]:
            from credit_platform.ingest.pipeline import extract_and_land
            from credit_platform.orchestration.runtime import task_settings

            return extract_and_land(task_settings(), unit.code, channel)

        @task
        def collect(per_channel: list[list[dict]]) -> list[dict]:
            return [b for batches in per_channel for b in batches]

        @task(outlets=[landing_alias(unit)], max_active_tis_per_dagrun=2, map_index_template="{{ load_label }}")
        def load(landed: dict, *, outlet_events=None) -> dict:
            from credit_platform.ingest.pipeline import ingest_batch
            from credit_platform.orchestration.runtime import task_settings

            batch = landed["batch"]
            get_current_context()["load_label"] = f"{batch['item']} · {batch['batch_id']}"
            summary = ingest_batch(task_settings(), landed)
            if summary["load"] == "loaded" and summary["accepted"]:
                outlet_events[landing_alias(unit)].add(landing_asset(batch["item"]), extra={
                    "batch": batch["batch_id"], "unit": unit.code, "accepted": summary["accepted"]})
            return summary

        @task
        def retry_feedback() -> list[dict]:
            """Feedback notices of earlier batches that could not be delivered, sent again after their backoff."""
            from credit_platform.ingest.pipeline import retry_feedback
            from credit_platform.orchestration.runtime import task_settings

            return retry_feedback(task_settings(), unit.code)

        # one static extract task per channel (channels are known when the DAG is parsed)
        per_channel = [extract.override(task_id=f"extract__{c.channel}")(c.channel) for c in unit.channels]
        load.expand(landed=collect(per_channel))
        retry_feedback()

    return ingest()


for _unit in registry().units.values():
    build(_unit)
