"""Ingestion of one source unit: extract each channel, land in the raw zone, gate, stage, load once,
confirm to the source, and send the unit its feedback. The ingest DAGs wire these functions."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import psycopg

from credit_platform import object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import CHANNEL_ZH, registry
from credit_platform.clock import BEIJING
from credit_platform.ingest import channels, landing_load, raw_zone
from credit_platform.ingest.raw_zone import LandedBatch
from credit_platform.ingest.staged_zone import (
    GateOutcome,
    feedback_key,
    gate_and_stage,
    received_text,
    source_name,
    write_feedback,
)
from credit_platform.landing.schema import SCHEMA
from credit_platform.notify import delivery
from credit_platform.settings import Settings

log = logging.getLogger(__name__)


def extract_and_land(s: Settings, unit_code: str, channel: str, received_at: datetime | None = None) -> list[dict]:
    """Pull one channel and land every extract in the raw zone; returns XCom-sized descriptions."""
    unit = registry().unit(unit_code)
    received_at = received_at or datetime.now(UTC)
    landed = []
    for e in channels.EXTRACTORS[channel](s, unit):
        b = raw_zone.land(s, unit.code, e.item, e.channel, e.data, e.ext, e.source_ref, received_at)
        log.info("landed %s batch %s (%s bytes, new=%s)", e.item, b.batch_id, b.bytes, b.created)
        landed.append({"batch": b.manifest(), "extract": e.as_xcom()})
        del e  # before the extractor reads the next file
    return landed


def ingest_batch(s: Settings, landed: dict) -> dict:
    """Gate, stage and load one landed batch exactly once, send the unit its feedback, then confirm the batch
    to its source. The result is the ledger row as it stands after delivery."""
    batch = LandedBatch(**landed["batch"])
    started = time.monotonic()
    landing_load.ensure_schema(s)
    out = None
    if landing_load.already_loaded(s, batch.batch_id):
        status = "already_loaded"
    else:
        out = gate_and_stage(s, batch)
        status = landing_load.load(s, out, {"gate_s": round(out.seconds, 3),
                                               "total_s": round(time.monotonic() - started, 3)})
    key, notice = deliver_feedback(s, batch, ledger_row(s, batch.batch_id), out)
    channels.confirm(s, batch.unit, landed["extract"], batch.batch_id)
    summary = ledger_row(s, batch.batch_id)
    summary["feedback_key"] = key
    summary["notice"] = notice
    summary["load"] = status
    return summary


def feedback_notice_key(batch_id: str) -> str:
    return f"feedback:{batch_id}"


def deliver_feedback(s: Settings, batch: LandedBatch, ledger: dict, out: GateOutcome | None
                     ) -> tuple[str | None, dict | None]:
    """Write the unit's feedback workbook and tell the unit, once per batch with problems, through the delivery
    log (ops.notices, key `feedback:<batch>`): racing loads of one batch send it once, a failed notice is
    retried (with backoff) by the next run, and `feedback_sent_at` is set only once it was delivered.
    Returns the workbook's key and the notice's delivery state."""
    if not (ledger["rejected"] or ledger["batch_error_reason"]):
        return None, None
    key = feedback_key(batch)
    nkey = feedback_notice_key(batch.batch_id)
    prior = delivery.status(s, nkey)
    if not (prior and prior.sent):
        out = out or gate_and_stage(s, batch)
        write_feedback(s, out)
        result = delivery.deliver(s, feedback_notice(s, batch, out, key))
    else:
        result = prior
    if result.sent:
        with psycopg.connect(s.pg_dsn()) as conn:
            conn.execute(f"update {SCHEMA}.batches set feedback_sent_at = %s where batch_id = %s"
                         " and feedback_sent_at is null", (result.sent_at, batch.batch_id))
    return key, {"key": nkey, "status": result.status, "attempts": result.attempts,
                 "next_attempt_at": result.next_attempt_at.isoformat() if result.next_attempt_at else None}


def ledger_row(s: Settings, batch_id: str) -> dict:
    with psycopg.connect(s.pg_dsn()) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        row = cur.execute(f"select batch_id, unit_code, item_code, channel, rows, accepted, rejected, status,"
                          f" batch_error_reason, feedback_sent_at is not null as feedback_sent"
                          f" from {SCHEMA}.batches where batch_id = %s", (batch_id,)).fetchone()
    return dict(row)


LINK_DAYS = 7


def feedback_notice(s: Settings, batch: LandedBatch, out: GateOutcome, feedback_key: str | None,
                    now: datetime | None = None) -> delivery.Notice:
    """The notice a clerk can act on: which file (or table / API), when, how many, the link and until when it
    works. Plain Chinese: no reason codes or exception names."""
    unit = registry().unit(batch.unit)
    item_zh = catalog().item(batch.item).name_zh
    name, when = source_name(batch), received_text(batch)
    now = now or datetime.now(UTC)
    link = object_store.client(s).presigned_get_object(s.bucket("feedback"), feedback_key,
                                                       expires=timedelta(days=LINK_DAYS)) if feedback_key else ""
    until = (now + timedelta(days=LINK_DAYS)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    head = f"贵单位于{when}通过{CHANNEL_ZH[batch.channel]}报送的{item_zh}（{name}）"
    if out.batch_error:
        body = (f"{head}未能读取，未入库任何记录。\n原因：{out.batch_error['message_zh']}\n"
                "请修正后重新报送整个文件。")
    else:
        dups = out.duplicates.get_column("row").n_unique() if out.duplicates.height else 0
        to_fix = out.rejected - dups
        body = (f"{head}共{out.rows}条，已入库{out.accepted}条，未通过校验{out.rejected}条"
                + (f"（其中{dups}条为同一文件内的重复记录，已登记，无需处理）" if dups else "") + "。\n"
                + (f"请打开问题数据清单，在“待修改记录”工作表中按“问题说明”修改这{to_fix}条记录，保留“记录编号”列，"
                   "修改后将清单原样重新报送。" if to_fix else "无需修改或重新报送。"))
    body += (f"\n问题数据清单：{link}\n（下载链接有效期至{until}（北京时间），过期后请联系信用办重新获取）"
             f"\n批次号：{batch.batch_id}")
    liaison = tuple(c.url for c in unit.contacts if c.role == "liaison")
    return delivery.Notice(
        key=feedback_notice_key(batch.batch_id), kind="feedback", recipient=unit.code,
        title=f"【问题数据反馈】{unit.name_zh} {item_zh}：{name}", body=body, targets=liaison,
        meta={"batch": batch.batch_id, "item": batch.item, "rows": out.rows, "accepted": out.accepted,
              "rejected": out.rejected, "period": batch.received_date.isoformat(), "link_until": until})
