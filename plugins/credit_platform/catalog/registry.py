"""The source-unit registry (信源单位名录) and supervising offices (信用办), loaded from contracts/registry/."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from credit_platform.catalog.items import CONTRACTS_DIR, Catalog, CatalogError, _friendly, _read_yaml, _Strict, catalog
from credit_platform.standards.identifiers import uscc_status

Channel = Literal["batch_file", "frontend_db", "api", "online_fill"]
CHANNEL_ZH = {"batch_file": "批量上报", "frontend_db": "接口对接（前置机）", "api": "接口对接（API）",
              "online_fill": "在线填报"}


def _valid_uscc(v: str) -> str:
    status = uscc_status(v)
    if status != "ok":
        raise ValueError(f"uscc {v!r} is {status}")
    return v


class Contact(_Strict):
    # steward: the named person at an office for rejected data that no correction can match
    role: Literal["liaison", "leader", "office", "steward"]
    name_zh: str
    url: str
    tags: list[str] = []


class ChannelSpec(_Strict):
    channel: Channel
    schedule: str  # cron, Asia/Shanghai
    endpoint: str | None = None  # api channel: the unit's base URL (default CP_SOURCE_API_BASE/<unit>)
    connection: str | None = None  # frontend_db channel: Airflow connection id of the unit's own 前置机

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        if len(v.split()) != 5:
            raise ValueError(f"schedule {v!r} is not a 5-field cron expression")
        return v


class Obligation(_Strict):
    item: str
    frequency: Literal["daily", "weekly", "monthly"]


class Office(_Strict):
    code: str
    name_zh: str
    level: Literal["province", "city"]
    region: str
    uscc: str
    parent: str | None = None
    contacts: list[Contact] = Field(min_length=1)

    _uscc = field_validator("uscc")(_valid_uscc)


class Unit(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    level: Literal["province", "city"]
    region: str
    uscc: str
    supervising_office: str
    channels: list[ChannelSpec] = Field(min_length=1)
    items: list[Obligation] = Field(min_length=1)
    contacts: list[Contact] = Field(min_length=1)

    _uscc = field_validator("uscc")(_valid_uscc)

    @property
    def channel_names(self) -> list[str]:
        return [c.channel for c in self.channels]


class Registry(_Strict):
    units: dict[str, Unit]
    offices: dict[str, Office]
    regions: dict[str, str]

    def unit(self, code: str) -> Unit:
        try:
            return self.units[code]
        except KeyError:
            raise CatalogError(f"unknown source unit {code!r}") from None


def _load_list(path: Path, key: str, model):
    raw = _read_yaml(path) or {}
    entries = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise CatalogError(f"{path}: expected a top-level `{key}:` list")
    out = {}
    for entry in entries:
        name = entry.get("code", "?") if isinstance(entry, dict) else "?"
        try:
            obj = model.model_validate(entry)
        except ValidationError as err:
            raise _friendly(err, path, name, entry, kind=key[:-1]) from None
        if obj.code in out:
            raise CatalogError(f"{path}: {key[:-1]} {obj.code}: defined twice")
        out[obj.code] = obj
    return out


def load_registry(contracts_dir: Path = CONTRACTS_DIR, cat: Catalog | None = None) -> Registry:
    cat = cat or catalog()
    regions = {str(k): v for k, v in ((_read_yaml(contracts_dir / "regions.yaml") or {}).get("regions") or {}).items()}
    offices_path = contracts_dir / "registry" / "offices.yaml"
    units_path = contracts_dir / "registry" / "units.yaml"
    offices = _load_list(offices_path, "offices", Office)
    units = _load_list(units_path, "units", Unit)
    for o in offices.values():
        if o.region not in regions:
            raise CatalogError(f"{offices_path}: office {o.code}: region: {o.region!r} is not a known region code")
        if o.parent and o.parent not in offices:
            raise CatalogError(f"{offices_path}: office {o.code}: parent: unknown office {o.parent!r}")
    for u in units.values():
        where = f"{units_path}: unit {u.code}"
        if u.region not in regions:
            raise CatalogError(f"{where}: region: {u.region!r} is not a known region code")
        if u.supervising_office not in offices:
            raise CatalogError(f"{where}: supervising_office: unknown office {u.supervising_office!r}")
        for ob in u.items:
            if ob.item not in cat.items:
                raise CatalogError(f"{where}: items: unknown catalog item {ob.item!r}")
    return Registry(units=units, offices=offices, regions=regions)


@cache
def registry() -> Registry:
    return load_registry()
