"""Run dbt in-process (dbt's programmatic runner) against the warehouse named by the settings.

The credentials reach dbt through a profile written for this one invocation into a private temporary folder
(mode 0600, removed afterwards), never through the worker's process environment, where every later task and
every subprocess of the worker would see them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from credit_platform.settings import Settings, dbt_project_dir
from credit_platform.warehouse.prewarm import Prewarmed, prewarm_key_indexes

PROFILE = "credit_platform"  # `profile:` of dbt_project.yml


@dataclass
class DbtOutcome:
    success: bool
    results: list[tuple[str, str]]  # (node unique_id, status)
    seconds: float = 0.0
    full_refresh: bool = False
    prewarmed: Prewarmed | None = None  # after a full refresh: the key indexes read into shared_buffers

    def failed(self) -> list[tuple[str, str]]:
        return [r for r in self.results if r[1] not in {"success", "pass", "skipped"}]


def profile(s: Settings, project_dir: Path | None = None) -> dict:
    """dbt_project/profiles.yml (threads, schema, timeouts: the one home of those) with the connection of `s`."""
    project_dir = project_dir or dbt_project_dir()
    doc = yaml.safe_load((project_dir / "profiles.yml").read_text(encoding="utf-8"))
    target = doc[PROFILE]["target"]
    output = {k: v for k, v in doc[PROFILE]["outputs"][target].items()
              if k not in {"host", "port", "user", "password", "dbname"}}
    output.update(host=s.pg_host, port=s.pg_port, user=s.pg_user, password=s.pg_password, dbname=s.pg_database)
    return {PROFILE: {"target": target, "outputs": {target: output}}}


def run(s: Settings, args: list[str]) -> DbtOutcome:
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    project_dir = dbt_project_dir()
    with tempfile.TemporaryDirectory(prefix="cp-dbt-profile-") as profiles_dir:  # mode 0700
        fd = os.open(Path(profiles_dir) / "profiles.yml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(profile(s, project_dir), fh)
        # --quiet: dbt's per-node lines stay in its log file (CP_HOME/dbt-logs); failures come back in the outcome
        res = dbtRunner().invoke([
            "--quiet", "--no-send-anonymous-usage-stats", *args, "--project-dir", str(project_dir),
            "--profiles-dir", profiles_dir, "--target-path", str(s.home / "dbt-target"),
            "--log-path", str(s.home / "dbt-logs"),
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


def landing_epoch(conn) -> str:
    """Identifies the landing ledger's storage: it changes when landing.batches is recreated or truncated (a
    reset of the landing data), never when batches are added."""
    return conn.execute("select 'landing.batches'::regclass::oid || ':' || pg_relation_filenode('landing.batches')"
                        ).fetchone()[0]


def built_batches(conn) -> str:
    """Which of the ledger's batches the warehouse holds (int_record_copies marks a batch built): their number
    and a sum of their ids' hashes. A build records it; another value at the next build means the batches
    changed outside build_warehouse (a hand-run `dbt run --select int_build_batches int_record_copies`, a batch
    deleted from the ledger), and the later models may not hold what the provenance says was built."""
    if conn.execute("select to_regclass('intermediate.int_record_copies')").fetchone()[0] is None:
        return "0:0"
    return conn.execute("select count(*) || ':' || coalesce(sum(hashtextextended(b.batch_id, 0)), 0)"
                        " from landing.batches b where b.accepted > 0 and exists"
                        " (select 1 from intermediate.int_record_copies c where c.batch_id = b.batch_id)"
                        ).fetchone()[0]


STATE_TABLE = "intermediate.warehouse_build_state"
SCOPED_TESTS_VAR = "credit_scoped_tests"


def project_version(project_dir: Path | None = None) -> str:
    """The dbt project's SQL and YAML: when a model changes, the rows earlier incremental builds wrote follow the
    old code (a new column, a new rule), so the next build is a full refresh. Descriptions are left out: they
    change the docs, not a row, and a full refresh of the history costs minutes."""
    project_dir = project_dir or dbt_project_dir()
    digest = hashlib.md5()
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if path.is_file() and rel.parts[0] in PROJECT_PARTS and path.suffix in {".sql", ".yml", ".csv"}:
            content = _without_descriptions(path.read_bytes()) if path.suffix == ".yml" else path.read_bytes()
            digest.update(str(rel).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _without_descriptions(text: bytes) -> bytes:
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "description"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # dbt will say what is wrong with it; any edit counts
    return json.dumps(strip(doc), sort_keys=True, ensure_ascii=False, default=str).encode()


PROJECT_PARTS = {"models", "macros", "snapshots", "seeds", "tests", "dbt_project.yml"}


def build_warehouse(s: Settings, full_refresh: bool = False, select: list[str] | None = None,
                    skip_source_tests: bool = False) -> DbtOutcome:
    """The warehouse build. Incremental models grow by the ledger's new batches; when the landing data were
    reset since the last build (another ledger epoch), the incremental tables would keep facts of batches that
    no longer exist, so the build is a full refresh. So is the build after a change of the dbt project
    (project_version), the build after the batches the warehouse holds changed outside this function
    (built_batches), the build after a dbt run of an incremental model outside it (the project's on-run-start
    hook credit_forget_build_state: a delta-maintained model run again adds the same delta twice), the build
    after one of part of the warehouse (`select`), and the build after one that failed or was interrupted:
    the incremental models of that build may hold its batches in part (provenance written, a subject or a
    delta-maintained aggregate not), and the next build, which only sees the batches still missing from the
    provenance, would never repair them."""
    import psycopg

    version = project_version()
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        epoch = landing_epoch(conn)
        conn.execute("create schema if not exists intermediate")
        # unlogged like the tables it describes: a crash empties both, and the next build is a full refresh
        conn.execute(f"create unlogged table if not exists {STATE_TABLE} (id boolean primary key check (id),"
                     " landing_epoch text not null, built_at timestamptz not null default now())")
        conn.execute(f"alter table {STATE_TABLE} set unlogged")
        conn.execute(f"alter table {STATE_TABLE} add column if not exists project_version text")
        conn.execute(f"alter table {STATE_TABLE} add column if not exists batches_built text")
        row = conn.execute(f"select landing_epoch, project_version, batches_built from {STATE_TABLE}").fetchone()
        if row is None or row != (epoch, version, built_batches(conn)):
            full_refresh = True
        # until this build succeeds, the state names no epoch: a build that stops half way forces a full refresh
        conn.execute(f"delete from {STATE_TABLE}")
    # the data tests of an incremental warehouse build check the rows it writes (macros/build_scope.sql); of a
    # full refresh, and of any other dbt invocation, all rows. (The var is passed on full refreshes too: a change
    # of vars makes dbt parse the whole project again.)
    args = ["build", "--select", *(select or WAREHOUSE_SELECTION),
            *(["--exclude", "source:*"] if skip_source_tests else []),
            "--vars", json.dumps({SCOPED_TESTS_VAR: True})]
    if full_refresh:
        args.append("--full-refresh")
    outcome = run(s, args)
    outcome.full_refresh = full_refresh
    # a build of part of the warehouse leaves no state: the next build is a full refresh
    if outcome.success and select is None:
        with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"insert into {STATE_TABLE} (id, landing_epoch, project_version, batches_built)"
                         " values (true, %s, %s, %s) on conflict (id) do update set"
                         " landing_epoch = excluded.landing_epoch, project_version = excluded.project_version,"
                         " batches_built = excluded.batches_built, built_at = now()",
                         (epoch, version, built_batches(conn)))
            if full_refresh:
                outcome.prewarmed = prewarm_key_indexes(conn)
    return outcome
