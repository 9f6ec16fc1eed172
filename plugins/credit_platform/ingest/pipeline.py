"""Ingestion of one source unit: extract each channel, land in the raw zone, gate, stage, load once,
confirm to the source, and send the unit its feedback. The ingest DAGs wire these functions."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from credit_platform import object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import CHANNEL_ZH, registry
from credit_platform.ingest import channels, landing_load, raw_zone
from credit_platform.ingest.raw_zone import LandedBatch
from credit_platform.ingest.staged_zone import GateOutcome, feedback_key, gate_and_stage, write_feedback
from credit_platform.landing import ledger as landing_ledger
from credit_platform.notify import notices
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
    """Gate, stage and load one landed batch exactly once, then confirm it to its source."""
    batch = LandedBatch(**landed["batch"])
    started = time.monotonic()
    landing_load.ensure_schema(s)
    out = None
    if landing_ledger.already_loaded(s, batch.batch_id):
        status = "already_loaded"
    else:
        out = gate_and_stage(s, batch)
        status = landing_load.load(s, out, {"gate_s": round(out.seconds, 3),
                                               "total_s": round(time.monotonic() - started, 3)})
    summary = landing_ledger.ledger_row(s, batch.batch_id)
    summary["feedback_key"] = deliver_feedback(s, batch, summary, out)
    channels.confirm(s, batch.unit, landed["extract"], batch.batch_id)
    summary["load"] = status
    log.info("load batch=%s item=%s rows=%s accepted=%s rejected=%s status=%s seconds=%.2f", batch.batch_id,
             batch.item, summary["rows"], summary["accepted"], summary["rejected"],
             summary["status"] if status == "loaded" else status, time.monotonic() - started)
    return summary


def deliver_feedback(s: Settings, batch: LandedBatch, row: dict, out: GateOutcome | None) -> str | None:
    """Write the unit's feedback workbook and tell the unit, once per batch with problems, recorded in the
    ledger (`feedback_sent_at`): a task that died after the load sends it on its retry (re-gating the raw
    batch, which gives the same outcome) instead of never. At least once: a death between the notice and
    the record sends it twice."""
    if not (row["rejected"] or row["batch_error_reason"]):
        return None
    if row["feedback_sent"]:
        return feedback_key(batch)
    out = out or gate_and_stage(s, batch)
    key = write_feedback(s, out)
    send_feedback_notice(s, batch, out.rows, out.rejected, out.batch_error, key)
    landing_ledger.mark_feedback_sent(s, batch.batch_id)
    return key


def send_feedback_notice(s: Settings, batch: LandedBatch, rows: int, rejected: int, batch_error: dict | None,
                         feedback_key: str | None) -> None:
    unit = registry().unit(batch.unit)
    item_zh = catalog().item(batch.item).name_zh
    link = object_store.client(s).presigned_get_object(s.bucket("feedback"), feedback_key, expires=timedelta(days=7)) \
        if feedback_key else ""
    if batch_error:
        body = (f"贵单位于{batch.received_at[:16].replace('T', ' ')}通过{CHANNEL_ZH[batch.channel]}报送的{item_zh}"
                f"{'文件' if batch.channel == 'batch_file' else '数据'}未能读取：{batch_error['message_zh']}")
    else:
        body = (f"贵单位于{batch.received_at[:16].replace('T', ' ')}通过{CHANNEL_ZH[batch.channel]}报送的{item_zh}"
                f"共{rows}条，其中{rejected}条未通过目录校验。请在问题数据清单中查看原因，修改后重新报送。")
    body += f"\n问题数据清单：{link}\n批次号：{batch.batch_id}"
    liaison = [c.url for c in unit.contacts if c.role == "liaison"]
    notices.send(s, f"【问题数据反馈】{unit.name_zh} {item_zh}", body, recipient=unit.code, urls=liaison or None)
