"""The project's generic dbt tests (dbt_project/tests/generic/, one per file) catch what their names promise."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from credit_platform.catalog.items import catalog
from credit_platform.landing import schema as landing_schema
from credit_platform.settings import dbt_project_dir
from credit_platform.standards.identifiers import make_uscc, uscc_status
from credit_platform.warehouse import dbt_build

GOOD = make_uscc("91210102MA0XXXXX7")  # a well-formed body; its GB 32100 check character appended
WRONG = GOOD[:17] + next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != GOOD[17])  # same shape, wrong digit


def test_one_generic_test_per_file():
    files = sorted((dbt_project_dir() / "tests" / "generic").glob("*.sql"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.count("{% test ") == 1 and f"{{% test {path.stem}(" in text, path.name


@pytest.fixture
def landing(settings):
    with psycopg.connect(settings.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
        landing_schema.ensure(conn, catalog())
        yield conn
        # the planted rows have no ledger batch: left behind, they would fail the next suite's source tests
        conn.execute("drop schema landing cascade")


def _uscc_test_status(s, conn, uscc: str, column: str = "cf_xdr_shxym") -> str:
    conn.execute("delete from landing.administrative_penalty")
    codes = {"cf_cfjgdm": GOOD, column: uscc}  # (the authority's code well-formed unless it is the one tested)
    conn.execute(
        "insert into landing.administrative_penalty (batch_id, row_no, unit_code, channel, received_at,"
        f" natural_key_hash, cf_xdr_mc, {', '.join(codes)}) values ('b1', 1, 'ln_amr', 'batch_file', now(), 'k',"
        f" '某公司', {', '.join(['%s'] * len(codes))})", list(codes.values()))
    out = dbt_build.run(s, ["test", "--select", "source:landing.administrative_penalty,test_name:credit_valid_uscc"])
    # one test for every USCC column of the table (one scan)
    (status,) = [st for node, st in out.results if node.startswith("test.")]
    return status


def test_credit_valid_uscc_checks_the_mod_31_check_digit(landing, settings):
    assert uscc_status(GOOD) == "ok" and uscc_status(WRONG) == "invalid_checksum"
    assert _uscc_test_status(settings, landing, GOOD) == "pass"
    assert _uscc_test_status(settings, landing, WRONG) == "fail"
    assert _uscc_test_status(settings, landing, "91210102MA0XXXXXIO") == "fail"  # letters outside the set
    # the same test checks the table's other USCC columns: the deciding authority's, the data source's
    assert _uscc_test_status(settings, landing, WRONG, column="cf_cfjgdm") == "fail"
    assert _uscc_test_status(settings, landing, WRONG, column="cf_sjlydm") == "fail"
    assert _uscc_test_status(settings, landing, GOOD, column="cf_sjlydm") == "pass"


def test_generic_tests_are_not_macros_any_more():
    macros = Path(dbt_project_dir()) / "macros"
    assert not [p for p in macros.rglob("*.sql") if "{% test " in p.read_text(encoding="utf-8")]
