"""Ingestion of one source unit: extract each channel, land in the raw zone, gate, stage, load once,
confirm to the source, and send the unit its feedback. The ingest DAGs wire these functions."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import psycopg

from credit_platform import object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import CHANNEL_ZH, registry
from credit_platform.clock import BEIJING
from credit_platform.gates.messages import batch_message
from credit_platform.ingest import channels, landing_load, raw_zone
from credit_platform.ingest.raw_zone import LandedBatch
from credit_platform.ingest.staged_zone import (
    GateOutcome,
    feedback_key,
    gate_and_stage,
    quarantine_batch_error,
    received_text,
    source_name,
    write_feedback,
)
from credit_platform.landing import ledger as landing_ledger
from credit_platform.notify import delivery, render
from credit_platform.settings import Settings
from credit_platform.standards.pii import redact_ids

log = logging.getLogger(__name__)


def extract_and_land(s: Settings, unit_code: str, channel: str, received_at: datetime | None = None) -> list[dict]:
    """Pull one channel and land every extract in the raw zone; returns XCom-sized descriptions."""
    unit = registry().unit(unit_code)
    received_at = received_at or datetime.now(UTC)
    landed = []
    if channel == "batch_file":  # uploads to this unit's inbox that never completed
        channels.sweep_orphans(s, prefix=f"{unit.code}/", zones=("inbox",))
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
    if landing_ledger.already_loaded(s, batch.batch_id):
        status = "already_loaded"
    else:
        out = gate_and_stage(s, batch)
        status = load_or_quarantine(s, out, {"gate_s": round(out.seconds, 3),
                                             "total_s": round(time.monotonic() - started, 3)})
    key, notice = deliver_feedback(s, batch, landing_ledger.ledger_row(s, batch.batch_id), out)
    channels.confirm(s, batch.unit, landed["extract"], batch.batch_id)
    summary = landing_ledger.ledger_row(s, batch.batch_id)
    summary["feedback_key"] = key
    summary["notice"] = notice
    summary["load"] = status
    log.info("load batch=%s item=%s rows=%s accepted=%s rejected=%s status=%s seconds=%.2f", batch.batch_id,
             batch.item, summary["rows"], summary["accepted"], summary["rejected"],
             summary["status"] if status == "loaded" else status, time.monotonic() - started)
    return summary


# tries of a load the database refuses for its data (not for being down): the DAG's retries + 1, so the
# task's last try ledgers the batch as a `load_failed` batch error instead of failing again on every run
LOAD_ATTEMPTS = 3


def load_or_quarantine(s: Settings, out: GateOutcome, timings: dict) -> str:
    """Load the gated batch; a batch the database refuses for its content (a value the gate let through that
    PostgreSQL cannot store, a constraint) is, after LOAD_ATTEMPTS tries, recorded in the ledger as the batch
    error `load_failed` with the reason, quarantined and told to the unit, so its inbox file leaves and a pull
    channel's watermark moves past it. A database that is down is not the batch's fault: that error is raised
    for the task to retry, however often."""
    try:
        return landing_load.load(s, out, timings)
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as err:
        detail = redact_ids(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
        attempts = landing_ledger.count_load_failure(s, out.batch.batch_id, detail)
        log.error("batch %s: load refused (try %d of %d): %s", out.batch.batch_id, attempts, LOAD_ATTEMPTS, detail)
        if attempts < LOAD_ATTEMPTS:
            raise
    reason = "load_failed"
    detail = f"数据库拒绝写入（{LOAD_ATTEMPTS}次）：{detail}"
    failed = GateOutcome(batch=out.batch, encoding=out.encoding, warnings=out.warnings,
                         batch_error={"reason": reason, "detail": detail, "message_zh": batch_message(reason, detail)})
    failed.feedback_key = feedback_key(out.batch)
    failed.rejections = out.rejections.clear() if out.rejections is not None else None
    quarantine_batch_error(s, failed)
    return landing_load.load(s, failed, timings)


def feedback_notice_key(batch_id: str) -> str:
    return f"feedback:{batch_id}"


def retry_feedback(s: Settings, unit_code: str) -> list[dict]:
    """The unit's feedback notices that failed earlier, sent again once their backoff has passed (every run of
    the unit's DAG does this: the batch itself is not loaded again, its notice is); a delivered one marks its
    batch's `feedback_sent_at`."""
    unit = registry().unit(unit_code)
    liaison = tuple(c.url for c in unit.contacts if c.role == "liaison")
    results = delivery.retry_due(s, recipient=unit_code, kind="feedback",
                                 targets_for=lambda r: liaison or delivery.default_targets(s, r),
                                 renew=lambda n: renew_feedback_link(s, n))
    for r in results:
        if r.sent and r.key.startswith("feedback:") and r.key.count(":") == 1:
            landing_ledger.mark_feedback_sent(s, r.key.split(":", 1)[1], r.sent_at)
    return [{"key": r.key, "status": r.status, "attempts": r.attempts} for r in results]


def deliver_feedback(s: Settings, batch: LandedBatch, row: dict, out: GateOutcome | None
                     ) -> tuple[str | None, dict | None]:
    """Write the unit's feedback workbook and tell the unit, once per batch with problems, through the delivery
    log (ops.notices, key `feedback:<batch>`): racing loads of one batch send it once, a failed notice is
    retried (with backoff) by the next run, and `feedback_sent_at` is set only once it was delivered.
    Returns the workbook's key and the notice's delivery state."""
    if not (row["rejected"] or row["batch_error_reason"] or row["warnings"] or not row["rows"] or row["corrected"]):
        return None, None
    # a batch with only warnings or corrections, or no records, has no workbook: the notice says it all
    key = feedback_key(batch) if row["rejected"] or row["batch_error_reason"] else None
    nkey = feedback_notice_key(batch.batch_id)
    prior = delivery.status(s, nkey)
    if not (prior and prior.sent):
        out = out or gate_and_stage(s, batch)
        write_feedback(s, out)
        result = delivery.deliver(s, feedback_notice(s, batch, out, key, corrected=row["corrected"]))
    else:
        result = prior
    if result.sent:
        landing_ledger.mark_feedback_sent(s, batch.batch_id, result.sent_at)
    return key, {"key": nkey, "status": result.status, "attempts": result.attempts,
                 "next_attempt_at": result.next_attempt_at.isoformat() if result.next_attempt_at else None}


LINK_DAYS = 7
_LINK_LINES = re.compile(r"问题数据清单：\S+\n（下载链接有效期至[0-9: -]+（北京时间），过期后请联系信用办重新获取）")


def _link_lines(link: str, until: str) -> str:
    return str(render.environment().get_template("feedback/_link.j2").module.link_lines(link, until))


def _presigned_link(s: Settings, workbook_key: str, now: datetime) -> tuple[str, str]:
    link = object_store.client(s).presigned_get_object(s.bucket("feedback"), workbook_key,
                                                       expires=timedelta(days=LINK_DAYS))
    return link, (now + timedelta(days=LINK_DAYS)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def renew_feedback_link(s: Settings, notice: delivery.Notice, now: datetime | None = None) -> delivery.Notice:
    """A feedback notice sent again (its first tries failed, perhaps for days) carries a new link, valid
    LINK_DAYS from now: the stored one may have expired by then."""
    workbook = notice.meta.get("workbook")
    if not workbook or not _LINK_LINES.search(notice.body):
        return notice  # no workbook, or a notice stored before its workbook was recorded
    link, until = _presigned_link(s, workbook, now or datetime.now(UTC))
    body = _LINK_LINES.sub(lambda _: _link_lines(link, until), notice.body, count=1)
    return dataclasses.replace(notice, body=body, meta={**notice.meta, "link_until": until})


def feedback_notice(s: Settings, batch: LandedBatch, out: GateOutcome, feedback_key: str | None,
                    now: datetime | None = None, corrected: int = 0) -> delivery.Notice:
    """The notice a clerk can act on: which file (or table / API), when, how many, the link and until when it
    works. Plain Chinese: no reason codes or exception names."""
    unit = registry().unit(batch.unit)
    item_zh = catalog().item(batch.item).name_zh
    name, when = source_name(batch), received_text(batch)
    now = now or datetime.now(UTC)
    link, until = _presigned_link(s, feedback_key, now) if feedback_key else ("", "")
    dups = out.duplicates.get_column("row").n_unique() if out.duplicates.height else 0
    title, body = render.render(
        "feedback/batch.notice.j2", unit_name=unit.name_zh, item_zh=item_zh, source_name=name, when=when,
        channel_zh=CHANNEL_ZH[batch.channel], batch_error=(out.batch_error or {}).get("message_zh"),
        rows=out.rows, accepted=out.accepted, rejected=out.rejected, duplicates=dups, to_fix=out.rejected - dups,
        # gate 0's notes (columns ignored…): nothing the unit sent is dropped without a word
        warnings=[redact_ids(w) for w in out.warnings], link=link, until=until, batch_id=batch.batch_id,
        corrected=corrected)
    liaison = tuple(c.url for c in unit.contacts if c.role == "liaison")
    return delivery.Notice(
        key=feedback_notice_key(batch.batch_id), kind="feedback", recipient=unit.code,
        title=title, body=body, targets=liaison,
        meta={"batch": batch.batch_id, "item": batch.item, "rows": out.rows, "accepted": out.accepted,
              "rejected": out.rejected, "corrected": corrected, "period": batch.received_date.isoformat(),
              "link_until": until or None,
              "workbook": feedback_key})
