"""dbt seeds generated from contracts/ for the report models: the registry (units, offices,
cities) and the indicator definitions, and a macro naming the catalog's landing tables (the ledger models union
them). Never edited by hand; `credit-platform contracts check` fails when stale."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from credit_platform.catalog.indicators import Indicators, indicators
from credit_platform.catalog.items import Catalog, catalog
from credit_platform.catalog.registry import Registry, registry
from credit_platform.settings import dbt_project_dir

SEED_SUBDIR = Path("seeds") / "reports"
MACRO_SUBPATH = Path("macros") / "reports" / "catalog_item_tables.sql"
HEADER = "GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand."
PROVINCE = "210000"


def city_of(region: str) -> str:
    """The city (地市) of a region code; provincial units stay at the province (省本级)."""
    return region[:4] + "00"


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _macro(cat: Catalog) -> str:
    """Each landing table with the column holding a record's state (role case_status), if any: a new state of a
    case is a new fact, not a repeat (重复报送)."""
    entries = []
    for i in cat.items.values():
        state = i.by_role("case_status")
        entries.append(f"{{'table': '{i.table}', 'state': {repr(state.code.lower()) if state else 'none'}}}")
    return (f"{{# {HEADER} #}}\n{{% macro catalog_item_tables() %}}{{{{ return([{', '.join(entries)}]) }}}}"
            "{% endmacro %}\n")


def generated(reg: Registry | None = None, ind: Indicators | None = None,
              project_dir: Path | None = None) -> dict[Path, str]:
    reg, ind = reg or registry(), ind or indicators()
    root = project_dir or dbt_project_dir()
    SEED_DIR, MACRO = root / SEED_SUBDIR, root / MACRO_SUBPATH
    units = [[u.code, u.name_zh, u.level, u.region, city_of(u.region), reg.regions[city_of(u.region)],
              u.supervising_office] for u in reg.units.values()]
    offices = [[o.code, o.name_zh, o.level, o.region] for o in reg.offices.values()]
    cities = [[code, name] for code, name in reg.regions.items() if code != PROVINCE and code.endswith("00")]
    defs = [[i.code, i.name_zh, i.weight, "" if i.flag_above is None else i.flag_above,
             str(i.higher_is_better).lower(), n] for n, i in enumerate(ind.indicators, 1)]
    b = ind.gov_case_age_buckets
    params = [[ind.correction_window_working_days, ind.score_scale, ind.city_assessment.gov_case_weight,
               ind.city_assessment.data_quality_weight, " ".join(map(str, b)), ind.score_min_received_records]]
    return {
        MACRO: _macro(catalog()),
        SEED_DIR / "rpt_units.csv": _csv(["unit_code", "unit_name", "level", "region_code", "city_code",
                                          "city_name", "office_code"], units),
        SEED_DIR / "rpt_offices.csv": _csv(["office_code", "office_name", "level", "region_code"], offices),
        SEED_DIR / "rpt_cities.csv": _csv(["city_code", "city_name"], cities),
        SEED_DIR / "rpt_indicator_defs.csv": _csv(["indicator", "name_zh", "weight", "flag_above",
                                                   "higher_is_better", "sort_order"], defs),
        SEED_DIR / "rpt_parameters.csv": _csv(["correction_window_working_days", "score_scale", "gov_case_weight",
                                               "data_quality_weight", "age_buckets",
                                               "score_min_received_records"], params),
    }


def write_all() -> list[Path]:
    out = []
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def stale_files() -> list[str]:
    root = dbt_project_dir()
    return [str(p.relative_to(root.parent)) for p, text in generated(project_dir=root).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]
