"""Run dbt in-process (dbt's programmatic runner) against the warehouse named by the settings."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from credit_platform.settings import REPO_ROOT, Settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass
class DbtOutcome:
    success: bool
    results: list[tuple[str, str]]  # (node unique_id, status)
    seconds: float = 0.0

    def failed(self) -> list[tuple[str, str]]:
        return [r for r in self.results if r[1] not in {"success", "pass", "skipped"}]


def dbt_env(s: Settings) -> dict[str, str]:
    return {
        "CP_PG_HOST": s.pg_host, "CP_PG_PORT": str(s.pg_port), "CP_PG_USER": s.pg_user,
        "CP_PG_PASSWORD": s.pg_password, "CP_PG_DATABASE": s.pg_database,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def run(s: Settings, args: list[str]) -> DbtOutcome:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(s))
    started = time.monotonic()
    # --quiet: dbt's per-node lines stay in its log file (CP_HOME/dbt-logs); failures come back in the outcome
    res = dbtRunner().invoke([
        "--quiet", *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(s.home / "dbt-target"), "--log-path", str(s.home / "dbt-logs"),
    ])
    results: list[tuple[str, str]] = []
    if res.exception is not None:
        raise RuntimeError(f"dbt {' '.join(args)} could not run: {res.exception}")
    for r in getattr(res.result, "results", None) or []:
        results.append((r.node.unique_id, str(r.status)))
    return DbtOutcome(success=bool(res.success), results=results, seconds=time.monotonic() - started)


def build(s: Settings, select: list[str] | None = None) -> DbtOutcome:
    args = ["build"]
    if select:
        args += ["--select", *select]
    return run(s, args)


# What the warehouse build owns: reference seeds, staging, intermediate, marts and snapshots (the report models
# under models/reports are built by their own DAG, on the warehouse.marts Asset).
WAREHOUSE_SELECTION = ["path:seeds", "path:models/staging", "path:models/intermediate", "path:models/marts",
                       "path:snapshots"]


def build_warehouse(s: Settings, full_refresh: bool = False) -> DbtOutcome:
    args = ["build", "--select", *WAREHOUSE_SELECTION]
    if full_refresh:
        args.append("--full-refresh")
    return run(s, args)
