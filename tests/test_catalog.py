"""The catalog and registry load, cross-check, and explain their own mistakes without a stack trace."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from credit_platform.catalog.items import CatalogError, load_catalog
from credit_platform.catalog.registry import load_registry
from credit_platform.settings import contracts_dir

CLI = str(Path(sys.executable).parent / "credit-platform")


@pytest.fixture
def contracts(tmp_path) -> Path:
    dst = tmp_path / "contracts"
    shutil.copytree(contracts_dir(), dst)
    return dst


def test_catalog_has_the_items_the_platform_needs():
    cat = load_catalog()
    for code in ("administrative_license", "administrative_penalty", "administrative_coercion",
                 "administrative_confirmation", "administrative_levy", "administrative_payment",
                 "administrative_ruling", "administrative_reward", "administrative_inspection",
                 "administrative_compensation", "dishonest_judgment_debtor", "gov_dishonest_debtor_case",
                 "serious_dishonesty_list", "serious_gov_dishonesty", "serious_judicial_dishonesty", "utility_payment"):
        assert code in cat.items
    penalty = cat.item("administrative_penalty")
    assert penalty.codes[0] == "CF_XDR_MC" and penalty.codes[-1] == "BZ" and len(penalty.codes) == 30
    assert [f.code for f in penalty.fields if f.required] == [
        "CF_XDR_MC", "CF_XDR_LB", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_JDRQ", "CF_YXQ",
        "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM"]
    license_ = cat.item("administrative_license")
    assert [f.code for f in license_.fields if f.required] == [
        "XK_XDR_MC", "XK_XDR_LB", "XK_XKWS", "XK_WSH", "XK_XKLB", "XK_NR", "XK_JDRQ", "XK_YXQZ", "XK_YXQZI",
        "XK_XKJG", "XK_XKJGDM", "XK_LYDW", "XK_LYDWDM"]
    assert cat.campaigns["行政管理七公示"][:2] == ["许可", "处罚"]


def test_registry_covers_province_and_cities():
    reg = load_registry()
    provincial = [u for u in reg.units.values() if u.level == "province"]
    assert len(provincial) >= 70
    platforms = {u.region for u in reg.units.values() if u.code.endswith("_platform")}
    assert len(platforms) == 14
    assert {c for u in reg.units.values() for c in u.channel_names} == {"batch_file", "frontend_db", "api", "online_fill"}
    assert all(u.uscc.startswith("11") for u in provincial if u.name_zh.endswith(("厅", "局", "委员会")))


def _error(contracts: Path) -> str:
    with pytest.raises(CatalogError) as err:
        load_registry(contracts, load_catalog(contracts))
    return str(err.value)


def test_broken_yaml_names_the_file_and_line(contracts):
    path = contracts / "catalog" / "administrative_penalty.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("natural_key: [", "natural_key: [[", 1), encoding="utf-8")
    msg = _error(contracts)
    assert "administrative_penalty.yaml" in msg and "line" in msg


def test_wrong_field_type_names_item_and_key(contracts):
    path = contracts / "catalog" / "administrative_penalty.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "{code: CF_WFXW, name: 违法行为类型, type: string", "{code: CF_WFXW, name: 违法行为类型, type: strng"), encoding="utf-8")
    msg = _error(contracts)
    assert "administrative_penalty.yaml" in msg
    assert "item administrative_penalty" in msg
    assert "fields[CF_WFXW].type" in msg


def test_unknown_code_list_and_field_references(contracts):
    path = contracts / "catalog" / "administrative_license.yaml"
    text = path.read_text(encoding="utf-8").replace("code_list: license_category", "code_list: no_such_list")
    path.write_text(text.replace("not_before: XK_YXQZ", "not_before: XK_NOPE"), encoding="utf-8")
    msg = _error(contracts)
    assert "fields[XK_XKLB].code_list: unknown code list 'no_such_list'" in msg
    assert "fields[XK_YXQZI].not_before: unknown field 'XK_NOPE'" in msg


def test_registry_rejects_an_invalid_uscc(contracts):
    path = contracts / "registry" / "units.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.split("uscc: ", 1)[1].split("\n", 1)[0]
    path.write_text(text.replace(first, first[:-1] + ("0" if first[-1] != "0" else "1"), 1), encoding="utf-8")
    msg = _error(contracts)
    assert "units.yaml" in msg and "unit ln_amr" in msg and "uscc" in msg and "invalid_checksum" in msg


def test_registry_rejects_unknown_items_and_offices(contracts):
    path = contracts / "registry" / "units.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("item: administrative_license", "item: no_item", 1),
                    encoding="utf-8")
    assert "items: unknown catalog item 'no_item'" in _error(contracts)


def test_contracts_check_cli_is_green_on_the_repository():
    proc = subprocess.run([CLI, "contracts", "check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "16 items" in proc.stdout
