"""Produce a report (frames → gate → XLSX + HTML), write it once under s3://reports/<report>/<office>/<period>/ and
deliver it to the office through the one delivery log (notify.delivery): an email target gets the files attached,
chat bots get presigned links. A rerun finds the files and the `sent` row and sends nothing again."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from credit_platform import clock, object_store
from credit_platform.catalog.registry import registry
from credit_platform.notify import delivery
from credit_platform.reports import frames, gate, html_page, xlsx
from credit_platform.reports.model import Report
from credit_platform.settings import Settings

log = logging.getLogger(__name__)
LINK_DAYS = 7
ATTACHING = ("mailto", "mailtos", "outbox")  # apprise schemes that carry attachments (the outbox keeps a copy)


@dataclass
class Published:
    report: str
    office: str
    period: str
    keys: list[str]
    status: str                  # written | unchanged | differs (a stored file with other numbers is kept: write-once)
    figures: dict
    title_zh: str = ""
    differs: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{self.report}/{self.office}/{self.period}/"


def file_names(r: Report) -> dict[str, str]:
    base = f"{r.code}-{r.office_code}-{r.period}"
    return {"xlsx": f"{base}.xlsx", "html": f"{base}.html", "manifest": f"{base}.manifest.json"}


def produce(s: Settings, report: str, office: str, period: str) -> tuple[Report, dict[str, bytes]]:
    r = gate.check(frames.build(s, report, office, period))
    body = {"xlsx": xlsx.render(r), "html": html_page.render(r)}
    manifest = {"report": r.code, "title_zh": r.title_zh, "office": r.office_code, "period": r.period,
                "cutoff": r.cutoff_zh, "figures": r.figures, "headline": r.headline,
                "sections": {sec.key: sec.frame.height for sec in r.sections},
                "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in body.items()}}
    body["manifest"] = json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode()
    return r, body


CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "html": "text/html; charset=utf-8", "manifest": "application/json"}


def period_ended(period: str, today: date | None = None) -> bool:
    """A month (YYYY-MM) is over once its last day has passed in Beijing."""
    y, m = (int(x) for x in period.split("-"))
    return date(y + m // 12, m % 12 + 1, 1) <= (today or clock.today())


def not_ended_message(period: str, today: date | None = None) -> str:
    return (f"{period} has not ended (today is {today or clock.today()} in Beijing): a monthly report covers a"
            " closed month; ask for an earlier month, or wait until the month is over")


def publish(s: Settings, report: str, office: str, period: str, today: date | None = None) -> Published:
    """Write-once: an existing file is never replaced. A rerun of the same period produces the same bytes
    (`unchanged`); a stored file that differs is kept and reported (`differs`), never silently overwritten.
    Only a month that has ended (Beijing time) is published: the files say 截至<month end>, and write-once
    would keep a half month's figures under that title for good."""
    if not period_ended(period, today):
        raise frames.ReportError(not_ended_message(period, today))
    r, body = produce(s, report, office, period)
    names = file_names(r)
    c = object_store.client(s)
    bucket = s.bucket("reports")
    if not c.bucket_exists(bucket):
        c.make_bucket(bucket)
    prefix = f"{r.code}/{r.office_code}/{r.period}/"
    keys, written, differs = [], False, []
    for kind in ("xlsx", "html", "manifest"):
        key = prefix + names[kind]
        keys.append(key)
        if object_store.put_once(c, bucket, key, body[kind], CONTENT_TYPES[kind]):
            written = True
        elif object_store.get(c, bucket, key) != body[kind]:
            differs.append(key)
    if differs:
        log.warning("report %s: stored files differ from a rerun and are kept (write-once): %s", prefix, differs)
    return Published(r.code, r.office_code, r.period, keys, "differs" if differs else "written" if written
                     else "unchanged", r.figures, r.title_zh, differs)


def local_copies(s: Settings, pub: Published) -> list[Path]:
    """The stored XLSX and HTML under CP_HOME/reports-out/<report>/<office>/<period>/, named as a clerk would
    save them (what a mail attaches, and what an engineer opens after `credit-platform report`)."""
    c = object_store.client(s)
    folder = s.home / "reports-out" / pub.prefix
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in pub.keys:
        if not k.endswith(".json"):
            path = folder / f"{pub.title_zh}（{pub.period}）.{k.rsplit('.', 1)[-1]}"
            path.write_bytes(object_store.get(c, s.bucket("reports"), k))
            paths.append(path)
    return paths


def deliver(s: Settings, pub: Published, targets: tuple[str, ...] | None = None,
            now: datetime | None = None) -> delivery.DeliveryResult:
    """One notice per report, office and period (key report:<report>:<office>:<period>)."""
    office = registry().offices[pub.office]
    targets = targets or tuple(ct.url for ct in office.contacts if ct.role == "office") or ()
    c = object_store.client(s)
    bucket = s.bucket("reports")
    links = {k.rsplit(".", 1)[-1]: c.presigned_get_object(bucket, k, expires=timedelta(days=LINK_DAYS))
             for k in pub.keys if not k.endswith(".json")}
    attachments: tuple[str, ...] = ()
    if any(t.split(":", 1)[0] in ATTACHING for t in (targets or delivery.default_targets(s, pub.office))):
        attachments = tuple(str(p) for p in local_copies(s, pub))
    y, m = pub.period.split("-")
    # only an email target carries the files; every target gets the links
    got = "请查收附件或通过以下链接下载" if attachments else "请通过以下链接下载"
    body = (f"{office.name_zh}：\n{y}年{int(m)}月《{pub.title_zh}》已生成，{got}"
            "（Excel 与网页版，网页版可离线打开、按A4打印）。\n"
            f"Excel：{links.get('xlsx', '')}\n网页版：{links.get('html', '')}\n（链接{LINK_DAYS}天内有效）")
    notice = delivery.Notice(
        key=f"report:{pub.report}:{pub.office}:{pub.period}", kind="report", recipient=pub.office,
        title=f"【{pub.title_zh}】{y}年{int(m)}月", body=body, targets=targets, attachments=attachments,
        meta={"period": pub.period, "report": pub.report, "keys": pub.keys,
              "figures": {k: v for k, v in pub.figures.items() if isinstance(v, int | float | str | type(None))}})
    return delivery.deliver(s, notice, now)


def run_month(s: Settings, period: str, reports: list[str] | None = None, offices: list[str] | None = None,
              send: bool = True) -> list[tuple[Published, delivery.DeliveryResult | None]]:
    """Every report for every office of a period: publish, then deliver (each once)."""
    out = []
    for office in offices or list(registry().offices):
        for report in reports or list(frames.REPORTS):
            pub = publish(s, report, office, period)
            out.append((pub, deliver(s, pub) if send else None))
    return out
