"""After a full refresh, load the warehouse's key indexes into shared_buffers (pg_prewarm).

A daily build probes and inserts a day's keys at random places of indexes over the whole history (a fact's
natural key, a subject's key): 100k keys touch most leaf pages of each. CREATE INDEX writes its pages around
shared_buffers, so the first daily build after a full refresh read them one random page at a time: on the 10M
bench history it read 460-500k pages from outside shared_buffers against 160k for the next day, and took 1.3x as
long (docs/warehouse.md). Reading them here, in physical order, costs seconds of the (rare) full build.

Skipped, with the reason in the result, when the database lacks the pg_prewarm extension (created by the
superuser: infra/postgres/init-databases.sh, credit_platform.dev.services).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Indexes led by these columns are left cold: a day's batches sort after every earlier batch, so a build
# appends at their right edge and reads a few pages of them.
APPEND_ONLY_LEADS = ("batch_id",)
SCHEMAS = ("intermediate", "marts")
# at most this share of shared_buffers: the rest keeps what the builds read and write
BUDGET_SHARE = 0.5


@dataclass
class Prewarmed:
    blocks: dict[str, int] = field(default_factory=dict)  # index name -> 8 kB blocks read
    skipped: str | None = None

    @property
    def mb(self) -> float:
        return sum(self.blocks.values()) * 8 / 1024

    def summary(self) -> dict:
        return {"indexes": len(self.blocks), "mb": round(self.mb), "skipped": self.skipped}


def prewarm_key_indexes(conn) -> Prewarmed:
    """Read the key indexes of the warehouse's tables into shared_buffers, largest first, within the budget."""
    if conn.execute("select 1 from pg_extension where extname = 'pg_prewarm'").fetchone() is None:
        return Prewarmed(skipped="the pg_prewarm extension is not installed in this database")
    budget = conn.execute("select setting::bigint * %s from pg_settings where name = 'shared_buffers'",
                          (BUDGET_SHARE,)).fetchone()[0]  # in blocks
    rows = conn.execute("""
        select i.oid::regclass::text, pg_relation_size(i.oid) / current_setting('block_size')::int as blocks
        from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_namespace n on n.oid = i.relnamespace
        join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
        where n.nspname = any(%s) and x.indisvalid and a.attname <> all(%s)
        order by blocks desc, 1""", (list(SCHEMAS), list(APPEND_ONLY_LEADS))).fetchall()
    out = Prewarmed()
    used = 0
    for name, blocks in rows:
        if blocks == 0 or used + blocks > budget:
            continue
        out.blocks[name] = conn.execute("select pg_prewarm(%s::regclass)", (name,)).fetchone()[0]
        used += blocks
    return out
