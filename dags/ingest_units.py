"""Ingestion DAGs, one per source unit in contracts/registry/units.yaml (`ingest__<unit>`).

Each run pulls the unit's channels, lands every extract in the raw zone, then gates, stages and loads each
batch exactly once (mapped over batches), updating the landing-table Assets the warehouse build listens to.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable, MultipleCronTriggerTimetable

from credit_platform.catalog.registry import CHANNEL_ZH, Unit, registry
from credit_platform.clock import TZ_NAME
from credit_platform.orchestration.assets import landing_asset
from credit_platform.orchestration.defaults import dag_kwargs


def _timetable(unit: Unit):
    crons = sorted({c.schedule for c in unit.channels})
    if len(crons) == 1:
        return CronTriggerTimetable(crons[0], timezone=TZ_NAME)
    return MultipleCronTriggerTimetable(*crons, timezone=TZ_NAME)


def build(unit: Unit):
    @dag(
        dag_id=f"ingest__{unit.code}",
        schedule=_timetable(unit),
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

        @task(outlets=[landing_asset(ob.item) for ob in unit.items], max_active_tis_per_dagrun=2)
        def load(landed: dict) -> dict:
            from credit_platform.ingest.pipeline import ingest_batch
            from credit_platform.orchestration.runtime import task_settings

            return ingest_batch(task_settings(), landed)

        # one static extract task per channel (channels are known when the DAG is parsed)
        per_channel = [extract.override(task_id=f"extract__{c.channel}")(c.channel) for c in unit.channels]
        load.expand(landed=collect(per_channel))

    return ingest()


for _unit in registry().units.values():
    build(_unit)
