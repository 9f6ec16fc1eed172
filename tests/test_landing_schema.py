"""The platform's own landing tables (ledger, calendar, channel state): additive columns as recorded steps, old
databases brought forward, and a current schema ensured without a lock."""

from __future__ import annotations

import psycopg
import pytest

from credit_platform.ingest import landing_load


@pytest.fixture
def s(settings):
    with psycopg.connect(settings.pg_dsn(), autocommit=True) as conn:
        conn.execute("drop schema if exists landing cascade")
    landing_load.ensure_schema(settings)
    with psycopg.connect(settings.pg_dsn()) as conn:  # one batch with problems, one clean
        for batch_id, rejected in (("b-problems", 2), ("b-clean", 0)):
            conn.execute("insert into landing.batches (batch_id, unit_code, item_code, channel, received_at, sha256,"
                         " bytes, rows, accepted, rejected, status) values (%s, 'ln_amr', 'utility_payment',"
                         " 'batch_file', now(), 'x', 1, 5, %s, %s, %s)",
                         (batch_id, 5 - rejected, rejected, "partially_rejected" if rejected else "loaded"))
    return settings


def q(s, sql: str, *args):
    with psycopg.connect(s.pg_dsn()) as conn:
        return conn.execute(sql, args).fetchall()


def test_landing_tables_from_before_the_index_was_dropped_are_migrated(s):
    with psycopg.connect(s.pg_dsn(), autocommit=True) as conn:
        conn.execute("alter table landing.utility_payment add primary key (batch_id, row_no)")
        conn.execute("drop table landing.schema_state")  # as in a database from before the schema was versioned
    landing_load.ensure_schema(s)
    assert q(s, "select count(*) from pg_constraint where conrelid = 'landing.utility_payment'::regclass"
                " and contype = 'p'") == [(0,)]


def test_batches_from_before_feedback_was_recorded_count_as_sent_and_the_step_is_recorded(s):
    with psycopg.connect(s.pg_dsn()) as conn:
        conn.execute("alter table landing.batches drop column feedback_sent_at")
        conn.execute("delete from landing.migrations where step = 'ledger: add column batches.feedback_sent_at'")
        conn.execute("update landing.schema_state set version = 'an older one'")
    landing_load.ensure_schema(s)
    assert q(s, "select batch_id from landing.batches where feedback_sent_at is not null") == [("b-problems",)]
    assert q(s, "select count(*) from landing.migrations where step = 'ledger: add column batches.feedback_sent_at'"
                " and applied_at > now() - interval '1 minute'") == [(1,)]


def test_a_current_schema_is_ensured_without_waiting_for_readers(s, monkeypatch):
    landing_load.ensure_schema(s)
    # a long reader of the landing views, e.g. a dbt build; any lock ensure took on them would wait for it
    with psycopg.connect(s.pg_dsn()) as reader:
        reader.execute("select count(*) from landing.open_rejections").fetchone()
        reader.execute("lock table online_fill.entries in share row exclusive mode")  # a clerk's edit, say
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=2000")  # fail instead of hanging
        landing_load.ensure_schema(s)
        reader.rollback()


def test_a_ledger_from_before_the_resolution_columns_upgrades_with_its_view(s):
    # as built by the code before corrections recorded their row and kind: the view's `r.*` lacks both
    with psycopg.connect(s.pg_dsn()) as conn:
        conn.execute("drop view landing.open_rejections")
        conn.execute("alter table landing.rejections drop column corrected_by_row, drop column resolution")
        conn.execute("create view landing.open_rejections as select r.*, 0 as age_working_days"
                     " from landing.rejections r where r.corrected_by_batch is null")
        conn.execute("delete from landing.migrations where step like 'ledger: add column rejections.%'")
        conn.execute("update landing.schema_state set version = 'an older one'")
    landing_load.ensure_schema(s)
    cols = [r[0] for r in q(s, "select column_name from information_schema.columns where table_schema = 'landing'"
                               " and table_name = 'open_rejections' order by ordinal_position")]
    assert cols[-1] == "age_working_days" and {"corrected_by_row", "resolution"} <= set(cols)


def test_a_ledger_from_before_rejected_records_gets_the_table_as_a_recorded_step(s):
    with psycopg.connect(s.pg_dsn()) as conn:
        conn.execute("drop table landing.rejected_records")
        conn.execute("delete from landing.migrations where step = 'ledger: add table rejected_records'")
        conn.execute("update landing.schema_state set version = 'an older one'")
    landing_load.ensure_schema(s)
    assert q(s, "select count(*) from landing.migrations where step = 'ledger: add table rejected_records'"
                " and applied_at > now() - interval '1 minute'") == [(1,)]
    with psycopg.connect(s.pg_dsn()) as conn:
        conn.execute("insert into landing.rejected_records values ('b-problems', 1, '2026-09-30', false),"
                     " ('b-problems', 2, null, null)")
        with pytest.raises(psycopg.errors.CheckViolation):  # a readable date always has its on_time
            conn.execute("insert into landing.rejected_records values ('b-problems', 3, '2026-09-30', null)")
