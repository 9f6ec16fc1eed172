"""The public credit catalog (公共信用信息目录) and the source-unit registry, loaded from `contracts/`.

YAML is validated by the models below; any mistake becomes a `CatalogError` naming the file, the item and
the key, never a stack trace. Everything else (pandera gates, dbt sources, DAGs) is derived from here.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_platform.settings import REPO_ROOT
from credit_platform.settings import contracts_dir as configured_contracts_dir

FieldType = Literal["string", "code", "multicode", "identifier", "date", "decimal"]
IdentifierKind = Literal["uscc", "resident_id", "org_code"]


class CatalogError(ValueError):
    """A contracts file is wrong; the message says where."""


class StrictModel(BaseModel):
    """Contracts models: unknown keys are errors (a typo is never ignored), values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(StrictModel):
    """A row-level condition on other fields of the same record."""

    field: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None
    contains_any: list[str] | None = None  # for multi-valued code fields
    none_given: list[str] | None = None
    all: list[Condition] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.in_, self.not_in, self.contains_any, self.none_given, self.all]
        if sum(f is not None for f in forms) != 1:
            raise ValueError("a condition has exactly one of: in, not_in, contains_any, none_given, all")
        if (self.in_ or self.not_in or self.contains_any) and not self.field:
            raise ValueError("in / not_in / contains_any need `field`")
        return self

    def fields(self) -> set[str]:
        out = {self.field} if self.field else set()
        out |= set(self.none_given or [])
        for c in self.all or []:
            out |= c.fields()
        return out

    def describe_zh(self, names: dict[str, str]) -> str:
        if self.all:
            return "且".join(c.describe_zh(names) for c in self.all)
        if self.none_given:
            return "未填写" + "、".join(names.get(f, f) for f in self.none_given)
        name = names.get(self.field or "", self.field)
        if self.in_ is not None:
            return f"{name}为“{'/'.join(self.in_)}”"
        if self.not_in is not None:
            return f"{name}不为“{'/'.join(self.not_in)}”"
        return f"{name}含“{'/'.join(self.contains_any or [])}”"


class FieldSpec(StrictModel):
    code: str
    name: str
    aliases: list[str] = []
    type: FieldType
    required: bool = False
    required_when: Condition | None = None
    must_be_empty_when: Condition | None = None
    max_length: int | None = Field(None, gt=0)
    pattern: str | None = None
    pattern_zh: str | None = None
    code_list: str | None = None
    identifier: IdentifierKind | None = None
    identifier_when: Condition | None = None
    personal_id: bool = False
    min: float | None = None
    positive_when: Condition | None = None
    not_before: str | None = None
    not_after_received: bool = False
    role: str | None = None
    renamed_from: str | None = None  # the code this field had before: its landing data move to the new column

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type in ("code", "multicode") and not self.code_list:
            raise ValueError(f"type {self.type} needs code_list")
        if self.type == "identifier" and not self.identifier:
            raise ValueError("type identifier needs `identifier` (uscc, resident_id, org_code)")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as err:
                raise ValueError(f"pattern is not a regular expression: {err}") from None
        return self


class Deadline(StrictModel):
    working_days: int = Field(gt=0)
    from_: str = Field(alias="from")


class BlockRef(StrictModel):
    block: str
    prefix: str = ""


class CodeList(StrictModel):
    values: list[str]
    other_prefix: str | None = None
    separators: list[str] = []


class Item(StrictModel):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name_zh: str
    category: str
    catalog: Literal["base", "supplementary"]
    version: str
    action_type: str | None = None
    disclosure: Literal["依法公开", "授权查询", "政务共享"]
    sharing: Literal["无条件共享", "有条件共享", "不予共享"]
    subject_types: list[str]
    update_frequency: str
    deadline: Deadline | None
    natural_key: list[str] = Field(min_length=1)
    blocks: list[BlockRef] = []
    fields: list[FieldSpec]

    def field(self, code: str) -> FieldSpec:
        return self._by_code[code]  # KeyError for an unknown code

    # the model is frozen, so these are computed once (the gate asks for them per rejected value)
    @cached_property
    def _by_code(self) -> dict[str, FieldSpec]:
        return {f.code: f for f in self.fields}

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    @cached_property
    def names(self) -> dict[str, str]:
        return {f.code: f.name for f in self.fields}

    def by_role(self, role: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.role == role), None)

    @property
    def table(self) -> str:
        return self.code


class Catalog(StrictModel):
    items: dict[str, Item]
    code_lists: dict[str, CodeList]
    campaigns: dict[str, list[str]]

    def item(self, code: str) -> Item:
        try:
            return self.items[code]
        except KeyError:
            raise CatalogError(f"unknown catalog item {code!r}; known: {', '.join(sorted(self.items))}") from None


# --- loading -----------------------------------------------------------------------------------


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(f"{path}:{where}: not valid YAML: {getattr(err, 'problem', err)}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text") from None
    except ValueError as err:  # a scalar YAML types but cannot build, e.g. the date 2030-13-01
        raise CatalogError(f"{path}: not a valid value: {err}") from None


def friendly_error(err: ValidationError, path: Path, item: str | None, data: Any = None,
              kind: str = "item") -> CatalogError:
    lines = []
    for e in err.errors():
        loc_parts = []
        node = data
        for part in e["loc"]:
            # name list entries by their code (fields[3] → fields[CF_WSH]) so the key is findable
            if isinstance(part, int) and isinstance(node, list) and part < len(node):
                node = node[part]
                code = node.get("code") if isinstance(node, dict) else None
                loc_parts.append(f"[{code}]" if code else f"[{part}]")
                continue
            node = node.get(part) if isinstance(node, dict) else None
            loc_parts.append(f".{part}")
        key = "".join(loc_parts).lstrip(".")
        lines.append(f"{key}: {e['msg']}")
    where = f"{path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
    head = f"{where}: {kind} {item}" if item else where
    return CatalogError(f"{head}: " + "; ".join(lines))


def _expand(raw: Any, prefix: str) -> Any:
    if isinstance(raw, str):
        return raw.replace("{p}", prefix)
    if isinstance(raw, list):
        return [_expand(x, prefix) for x in raw]
    if isinstance(raw, dict):
        return {k: _expand(v, prefix) for k, v in raw.items()}
    return raw


def load_catalog(contracts_dir: Path | None = None) -> Catalog:
    contracts_dir = contracts_dir or configured_contracts_dir()
    blocks_path = contracts_dir / "blocks.yaml"
    blocks = read_yaml(blocks_path) or {}
    lists_path = contracts_dir / "code_lists.yaml"
    raw_lists = read_yaml(lists_path) or {}
    try:
        code_lists = {k: CodeList.model_validate(v) for k, v in raw_lists.items()}
    except ValidationError as err:
        raise friendly_error(err, lists_path, None, raw_lists) from None
    campaigns = (read_yaml(contracts_dir / "campaigns.yaml") or {}).get("campaigns", {})
    items: dict[str, Item] = {}
    for path in sorted((contracts_dir / "catalog").glob("*.yaml")):
        raw = read_yaml(path)
        if not isinstance(raw, dict):
            raise CatalogError(f"{path}: expected a mapping with the item's keys")
        name = raw.get("code", path.stem)
        fields = []
        for ref in raw.get("blocks") or []:
            block = ref.get("block") if isinstance(ref, dict) else None
            if block not in blocks:
                raise CatalogError(f"{path}: item {name}: blocks: unknown block {block!r} (see {blocks_path.name})")
            fields += _expand(blocks[block], ref.get("prefix", ""))
        raw = {**raw, "fields": fields + list(raw.get("fields") or [])}
        try:
            item = Item.model_validate(raw)
        except ValidationError as err:
            raise friendly_error(err, path, name, raw) from None
        _check_references(item, code_lists, path)
        if item.code in items:
            raise CatalogError(f"{path}: item {item.code}: code defined twice")
        items[item.code] = item
    if not items:
        raise CatalogError(f"{contracts_dir / 'catalog'}: no catalog items found")
    return Catalog(items=items, code_lists=code_lists, campaigns=campaigns)


def _check_references(item: Item, code_lists: dict[str, CodeList], path: Path) -> None:
    codes = set(item.codes)
    problems = []
    if len(codes) != len(item.codes):
        dupes = sorted({c for c in item.codes if item.codes.count(c) > 1})
        problems.append(f"fields: duplicate codes {dupes}")
    for f in item.fields:
        if f.code_list and f.code_list not in code_lists:
            problems.append(f"fields[{f.code}].code_list: unknown code list {f.code_list!r}")
        if f.renamed_from and f.renamed_from in codes:
            problems.append(f"fields[{f.code}].renamed_from: {f.renamed_from!r} is still a field of the item")
        if f.not_before and f.not_before not in codes:
            problems.append(f"fields[{f.code}].not_before: unknown field {f.not_before!r}")
        for key in ("required_when", "must_be_empty_when", "identifier_when", "positive_when"):
            cond: Condition | None = getattr(f, key)
            for ref in (cond.fields() if cond else set()) - codes:
                problems.append(f"fields[{f.code}].{key}: unknown field {ref!r}")
    for k in item.natural_key:
        if k not in codes:
            problems.append(f"natural_key: unknown field {k!r}")
    if item.deadline and item.deadline.from_ not in codes:
        problems.append(f"deadline.from: unknown field {item.deadline.from_!r}")
    if problems:
        raise CatalogError(f"{path}: item {item.code}: " + "; ".join(problems))


@cache
def catalog() -> Catalog:
    return load_catalog()
