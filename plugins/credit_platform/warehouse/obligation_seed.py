"""The reporting obligations of the registry as a dbt seed: which unit owes which item, how often, by when.

`fct_obligations` expands it over the official calendar. Generated from contracts/ (catalog deadline, registry
frequency and supervising office) like the dbt sources, and checked current by `contracts check`.
"""

from __future__ import annotations

import csv
import io

from credit_platform.catalog.items import Catalog
from credit_platform.catalog.registry import Registry, registry
from credit_platform.settings import REPO_ROOT

SEED_PATH = REPO_ROOT / "dbt_project" / "seeds" / "obligation_schedule.csv"
COLUMNS = ["unit_code", "item_code", "frequency", "deadline_working_days", "supervising_office", "unit_level",
           "region"]


def seed_csv(cat: Catalog, reg: Registry | None = None) -> str:
    reg = reg or registry()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for unit in sorted(reg.units.values(), key=lambda u: u.code):
        for ob in sorted(unit.items, key=lambda o: o.item):
            deadline = cat.items[ob.item].deadline
            # an item without a catalog deadline is due on the last working day of its period
            w.writerow([unit.code, ob.item, ob.frequency, deadline.working_days if deadline else 0,
                        unit.supervising_office, unit.level, unit.region])
    return buf.getvalue()
