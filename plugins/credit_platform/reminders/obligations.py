"""Refresh the obligations (dbt seed `obligation_schedule` + `fct_obligations`) before reminders read them."""

from __future__ import annotations

from credit_platform.settings import Settings


def refresh(s: Settings) -> int:
    from credit_platform.ingest import landing_load
    from credit_platform.warehouse import dbt_build

    landing_load.ensure_schema(s)  # the ledger and the calendar the model reads
    # exactly these two (with their tests): `obligation_schedule+` would also rebuild the report models downstream
    # of fct_obligations (完整率) without the rest of their inputs
    outcome = dbt_build.build(s, ["obligation_schedule", "fct_obligations"])
    if not outcome.success:
        raise RuntimeError(f"dbt build of the obligations failed: {outcome.failed()[:20]}")
    return len(outcome.results)


def built(s: Settings) -> bool:
    import psycopg

    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute("select to_regclass('marts.fct_obligations')").fetchone()[0] is not None
