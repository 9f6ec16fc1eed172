"""Assessment indicator definitions (考核指标), weights, thresholds and windows from contracts/indicators.yaml.

The numbers are computed in dbt (models/reports); the definitions reach dbt through a generated seed
(reports.dbt_seeds) so the report wording, the weights and the SQL read one file.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from credit_platform.catalog.items import CatalogError, StrictModel, friendly_error, read_yaml
from credit_platform.settings import contracts_dir as configured_contracts_dir

# the indicators dbt computes; a definition for anything else (or a missing one) is a contracts error
KNOWN = ("compliance", "timeliness", "lateness", "completeness", "correction", "duplication")


class Indicator(StrictModel):
    code: str
    name_zh: str
    meaning_zh: str
    weight: float = Field(ge=0, le=1)
    flag_above: float | None = Field(None, ge=0, le=1)
    higher_is_better: bool = True


class CityAssessment(StrictModel):
    gov_case_weight: float = Field(ge=0, le=1)
    data_quality_weight: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum_one(self) -> CityAssessment:
        if abs(self.gov_case_weight + self.data_quality_weight - 1) > 1e-9:
            raise ValueError("gov_case_weight + data_quality_weight must be 1")
        return self


class Indicators(StrictModel):
    indicators: list[Indicator]
    correction_window_working_days: int = Field(gt=0, le=60)
    score_scale: float = Field(gt=0)
    # a subject with fewer records received in the period has no data: not scored, not ranked
    score_min_received_records: int = Field(ge=1)
    city_assessment: CityAssessment
    gov_case_age_buckets: list[int] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Indicators:
        codes = [i.code for i in self.indicators]
        if sorted(codes) != sorted(KNOWN):
            missing, unknown = sorted(set(KNOWN) - set(codes)), sorted(set(codes) - set(KNOWN))
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            raise ValueError(f"indicators must be exactly {', '.join(KNOWN)}"
                             f" (missing {missing}, unknown {unknown}, defined twice {dupes})")
        total = sum(i.weight for i in self.indicators)
        if abs(total - 1) > 1e-9:
            raise ValueError(f"the weights add up to {total:g}, not 1")
        if self.gov_case_age_buckets != sorted(set(self.gov_case_age_buckets)) or self.gov_case_age_buckets[0] <= 0:
            raise ValueError("gov_case_age_buckets must be increasing positive day counts")
        return self

    def get(self, code: str) -> Indicator:
        return next(i for i in self.indicators if i.code == code)

    @property
    def names_zh(self) -> dict[str, str]:
        return {i.code: i.name_zh for i in self.indicators}

    def age_bucket_labels(self) -> list[str]:
        b = self.gov_case_age_buckets
        labels = [f"{b[0]}天以内"] + [f"{lo + 1}–{hi}天" for lo, hi in itertools.pairwise(b)]
        return [*labels, f"{b[-1]}天以上"]


def load_indicators(contracts_dir: Path | None = None) -> Indicators:
    path = (contracts_dir or configured_contracts_dir()) / "indicators.yaml"
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping with `indicators:` and the windows")
    try:
        return Indicators.model_validate(raw)
    except ValidationError as err:
        raise friendly_error(err, path, None, raw) from None


@cache
def indicators() -> Indicators:
    return load_indicators()
