"""The Assets DAGs hand data over by, defined once: an ingest DAG updates a landing table's Asset, the warehouse
build listens to them all and updates the marts' Asset, which the reports and reminders listen to."""

from __future__ import annotations

from airflow.sdk import Asset

from credit_platform.catalog.items import Catalog, catalog


def landing_asset(item: str) -> Asset:
    """The landing table of one catalog item (`landing.<item>`)."""
    return Asset(name=f"landing.{item}", uri=f"credit://landing/{item}")


def landing_assets(cat: Catalog | None = None) -> list[Asset]:
    return [landing_asset(code) for code in (cat or catalog()).items]


MARTS_ASSET = Asset(name="warehouse.marts", uri="credit://warehouse/marts")
