"""`make demo`'s DAG stage says what happened and nothing else: a subset of units (one per channel) run in a
fresh interpreter with Python's default warning filters, as from a user's shell, and any warning line fails."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap

from credit_platform.dev import airflow_env, services

UNITS = ["ln_hurd", "ln_amr", "ln_tax"]  # batch file (with the demo's corrupt upload), front-end DB + online, API

SCRIPT = textwrap.dedent(f"""
    import logging
    from credit_platform import clock
    from credit_platform.catalog.registry import registry
    from credit_platform.dev import airflow_env, demo, demo_data, services
    from credit_platform.ingest import landing_load
    from credit_platform.settings import Settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    s = Settings.from_env()
    airflow_env.migrate(s)
    airflow_env.apply(s)
    landing_load.ensure_schema(s)
    services.source_api_up(s)  # the demo's stand-in process (reused when up)
    demo_data.feed(s, clock.today())
    n, failed = demo.run_ingest(s, [registry().unit(u) for u in {UNITS!r}])
    print("RESULT", n, failed)
    demo.unit_table(s)
""")

# what may be said at WARNING, once: a missing official holiday arrangement when the calendar table is written
EXPECTED = [re.compile(p) for p in (
    r"^WARNING credit_platform\.landing\.schema: landing\.calendar: no official holiday arrangement for \d{4}",
)]


def test_the_demo_dag_stage_prints_no_warning(airflow_db):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # Python's default filters, as a shell's
    # the demo's stand-in is a process of its own that outlives the script: on a port of its own, stopped after,
    # so the in-process stand-in the ingest tests start on the suite's port finds that port free
    s = dataclasses.replace(airflow_db, source_api_base="http://127.0.0.1:58097")
    env.update(airflow_env.airflow_environ(s))
    try:
        proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    finally:
        services.stop_processes(s, [services.source_api_name(s)])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"RESULT {len(UNITS)} []" in proc.stdout, out[-3000:]
    noise = [line for line in out.splitlines()
             if re.search(r"warn", line, re.IGNORECASE) and not any(p.search(line) for p in EXPECTED)]
    assert noise == [], "\n".join(noise)
    # the stage's own lines: one per DAG (not a TTY here)
    assert all(re.search(rf"ingest__{u}\s+\d+/{len(UNITS)}\s+success", proc.stdout) for u in UNITS), proc.stdout
    # the per-unit table: Chinese headers, every channel of a unit, a totals row
    table = proc.stdout.split(f"RESULT {len(UNITS)} []", 1)[1]
    assert all(h in table for h in ("单位代码", "报送渠道", "接收", "入库", "拒收", "迟报", "合计")), table
    assert re.search(r"ln_amr\s+前置机\+在线填报\s", table) and re.search(r"ln_tax\s+API\+在线填报\s", table), table
