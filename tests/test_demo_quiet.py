"""`make demo`'s DAG stage says what happened and nothing else: a subset of units (one per channel) run in a
fresh interpreter with every Python warning shown, as a user's shell would, and any warning line fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from credit_platform.dev import airflow_env

UNITS = ["ln_hurd", "ln_amr", "ln_tax"]  # batch file (with the demo's corrupt upload), front-end DB + online, API

SCRIPT = textwrap.dedent(f"""
    import logging
    from credit_platform import clock
    from credit_platform.catalog.registry import registry
    from credit_platform.dev import airflow_env, demo, demo_data, simulated_sources
    from credit_platform.ingest import landing_load
    from credit_platform.settings import Settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    s = Settings.from_env()
    airflow_env.migrate(s)
    airflow_env.apply(s)
    landing_load.ensure_schema(s)
    api = simulated_sources.start_api_server(s)
    demo_data.feed(s, clock.today())
    n, failed = demo.run_ingest(s, [registry().unit(u) for u in {UNITS!r}])
    api.shutdown()
    print("RESULT", n, failed)
""")

# what the stage may say at WARNING: the demo plants a corrupt upload, and a unit is told about it
EXPECTED = [re.compile(p) for p in (
    r"batch .* rejected as a whole",
)]


def test_the_demo_dag_stage_prints_no_warning(airflow_db):
    env = {**os.environ, **airflow_env.airflow_environ(airflow_db), "PYTHONWARNINGS": "default"}
    proc = subprocess.run([sys.executable, "-W", "default", "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"RESULT {len(UNITS)} []" in proc.stdout, out[-3000:]
    noise = [line for line in out.splitlines()
             if re.search(r"warn", line, re.IGNORECASE) and not any(p.search(line) for p in EXPECTED)]
    assert noise == [], "\n".join(noise)
    # the stage's own lines: one per DAG (not a TTY here)
    assert all(re.search(rf"ingest__{u}\s+\d+/{len(UNITS)}\s+success", proc.stdout) for u in UNITS), proc.stdout
