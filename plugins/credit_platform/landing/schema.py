"""PostgreSQL landing tables, one per catalog item, derived from the catalog.

Every landing row carries its batch and row number (provenance), the unit and channel it came through,
when it was received and whether it was on time. Natural persons' ID numbers never land in clear text:
their columns become `<code>_hash` (HMAC, for joins) and `<code>_masked` (for display).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from credit_platform import clock
from credit_platform.catalog.items import Catalog, FieldSpec, Item
from credit_platform.catalog.workdays import OfficialCalendar, official_calendar
from credit_platform.clock import TZ_NAME

log = logging.getLogger(__name__)

SCHEMA = "landing"

LEDGER_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.batches (
    batch_id text primary key,
    unit_code text not null,
    item_code text not null,
    channel text not null,
    source_ref text,
    received_at timestamptz not null,
    raw_key text,
    sha256 text not null,
    bytes bigint not null,
    encoding text,
    rows integer not null,
    accepted integer not null,
    rejected integer not null,
    status text not null check (status in ('loaded', 'partially_rejected', 'rejected')),
    batch_error_reason text,
    batch_error_detail text,
    timings jsonb,
    loaded_at timestamptz not null default now(),
    feedback_sent_at timestamptz,  -- when the unit was sent its feedback (batches with problems only)
    warnings jsonb,  -- gate 0's notes on the batch (columns ignored…), told to the unit with its feedback
    check (rows = accepted + rejected)
);
create table if not exists {SCHEMA}.rejections (
    batch_id text not null references {SCHEMA}.batches (batch_id),
    row_no integer not null,
    field_code text not null,
    reason text not null,
    message_zh text not null,
    natural_key_hash text,
    unit_code text not null,
    item_code text not null,
    received_at timestamptz not null,
    corrected_by_batch text,  -- set: closed (not open problem data); by which batch and row, and how:
    corrected_at timestamptz,
    corrected_by_row integer,
    resolution text check (resolution in ('corrected', 'resubmitted', 'duplicate')),
    primary key (batch_id, row_no, field_code)
);
-- open rejections are looked up by unit, item and natural key when a later batch may correct them
create index if not exists rejections_open on {SCHEMA}.rejections (unit_code, item_code, natural_key_hash)
    where corrected_by_batch is null;
-- what a batch closed, for the notice that tells the unit its corrections were accepted
create index if not exists rejections_closed_by on {SCHEMA}.rejections (corrected_by_batch)
    where corrected_by_batch is not null;
"""

# One row per rejected record (the rejections have one per failing field): its decision date as far as it could be
# read and whether it arrived by its deadline, measured at load time by the same code as the accepted records'
# on_time (及时率 counts rejected records too, DESIGN §4). Null decision_date: unreadable, or the item has no
# deadline — such a record is outside 及时率's denominator.
REJECTED_RECORDS_DDL = f"""
create table if not exists {SCHEMA}.rejected_records (
    batch_id text not null references {SCHEMA}.batches (batch_id),
    row_no integer not null,
    decision_date date,
    on_time boolean,
    primary key (batch_id, row_no),
    check ((decision_date is null) = (on_time is null))
);
"""

# Which migration step ran, when (landing.migrations); the catalog as last applied to each item's table.
MIGRATIONS_DDL = f"""
create table if not exists {SCHEMA}.migrations (
    step text primary key,         -- "0007 administrative_penalty: add field CF_X"
    applied_at timestamptz not null default now(),
    checksum text not null         -- md5 of what the step did (its statements, or its change when it needs none)
);
create table if not exists {SCHEMA}.catalog_applied (
    item_code text primary key,
    state jsonb not null,          -- `item_state`: the item's fields as its landing table now holds them
    applied_at timestamptz not null default now()
);
"""

CHANNEL_STATE_DDL = f"""
-- loads the database refused for the batch's data: the last allowed try ledgers it as `load_failed`
create table if not exists {SCHEMA}.load_failures (
    batch_id text primary key,
    attempts integer not null,
    last_error text,
    last_at timestamptz not null default now()
);
create table if not exists {SCHEMA}.extract_watermarks (
    unit_code text not null,
    item_code text not null,
    channel text not null,
    watermark timestamptz not null,
    updated_at timestamptz not null default now(),
    primary key (unit_code, item_code, channel)
);
create table if not exists {SCHEMA}.extracted_rows (
    unit_code text not null,
    item_code text not null,
    channel text not null,
    source_key text not null,
    version_hash text not null,
    batch_id text not null,
    primary key (unit_code, item_code, channel, source_key, version_hash)
);
create schema if not exists online_fill;
create table if not exists online_fill.entries (
    entry_id bigserial primary key,
    unit_code text not null,
    item_code text not null,
    payload jsonb not null,
    entered_by text,
    entered_at timestamptz not null default now(),
    pulled_batch text
);
create index if not exists entries_unpulled on online_fill.entries (unit_code, item_code) where pulled_batch is null;
"""

CALENDAR_DDL = f"""
create table if not exists {SCHEMA}.calendar (
    day date primary key,
    is_workday boolean not null,
    workday_seq integer not null  -- working days from the start of the table up to and including `day`
);
"""

# Open rejections with their age in working days on China's official calendar (整改 tracking). Dropped and
# created again after the ledger's columns are added: `r.*` is expanded when the view is made, and
# `create or replace` cannot put new columns before age_working_days (it runs only when the schema changes).
OPEN_REJECTIONS_DDL = f"""
drop view if exists {SCHEMA}.open_rejections;
create view {SCHEMA}.open_rejections as
select r.*,
       (select c2.workday_seq from {SCHEMA}.calendar c2 where c2.day = (now() at time zone '{TZ_NAME}')::date)
       - c1.workday_seq as age_working_days
from {SCHEMA}.rejections r
join {SCHEMA}.calendar c1 on c1.day = (r.received_at at time zone '{TZ_NAME}')::date
where r.corrected_by_batch is null;
"""

CALENDAR_START, CALENDAR_END = date(2020, 1, 1), date(2030, 12, 31)


def fill_calendar(conn, cal: OfficialCalendar | None = None) -> None:
    """Write the working-day calendar when it differs from the official one (a package update or a new
    arrangement in contracts/calendar.yaml changes it; otherwise this is a no-op)."""
    cal = cal or official_calendar()
    rows, seq = [], 0
    for i in range((CALENDAR_END - CALENDAR_START).days + 1):
        d = CALENDAR_START + timedelta(days=i)
        w, source = cal.day(d)
        seq += w
        rows.append((d, w, seq, source))
    # compared by fingerprint: one short answer instead of every day of the table on every ensure
    text = "\n".join(f"{d.isoformat()}|{'t' if w else 'f'}|{q}|{src}" for d, w, q, src in rows)
    have = conn.execute(f"select md5(coalesce(string_agg(day::text || '|' || case when is_workday then 't' else 'f'"
                        f" end || '|' || workday_seq || '|' || source, E'\\n' order by day), ''))"
                        f" from {SCHEMA}.calendar").fetchone()[0]
    if have == hashlib.md5(text.encode()).hexdigest():
        return
    # Said when the table is (re)written, not by every process that checks it; and only for the years up to
    # the next one: later arrangements are not published yet by anyone (landing.calendar.source says so).
    due = sorted({d.year for d, _w, _q, src in rows if src == "weekdays" and d.year <= clock.today().year + 1})
    if due:
        log.warning("landing.calendar: no official holiday arrangement for %s (chinesecalendar nor "
                    "contracts/calendar.yaml); counting weekdays there", ", ".join(map(str, due)))
    conn.execute(f"delete from {SCHEMA}.calendar")
    with conn.cursor().copy(f"copy {SCHEMA}.calendar (day, is_workday, workday_seq, source) from stdin") as cp:
        for r in rows:
            cp.write_row(r)


PROVENANCE_COLUMNS: list[tuple[str, str]] = [
    ("batch_id", "text not null"),
    ("row_no", "integer not null"),
    ("unit_code", "text not null"),
    ("channel", "text not null"),
    ("received_at", "timestamptz not null"),
    ("natural_key_hash", "text not null"),
    ("on_time", "boolean"),
]


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    field: FieldSpec | None = None
    kind: str = "value"  # value | hash | masked | provenance


def field_columns(f: FieldSpec) -> list[Column]:
    base = f.code.lower()
    if f.personal_id:
        return [Column(f"{base}_hash", "text", f, "hash"), Column(f"{base}_masked", "text", f, "masked")]
    sql = {"date": "date", "decimal": "numeric(18, 6)"}.get(f.type, "text")
    return [Column(base, sql, f)]


def item_columns(item: Item) -> list[Column]:
    cols = [Column(n, t, None, "provenance") for n, t in PROVENANCE_COLUMNS]
    for f in item.fields:
        cols += field_columns(f)
    return cols


def table_ddl(item: Item) -> str:
    # No primary key: (batch_id, row_no) is unique by construction — a batch's rows are copied only in the
    # transaction that inserts its ledger row (primary key on batches.batch_id) and row numbers are unique
    # within a file — and the warehouse build tests it (dbt `unique` on the sources). The index would cost
    # every load about a fifth of its PostgreSQL time.
    cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in item_columns(item))
    # A BRIN index on received_at (a few pages, next to nothing per load: rows arrive in received order) lets
    # the warehouse's incremental build read only the day's batches instead of scanning the whole history.
    return (f"create table if not exists {SCHEMA}.{item.table} (\n    {cols}\n);\n"
            f"create index if not exists {item.table}_received_brin on {SCHEMA}.{item.table}"
            f" using brin (received_at);\n")


def _platform_ddl() -> str:
    return LEDGER_DDL + MIGRATIONS_DDL + CHANNEL_STATE_DDL


@cache
def _code_bytes() -> bytes:
    from credit_platform.landing import migrations

    return Path(__file__).read_bytes() + Path(migrations.__file__).read_bytes()


def schema_version(cat: Catalog) -> str:
    """The catalog as the landing tables see it, and the code of this module and of the migrations: any change
    is a new version, on which `ensure` looks for work (re-applying the platform DDL is harmless; catalog steps
    run only when the catalog differs from what landing.catalog_applied recorded)."""
    from credit_platform.landing import migrations

    state = json.dumps({code: migrations.item_state(item, cat) for code, item in cat.items.items()},
                       sort_keys=True, ensure_ascii=False)
    return hashlib.md5(state.encode() + _code_bytes()).hexdigest()


def ensure(conn, cat: Catalog) -> None:
    """Create or migrate the landing schema (idempotent). Every load calls this, so when the schema is already
    the current one it takes no lock at all: `create or replace view` and `create index if not exists` lock
    as if they changed something, and would queue every load behind any long reader (a dbt build).
    The item tables follow the catalog by recorded migration steps (landing.migrations)."""
    from credit_platform.landing import migrations  # it builds on this module's DDL

    version = schema_version(cat)
    if _applied_version(conn) != version:
        _apply(conn, cat)
        migrations.migrate(conn, cat)
        conn.execute(f"insert into {SCHEMA}.schema_state (id, version) values (true, %s) on conflict (id)"
                     " do update set version = excluded.version, applied_at = now()", (version,))
    fill_calendar(conn)


def _applied_version(conn) -> str | None:
    if conn.execute("select to_regclass(%s)", (f"{SCHEMA}.schema_state",)).fetchone()[0] is None:
        return None
    row = conn.execute(f"select version from {SCHEMA}.schema_state").fetchone()
    return row[0] if row else None


def _apply(conn, cat: Catalog) -> None:
    """The platform's own tables (ledger, channel state, calendar): idempotent DDL, additive columns."""
    conn.execute(_platform_ddl())
    conn.execute(f"create table if not exists {SCHEMA}.schema_state (id boolean primary key check (id),"
                 " version text not null, applied_at timestamptz not null default now())")
    # landing tables created before the primary key was dropped (only when present: ALTER locks the table)
    for (table,) in conn.execute(
            "select conrelid::regclass::text from pg_constraint where contype = 'p'"
            " and connamespace = %s::regnamespace and conname = any(%s)",
            (SCHEMA, [f"{i.table}_pkey" for i in cat.items.values()])).fetchall():
        conn.execute(f"alter table {table} drop constraint {table.split('.')[-1]}_pkey")
    # item tables created before they had the BRIN index the warehouse's incremental build reads by
    for (table,) in conn.execute(
            "select c.relname from pg_class c where c.relnamespace = %s::regnamespace and c.relkind = 'r'"
            " and c.relname = any(%s) and not exists (select 1 from pg_class i where i.relname = c.relname"
            " || '_received_brin' and i.relnamespace = c.relnamespace)",
            (SCHEMA, [i.table for i in cat.items.values()])).fetchall():
        conn.execute(f"create index if not exists {table}_received_brin on {SCHEMA}.{table} using brin (received_at)")
    conn.execute(CALENDAR_DDL)
    # where `is_workday` comes from: chinesecalendar, contracts (calendar.yaml) or weekdays (no arrangement known)
    _add_column(conn, "calendar", "source", "text not null default 'chinesecalendar'")
    # rejections closed before the row and the kind of closing were recorded were corrections
    _add_column(conn, "rejections", "corrected_by_row", "integer")
    _add_column(conn, "rejections", "resolution",
                "text check (resolution in ('corrected', 'resubmitted', 'duplicate'))",
                backfill=f"update {SCHEMA}.rejections set resolution = 'corrected'"
                         " where corrected_by_batch is not null")
    # batches loaded before feedback delivery was recorded had theirs sent right after the load
    _add_column(conn, "batches", "feedback_sent_at", "timestamptz",
                backfill=f"update {SCHEMA}.batches set feedback_sent_at = loaded_at"
                         " where rejected > 0 or batch_error_reason is not null")
    _add_column(conn, "batches", "warnings", "jsonb")
    _add_table(conn, "rejected_records", REJECTED_RECORDS_DDL)
    conn.execute(OPEN_REJECTIONS_DDL)


def _add_column(conn, table: str, column: str, ddl: str, backfill: str | None = None) -> None:
    """A platform table's new column, as a recorded migration step `ledger: add column <table>.<column>`.
    Only when missing: ALTER TABLE locks the table even when there is nothing to add."""
    if conn.execute("select 1 from information_schema.columns where table_schema = %s and table_name = %s"
                    " and column_name = %s", (SCHEMA, table, column)).fetchone():
        return
    conn.execute(f"alter table {SCHEMA}.{table} add column {column} {ddl}")
    if backfill:
        conn.execute(backfill)
    conn.execute(f"insert into {SCHEMA}.migrations (step, checksum) values (%s, md5(%s)) on conflict (step) do"
                 " update set applied_at = now(), checksum = excluded.checksum",
                 (f"ledger: add column {table}.{column}", f"{ddl}\n{backfill or ''}"))


def _add_table(conn, table: str, ddl: str) -> None:
    """A new platform table, as a recorded migration step `ledger: add table <table>`. Rows loaded before it
    existed have none in it (what it records was not kept then)."""
    if conn.execute("select to_regclass(%s)", (f"{SCHEMA}.{table}",)).fetchone()[0] is not None:
        return
    conn.execute(ddl)
    conn.execute(f"insert into {SCHEMA}.migrations (step, checksum) values (%s, md5(%s)) on conflict (step) do"
                 " update set applied_at = now(), checksum = excluded.checksum", (f"ledger: add table {table}", ddl))
