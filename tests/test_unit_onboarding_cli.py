"""Adding a unit, checked: apprise URLs that cannot work are rejected with apprise's reason; a file is dropped
in a unit's inbox as its clerk would; a USCC check character is computed or checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from credit_platform import object_store
from credit_platform.notify.targets import url_problem
from credit_platform.standards.identifiers import uscc_status

CLI = str(Path(sys.executable).parent / "credit-platform")


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_url_problem_gives_apprises_reason():
    assert url_problem("mailto://clerk@example.com") is None
    assert url_problem("outbox://ln_hurd") is None  # the local outbox plugin counts
    assert "DingTalk API Token" in url_problem("dingtalk://")
    assert "Unparseable URL" in url_problem("nosuchscheme://x")
    # a secret written as ${NAME} is read at send time; its URL's shape is still checked
    assert url_problem("dingtalk://${LN_AMR_DINGTALK_TOKEN}/") is None
    assert "Unparseable URL" in url_problem("nosuchscheme://${LN_AMR_DINGTALK_TOKEN}")


def test_contracts_check_rejects_a_notice_url_apprise_cannot_use():
    ok = _cli("contracts", "check")
    assert ok.returncode == 0, ok.stderr
    bad = _cli("contracts", "check", env={"CP_NOTIFY_URLS": "mailto://clerk@example.com dingtalk://"})
    assert bad.returncode == 1
    assert "CP_NOTIFY_URLS: dingtalk://… — An invalid DingTalk API Token () was specified" in bad.stderr
    assert "mailto" not in bad.stderr  # the good one is not reported


def test_inbox_drop_puts_the_file_where_the_units_dag_reads(settings, tmp_path):
    f = tmp_path / "处罚-20261128.csv"
    f.write_bytes("行政相对人名称\n某公司\n".encode())
    out = _cli("inbox", "drop", "ln_hurd", str(f), "--item", "administrative_penalty")
    assert out.returncode == 0, out.stderr
    key = f"ln_hurd/administrative_penalty/{f.name}"
    assert f"s3://{settings.bucket('inbox')}/{key}" in out.stdout
    c = object_store.client(settings)
    assert c.get_object(settings.bucket("inbox"), key).read() == f.read_bytes()
    c.remove_object(settings.bucket("inbox"), key)  # not left for another test's ingest run


def test_inbox_drop_says_why_it_refuses(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    wrong_item = _cli("inbox", "drop", "ln_hurd", str(f), "--item", "dishonest_judgment_debtor")
    assert wrong_item.returncode == 64 and "ln_hurd does not report 'dishonest_judgment_debtor'" in wrong_item.stderr
    no_inbox = _cli("inbox", "drop", "ln_amr", str(f), "--item", "administrative_penalty")
    assert no_inbox.returncode == 64 and "no batch_file channel" in no_inbox.stderr


def test_uscc_computes_and_checks_the_check_character():
    body = "91210100MA0Y12345"
    made = _cli("uscc", body)
    assert made.returncode == 0
    code = made.stdout.strip()
    assert len(code) == 18 and code.startswith(body) and uscc_status(code) == "ok"
    assert _cli("uscc", code).stdout.strip() == f"{code}: ok"
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    bad = _cli("uscc", wrong)
    assert bad.returncode == 2 and f"expected '{code[17]}'" in bad.stdout
    assert _cli("uscc", "not-a-code").returncode == 2
    assert _cli("uscc", "91210100MA0Y1234O").returncode == 2  # O is not in the USCC alphabet
