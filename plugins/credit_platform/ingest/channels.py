"""The four channels a source unit reports through. Each extractor returns `Extract`s with the same shape
(an item, bytes to land, the file extension, a source reference) and what to confirm once the batch is in
the ledger — never before, so a failure anywhere means the same data is extracted again, not lost:

- batch_file (批量上报): objects in `inbox/<unit>/<item>/…`; confirmed by deleting the inbox object.
- frontend_db (接口对接, 前置机): table `fe_<unit>.<item>` in the front-end database, pulled since a watermark
  with an overlap window (rows that commit late are still seen); rows already extracted (same key and
  content) are skipped, so nothing is loaded twice. Confirmed by recording the rows and the new watermark.
- api: the unit's paged JSON API since the watermark, same overlap and de-duplication. An answer that breaks
  the protocol (HTTP error, not JSON, no `records` list) fails the pull with a `SourceError` naming the unit's
  URL, and nothing is landed or confirmed; a record without `record_id` is keyed by its content and one
  without a readable `updated_at` does not move the watermark, but both are landed for the gate to judge.
- online_fill (在线填报): rows clerks entered in `online_fill.entries`; confirmed by marking them pulled (those
  still as they were pulled: one edited meanwhile is pulled again in its new version).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import psycopg
from minio.commonconfig import CopySource
from minio.error import S3Error
from psycopg import sql

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import Unit
from credit_platform.clock import BEIJING
from credit_platform.landing.schema import SCHEMA
from credit_platform.settings import Settings
from credit_platform.standards.pii import redact_ids

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=30)
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


@dataclass
class Extract:
    item: str
    channel: str
    data: bytes
    ext: str
    source_ref: str
    confirm: dict = field(default_factory=dict)

    def as_xcom(self) -> dict:  # bytes stay out of XCom: the raw zone holds them after landing
        d = asdict(self)
        d.pop("data")
        return d


# --- batch_file ----------------------------------------------------------------------------------


def file_extension(name: str) -> str:
    """The extension the raw zone keys the batch by; anything but a short alphanumeric one is `bin` (the name
    is the unit's: it must not make an over-long or odd object key or temp file name)."""
    ext = name.rsplit(".", 1)[-1].strip().lower() if "." in name else ""
    return ext if re.fullmatch(r"[a-z0-9]{1,10}", ext) else "bin"


def extract_batch_files(s: Settings, unit: Unit) -> Iterator[Extract]:
    """One inbox file at a time (a generator), so landing holds one file in memory, not the whole inbox."""
    c = object_store.client(s)
    items = {ob.item for ob in unit.items}
    for obj in c.list_objects(s.bucket("inbox"), prefix=f"{unit.code}/", recursive=True):
        if obj.object_name.endswith("/"):
            continue  # a folder marker some S3 clients create, not a file
        parts = obj.object_name.split("/")
        item = parts[1] if len(parts) >= 3 else None
        if item not in items:
            set_aside_unassigned(s, unit, obj.object_name)
            continue
        # read in the yield itself: the generator keeps no reference to a file while the next one is read
        yield Extract(item, "batch_file", object_store.get(c, s.bucket("inbox"), obj.object_name),
                      file_extension(parts[-1]), f"inbox/{obj.object_name}",
                      {"inbox_key": obj.object_name, "etag": obj.etag})


def set_aside_unassigned(s: Settings, unit: Unit, key: str) -> str:
    """A file outside `<unit>/<item>/` for an item the unit reports: nothing to check it against. It is moved,
    not dropped, to `quarantine/unassigned/<unit>/…`, and the unit is told where to put it."""
    from credit_platform.notify import delivery

    c = object_store.client(s)
    target = f"unassigned/{key}"
    c.copy_object(s.bucket("quarantine"), target, CopySource(s.bucket("inbox"), key))
    c.remove_object(s.bucket("inbox"), key)
    items = "、".join(f"{catalog().item(ob.item).name_zh}（{ob.item}）" for ob in unit.items)
    body = (f"收件箱中的文件“{redact_ids(key)}”不在任何信息项目录下，无法校验，已移至待处理区。"
            f"请按“{unit.code}/信息项代码/文件名”重新上传。贵单位报送的信息项：{items}。")
    liaison = tuple(ct.url for ct in unit.contacts if ct.role == "liaison")
    # once per file name and day (a failed notice is retried by the delivery log, never sent twice)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    delivery.deliver(s, delivery.Notice(
        key=f"feedback:unassigned:{unit.code}:{digest}:{clock.today().isoformat()}", kind="feedback",
        recipient=unit.code, title=f"【文件无法识别】{unit.name_zh}", body=body, targets=liaison,
        meta={"quarantine_key": target}))
    return target


# --- watermark-based pulls (frontend_db, api) ----------------------------------------------------


def _row_hash(record: dict) -> str:
    # content only: a row re-stamped with a new updated_at but unchanged is not a new version
    content = {k: v for k, v in record.items() if k != "updated_at"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _watermark(s: Settings, unit: str, item: str, channel: str) -> datetime:
    with psycopg.connect(s.pg_dsn()) as conn:
        row = conn.execute(f"select watermark from {SCHEMA}.extract_watermarks where unit_code = %s and item_code = %s"
                           " and channel = %s", (unit, item, channel)).fetchone()
    return row[0] if row else EPOCH


def _already(s: Settings, unit: str, item: str, channel: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    if not keys:
        return set()
    with psycopg.connect(s.pg_dsn()) as conn:
        rows = conn.execute(
            f"select source_key, version_hash from {SCHEMA}.extracted_rows where unit_code = %s and item_code = %s"
            " and channel = %s and source_key = any(%s)", (unit, item, channel, [k for k, _ in keys])).fetchall()
    return {(a, b) for a, b in rows}


def _record_key(record: dict) -> str:
    rid = record.get("record_id")
    return str(rid) if rid not in (None, "") else "content:" + _row_hash(record)


def _as_instant(t: datetime) -> datetime:
    """A time without zone is the unit's local (Beijing) time."""
    return t if t.tzinfo else t.replace(tzinfo=BEIJING)


def _updated_at(record: dict) -> datetime | None:
    """The record's change time, when it has a readable one."""
    try:
        return _as_instant(datetime.fromisoformat(str(record["updated_at"])))
    except (KeyError, ValueError):
        return None


def _new_records(s: Settings, unit: str, item: str, channel: str, records: list[dict]) -> tuple[list[dict], list]:
    keyed = [(_record_key(r), _row_hash(r)) for r in records]
    seen = _already(s, unit, item, channel, keyed)
    fresh = [(r, k) for r, k in zip(records, keyed, strict=True) if k not in seen]
    return [r for r, _ in fresh], [k for _, k in fresh]


def _as_csv(records: list[dict], codes: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["record_id", "updated_at", *codes])
    for r in records:
        values = [r.get(c) if r.get(c) is not None else "" for c in codes]
        w.writerow([r.get("record_id"), r.get("updated_at"), *values])
    return buf.getvalue().encode("utf-8")


def _as_jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records).encode("utf-8")


def frontend_table(unit: str, item: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(f"fe_{unit}"), sql.Identifier(item))


def frontend_dsn(s: Settings, unit: Unit) -> str:
    """The unit's own 前置机 when the registry names an Airflow connection, else the shared front-end database."""
    spec = next((c for c in unit.channels if c.channel == "frontend_db"), None)
    if spec and spec.connection:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(spec.connection)
        return (f"postgresql://{urllib.parse.quote(conn.login or '', safe='')}:"
                f"{urllib.parse.quote(conn.password or '', safe='')}@{conn.host}:{conn.port or 5432}/{conn.schema}")
    return s.pg_dsn(s.frontend_database)


def extract_frontend_db(s: Settings, unit: Unit) -> list[Extract]:
    cat = catalog()
    out = []
    dsn = frontend_dsn(s, unit)
    with psycopg.connect(dsn) as conn:
        # a `timestamp` (no zone) column holds the unit's local time: compare and read it as Beijing time, not
        # in whatever zone the unit's server defaults to (the watermark is an instant)
        conn.execute("set time zone 'Asia/Shanghai'")
        for ob in unit.items:
            exists = conn.execute("select to_regclass(%s)", (f'fe_{unit.code}."{ob.item}"',)).fetchone()[0]
            if not exists:
                continue
            since = _watermark(s, unit.code, ob.item, "frontend_db") - OVERLAP
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            rows = cur.execute(sql.SQL("select * from {} where updated_at > %s order by updated_at, record_id").format(
                frontend_table(unit.code, ob.item)), (since,)).fetchall()
            records = [{k.upper() if k not in ("record_id", "updated_at") else k: v for k, v in r.items()}
                       for r in rows]
            fresh, keys = _new_records(s, unit.code, ob.item, "frontend_db", records)
            if not fresh:
                continue
            # only the catalog columns the table has: a missing one is then gate 0's `missing_columns` for the
            # whole batch (the unit fixes its table), not "required value empty" on every record
            codes = [c for c in cat.item(ob.item).codes if c in fresh[0]]
            hi = max(_as_instant(r["updated_at"]) for r in fresh)
            out.append(Extract(ob.item, "frontend_db", _as_csv(fresh, codes), "csv",
                               f"frontend_db:fe_{unit.code}.{ob.item}@{since.isoformat()}",
                               {"watermark": hi.isoformat(), "keys": keys}))
    return out


def api_base(s: Settings, unit: Unit) -> str:
    spec = next((c for c in unit.channels if c.channel == "api"), None)
    return (spec.endpoint if spec and spec.endpoint else f"{s.source_api_base}/{unit.code}").rstrip("/")


class SourceError(RuntimeError):
    """A unit's system answered outside its channel's protocol: nothing was landed, the pull is retried."""


def _get_page(url: str, timeout: float) -> dict:
    shown = url.split("?", 1)[0]  # the query holds only the watermark and page; keep messages short
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as err:
        raise SourceError(f"{shown}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise SourceError(f"{shown}: unreachable: {getattr(err, 'reason', err)}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        # the body is not shown: it may hold personal data
        raise SourceError(f"{shown}: the answer is not JSON ({len(raw)} bytes)") from None
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceError(f"{shown}: expected {{\"records\": [objects], \"next_page\": n | null}}")
    return body


def extract_api(s: Settings, unit: Unit, page_size: int = 500, timeout: float = 30, max_pages: int = 10_000
                ) -> list[Extract]:
    out = []
    for ob in unit.items:
        last = _watermark(s, unit.code, ob.item, "api")
        since = last - OVERLAP
        records, page, pages = [], 1, 0
        while page:
            pages += 1
            if pages > max_pages:  # a source that always answers with a next page would never end the pull
                raise SourceError(f"{api_base(s, unit)}/{ob.item}/records: more than {max_pages} pages")
            q = urllib.parse.urlencode({"since": since.isoformat(), "page": page, "page_size": page_size})
            body = _get_page(f"{api_base(s, unit)}/{ob.item}/records?{q}", timeout)
            records += body["records"]
            page = body.get("next_page")
        fresh, keys = _new_records(s, unit.code, ob.item, "api", records)
        if not fresh:
            continue
        hi = max((t for t in map(_updated_at, fresh) if t), default=last)
        out.append(Extract(ob.item, "api", _as_jsonl(fresh), "jsonl", f"api:{api_base(s, unit)}/{ob.item}",
                           {"watermark": hi.isoformat(), "keys": keys}))
    return out


# --- online_fill -----------------------------------------------------------------------------------


def extract_online_fill(s: Settings, unit: Unit) -> list[Extract]:
    out = []
    with psycopg.connect(s.pg_dsn()) as conn:
        for ob in unit.items:
            rows = conn.execute("select entry_id, payload, md5(payload::text) from online_fill.entries"
                                " where unit_code = %s and item_code = %s and pulled_batch is null order by entry_id",
                                (unit.code, ob.item)).fetchall()
            if not rows:
                continue
            records = [{"entry_id": eid, **payload} for eid, payload, _ in rows]
            ids = [eid for eid, _, _ in rows]
            out.append(Extract(ob.item, "online_fill", _as_jsonl(records), "jsonl",
                               f"online_fill:{ids[0]}-{ids[-1]}",
                               {"entry_ids": ids, "versions": [v for _, _, v in rows]}))
    return out


EXTRACTORS = {"batch_file": extract_batch_files, "frontend_db": extract_frontend_db, "api": extract_api,
              "online_fill": extract_online_fill}


# --- confirmation ----------------------------------------------------------------------------------


def _remove_from_inbox(s: Settings, key: str, etag: str | None) -> None:
    """Remove the inbox object that was landed, unless the unit has uploaded a new file under the same name
    since: that one is not landed yet, so it stays for the next run."""
    c = object_store.client(s)
    try:
        now = c.stat_object(s.bucket("inbox"), key)
    except S3Error as err:
        if object_store.is_missing(err):
            return  # removed by an earlier try of this task
        raise
    if etag and now.etag != etag:
        log.warning("inbox/%s was replaced after it was extracted; kept for the next run", key)
        return
    c.remove_object(s.bucket("inbox"), key)


def confirm(s: Settings, unit: str, extract: dict, batch_id: str) -> None:
    """Run after the batch is in the ledger: the source is told (or recorded) that it arrived."""
    channel, item, info = extract["channel"], extract["item"], extract["confirm"]
    if channel == "batch_file":
        _remove_from_inbox(s, info["inbox_key"], info.get("etag"))
        return
    with psycopg.connect(s.pg_dsn()) as conn, conn.transaction():
        if channel == "online_fill":
            # an entry the clerk changed after it was pulled stays unpulled: its new version goes in the next batch
            conn.execute("update online_fill.entries e set pulled_batch = %s"
                         " from unnest(%s::bigint[], %s::text[]) as t(id, version)"
                         " where e.entry_id = t.id and md5(e.payload::text) = t.version and e.pulled_batch is null",
                         (batch_id, info["entry_ids"], info["versions"]))
            return
        conn.execute(
            f"insert into {SCHEMA}.extracted_rows (unit_code, item_code, channel, source_key, version_hash, batch_id)"
            " select %s, %s, %s, k, h, %s from unnest(%s::text[], %s::text[]) as t(k, h) on conflict do nothing",
            (unit, item, channel, batch_id, [k for k, _ in info["keys"]],
             [h for _, h in info["keys"]]))
        conn.execute(
            f"insert into {SCHEMA}.extract_watermarks (unit_code, item_code, channel, watermark)"
            " values (%s, %s, %s, %s)"
            " on conflict (unit_code, item_code, channel) do update set watermark ="
            f" greatest({SCHEMA}.extract_watermarks.watermark, excluded.watermark), updated_at = now()",
            (unit, item, channel, info["watermark"]))
