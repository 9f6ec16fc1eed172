"""Reminders: open causes → the level each has reached → one message per (unit, rule, subject, level), rendered
from the Chinese templates and delivered through notify.delivery (ops.notices: idempotent, retried, logged).
A unit's messages of one level due the same day go out as one message listing them (`bundle`); each is still
recorded under its own key, so every sequence keeps its levels.

Levels follow each other in working days (rules `levels`), never skipped: the next level is due when the cause has
been open for its offset and the previous level was sent at least the difference earlier. Messages go out only on
working days within office hours (Beijing); a dry run shows what would go out and why, without sending.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import apprise
import psycopg

from credit_platform import clock, object_store
from credit_platform.catalog.items import catalog
from credit_platform.catalog.registry import CHANNEL_ZH, Contact, Registry, registry
from credit_platform.catalog.workdays import add_working_days, is_workday
from credit_platform.gates.reasons import FIX_ZH
from credit_platform.notify import alerts, delivery, render, url_secrets
from credit_platform.notify.delivery import DeliveryResult, Notice
from credit_platform.reminders.causes import Cause, open_causes
from credit_platform.reminders.rules import LEVEL_ZH, LEVELS, RULE_ZH, ReminderRules, rules
from credit_platform.settings import Settings

log = logging.getLogger(__name__)

FREQ_ZH = {"daily": "按工作日", "weekly": "按周", "monthly": "按月"}
COPY = ":copy"  # key suffix of an escalation's copy to the unit (抄送): sent once like any message, not a level


@dataclass
class Message:
    key: str
    kind: str                 # reminder | escalation
    unit: str
    rule: str
    level: str
    period: str
    subject: str
    recipient: str            # unit code, or office code (escalation, incomplete key)
    targets: tuple[str, ...]  # apprise URLs, secrets filled in (never printed: see targets_masked)
    targets_masked: list[str]
    to: list[str]             # who: "<unit or office>/<contact role>" (the log keeps this, URLs only masked)
    title: str
    body: str
    why: str
    opened_on: date
    facts: dict = field(default_factory=dict)
    behind: list[dict] = field(default_factory=list)
    already_sent: bool = False  # sent earlier on the same day (a rerun): delivery will not send it again
    error: str | None = None    # why it cannot be sent (a contact's URL unusable): the engineers are alerted
    parts: list[Message] = field(default_factory=list)  # a bundle: the messages it brings together

    def as_json(self) -> dict:
        d = asdict(self)
        d.pop("targets")
        d["targets"] = d.pop("targets_masked")
        d["parts"] = [p.as_json() for p in self.parts]
        return json.loads(json.dumps(d, ensure_ascii=False, default=str))

    def notice(self) -> Notice:
        meta = {"unit": self.unit, "rule": self.rule, "level": self.level, "period": self.period,
                "subject": self.subject, "to": self.to, "opened_on": self.opened_on, "facts": self.facts}
        if self.parts:
            meta["parts"] = [p.key for p in self.parts]
        return Notice(self.key, self.kind, self.recipient, self.title, self.body, self.targets, (), meta)


@dataclass
class RunResult:
    as_of: date
    acting: bool
    reason: str               # why nothing was sent, or "sent"
    messages: list[Message]
    delivered: list[DeliveryResult] = field(default_factory=list)
    alerts: list[DeliveryResult] = field(default_factory=list)

    @property
    def sent_now(self) -> list[DeliveryResult]:
        return [d for d in self.delivered if d.sent_now]


# --- when ---------------------------------------------------------------------------------------------------------
def acting_now(now: datetime, r: ReminderRules) -> tuple[bool, str]:
    local = now.astimezone(clock.BEIJING)
    if not is_workday(local.date()):
        return False, f"{local.date()} is not a working day on the official calendar: nothing is sent"
    if not (r.office_hours.start <= local.time().replace(tzinfo=None) <= r.office_hours.end):
        return False, (f"{local:%H:%M} Beijing time is outside office hours "
                       f"({r.office_hours.start:%H:%M}–{r.office_hours.end:%H:%M}): nothing is sent")
    return True, "sent"


def _sent_levels(s: Settings, as_of: date) -> tuple[dict[str, dict[str, int]], set[str]]:
    """For every reminder sequence (key without its level): the levels sent before as_of with the working days
    since; and the keys sent on as_of itself (a rerun of the day shows them again, delivery sends them once)."""
    with psycopg.connect(s.pg_dsn()) as conn:
        if conn.execute("select to_regclass('ops.notices')").fetchone()[0] is None:
            return {}, set()
        rows = conn.execute(
            "select n.key, n.level, a.workday_seq - c.workday_seq, c.day = a.day from ops.notices n"
            " join landing.calendar c on c.day = (n.sent_at at time zone 'Asia/Shanghai')::date"
            " join landing.calendar a on a.day = %s"
            " where n.status = 'sent' and n.key like 'reminder:%%' and c.day <= a.day", (as_of,)).fetchall()
    before: dict[str, dict[str, int]] = {}
    today: set[str] = set()
    for key, level, since, same_day in rows:
        if same_day:
            today.add(key)
        elif not key.endswith(COPY):  # an escalation's copy to the unit is not a level of its own
            before.setdefault(key.rsplit(":", 1)[0], {})[level] = since
    return before, today


def due_level(cause: Cause, offsets: list[tuple[str, int]], sent: dict[str, int]) -> tuple[str, str] | None:
    """The next level of the sequence if it is due today, with why; None when nothing is due."""
    done = [i for i, (lv, _) in enumerate(offsets) if lv in sent]
    i = max(done) + 1 if done else 0
    if i >= len(offsets):
        return None
    level, offset = offsets[i]
    if cause.working_days_open < offset:
        return None
    if i > 0:
        prev, prev_offset = offsets[i - 1]
        if sent[prev] < offset - prev_offset:
            return None
        why = f"{_open_since(cause)}; {prev} sent {sent[prev]} working days ago"
    else:
        why = _open_since(cause)
    return level, why


def _open_since(cause: Cause) -> str:
    # the day the rule's limit was passed, not the age of the matter the message counts (a record rejected six
    # working days ago passed a five-day correction window on its sixth)
    return (f"{RULE_ZH[cause.rule]}: past the rule's limit since {cause.opened_on} "
            f"(+{cause.working_days_open} working days)")


# --- who ----------------------------------------------------------------------------------------------------------
def _to(owner: str, contacts: list[Contact], roles: set[str]) -> list[tuple[str, str]]:
    return [(f"{owner}/{c.role}", c.url) for c in contacts if c.role in roles]


def _steward(reg: Registry, office_code: str, role: str) -> tuple[str, str, list[tuple[str, str]]]:
    """The named person for data no correction can match: the office's, else its parent office's."""
    code = office_code
    while code:
        office = reg.offices[code]
        found = [c for c in office.contacts if c.role == role]
        if found:
            return code, found[0].name_zh, _to(code, found, {role})
        code = office.parent
    office = reg.offices[office_code]
    return office_code, office.name_zh, _to(office_code, office.contacts, {"office"})


def _masked(urls: tuple[str, ...]) -> list[str]:
    ap = apprise.Apprise()
    for u in urls:
        if not ap.add(u):
            raise ValueError(f"notice URL not understood by apprise: {u.split(':', 1)[0]}://…")
    return [server.url(privacy=True) for server in ap]


# --- what ---------------------------------------------------------------------------------------------------------
def _feedback_link(s: Settings, f: dict, r: ReminderRules) -> str:
    # the workbook written at ingestion (ingest.staged_zone.feedback_key); chat channels cannot carry files, and
    # mail with a link is what the unit already got with its feedback notice
    key = f"{f['unit']}/{f['item_code']}/dt={f['received_date']}/{f['batch_id']}-问题数据清单.xlsx"
    return object_store.client(s).presigned_get_object(s.bucket("feedback"), key,
                                                       expires=timedelta(days=r.links_valid_days))


def _backlog(causes: list[Cause], reg: Registry, item_zh) -> dict[str, list[dict]]:
    """Per office, every unit it supervises that is behind: one line per unit, its causes joined, the earliest
    date first (the offices' escalations list them all)."""
    summary = render.environment().get_template("reminders/_summary.j2")
    per_unit: dict[str, dict] = {}
    for c in causes:
        unit = reg.units[c.unit]
        row = per_unit.setdefault(c.unit, {"unit": c.unit, "unit_name": unit.name_zh, "office": unit.supervising_office,
                                           "summary": [], "since": c.opened_on})
        row["summary"].append(summary.render(rule=c.rule, f=c.facts, item_zh=item_zh(c.facts)).strip())
        row["since"] = min(row["since"], c.opened_on)
    out: dict[str, list[dict]] = {}
    for row in sorted(per_unit.values(), key=lambda r: (r["since"], r["unit"])):
        out.setdefault(row["office"], []).append({**row, "summary": "；".join(row["summary"])})
    return out


def _recipients(reg: Registry, r: ReminderRules, c: Cause, level: str) -> tuple[str, list[tuple[str, str]], str]:
    """(recipient code, [(who, url)], steward name): notice → liaison; reminder → liaison + leader; escalation →
    the supervising office (plan() adds its copy to the unit's liaison and leader, COPY); incomplete keys → the
    office's steward."""
    unit = reg.units[c.unit]
    office = reg.offices[unit.supervising_office]
    if c.rule == "incomplete_key":
        code, steward, to = _steward(reg, office.code, r.rules.incomplete_key.route_to_role)
        return code, to, steward
    if level == "escalation":
        return office.code, _to(office.code, office.contacts, {"office"}), ""
    to = _to(c.unit, unit.contacts, {"liaison"} | ({"leader"} if level == "reminder" else set()))
    return c.unit, to or _to(c.unit, unit.contacts, {"liaison", "leader"}), ""


def plan(s: Settings, as_of: date, r: ReminderRules | None = None,
         units: set[str] | None = None) -> tuple[list[Cause], list[Message]]:
    """Every cause open on as_of and the messages due on that day (not sent yet); `units` limits both."""
    r = r or rules()
    reg, cat = registry(), catalog()
    causes = [c for c in open_causes(s, as_of, r) if c.unit in reg.units and (units is None or c.unit in units)]
    sent, sent_today = _sent_levels(s, as_of)

    def item_zh(f: dict) -> str:
        return cat.items[f["item_code"]].name_zh if "item_code" in f else ""

    # the units an office supervises that are behind, listed in its escalations (`units` limits them too: a
    # replay of a few units must not list the others as silent)
    backlog = _backlog(causes, reg, item_zh)
    messages = []
    for c in causes:
        unit = reg.units[c.unit]
        office = reg.offices[unit.supervising_office]
        if c.rule == "incomplete_key":
            offsets = [("notice", 0)]  # opens after_working_days after receipt
        else:
            offsets = r.levels_of(c.rule).offsets()
        seq_key = f"reminder:{c.unit}:{c.rule}:{c.subject}"
        due = due_level(c, offsets, sent.get(seq_key, {}))
        if due is None:
            continue
        level, why = due
        f = {**c.facts, "unit": c.unit}
        ctx = {"unit": unit, "office": office, "f": f, "behind": c.behind, "as_of": as_of, "contact": r.contact_zh,
               "level_zh": LEVEL_ZH[level], "item_zh": item_zh(f), "freq_zh": FREQ_ZH.get(f.get("frequency"), ""),
               "channels_zh": "、".join(dict.fromkeys(CHANNEL_ZH[ch.channel] for ch in unit.channels)),
               "period_zh": "周" if f.get("period_unit") == "week" else "个月",
               "backlog": backlog.get(unit.supervising_office, []), "link": "", "next_level": "", "next_date": ""}
        idx = [lv for lv, _ in offsets].index(level)
        if idx + 1 < len(offsets):
            ctx["next_level"], nxt_offset = offsets[idx + 1]
            ctx["next_date"] = add_working_days(as_of, nxt_offset - offsets[idx][1])
        if c.rule in ("open_problems", "incomplete_key"):
            names = cat.items[f["item_code"]].names
            ctx["behind"] = [{**p, "field_zh": names.get(p["field"], p["field"]),
                              "fix_zh": FIX_ZH.get(p["reason"], p["reason"])} for p in c.behind]
            ctx["link"] = _feedback_link(s, f, r)
            ctx["key_fields_zh"] = "、".join(names[k] for k in cat.items[f["item_code"]].natural_key)
        kind = "escalation" if level == "escalation" else "reminder"
        recipient, to, ctx["steward_name"] = _recipients(reg, r, c, level)
        addressed = [(f"{seq_key}:{level}", recipient, to, ctx)]
        if level == "escalation" and c.rule != "incomplete_key" and (
                copy_to := _to(c.unit, unit.contacts, {"liaison", "leader"})):
            # the unit gets the office's letter (抄送) without the office's list of every unit it supervises
            addressed.append((f"{seq_key}:{level}{COPY}", c.unit, copy_to, {**ctx, "backlog": []}))
        for key, recipient, to, context in addressed:
            try:  # a contact whose URL cannot be used (missing secret, unknown scheme) must not stop the others
                targets = tuple(dict.fromkeys(url_secrets.resolve(url) for _, url in to))
                masked, error = _masked(targets), None
            except ValueError as err:
                targets, masked, error = (), [], str(err)
            title, body = render.render(f"reminders/{c.rule}.{level}.j2", **context)
            messages.append(Message(key, kind, c.unit, c.rule, level, c.period, c.subject, recipient, targets,
                                    masked, [who for who, _ in to], title, body, why, c.opened_on, c.facts,
                                    c.behind, key in sent_today, error))
    return causes, bundle(messages)


BUNDLE = "reminder-bundle"
_ORDINAL = "一二三四五六七八九十"


def bundle(messages: list[Message]) -> list[Message]:
    """A unit's notices (or reminders) due the same day to the same people become one message: a unit with
    five problem batches gets one 提醒 listing five matters, not five. Escalations (to the office, and their
    copies) stay one per matter, and so does a message already sent (a rerun: delivery skips it). Each part keeps
    its own key (recorded as sent with the bundle); the bundle's key is its parts' keys, so the same matters
    failing day after day are one message whose attempts add up (and alert the engineers)."""
    groups: dict[tuple, list[Message]] = {}
    for m in messages:
        if (m.kind == "reminder" and m.recipient == m.unit and not m.error and not m.already_sent
                and _sections(m) is not None):
            groups.setdefault((m.unit, m.level, m.targets), []).append(m)
    bundled = {id(m): g for g in groups.values() if len(g) > 1 for m in g}
    out, done = [], set()
    for m in messages:
        group = bundled.get(id(m))
        if group is None:
            out.append(m)
        elif id(group) not in done:
            done.add(id(group))
            out.append(_bundled(group))
    return out


def _sections(m: Message) -> tuple[str, list[str], list[str]] | None:
    """(greeting, the matter's lines, footer) of a rendered message; None if it is not of that shape."""
    lines = m.body.splitlines()
    if len(lines) < 4 or not lines[0].endswith("：") or not lines[-2].startswith("如有疑问请联系"):
        return None
    return lines[0], lines[1:-2], lines[-2:]


def _bundled(parts: list[Message]) -> Message:
    first = parts[0]
    # every template: title; greeting line; the matter; a two-line footer (reminders/_macros.j2 footer)
    greeting, _, footer = _sections(first)
    prefix = first.title.split("】", 1)[0] + "】"
    unit_name = first.title[len(prefix):].split("：", 1)[0]
    sections = []
    for i, p in enumerate(parts):
        matter = _sections(p)[1]
        sections.append(f"（{_ORDINAL[i] if i < len(_ORDINAL) else i + 1}）{p.title.split('：', 1)[-1]}\n"
                        + "\n".join(matter))
    title = f"{prefix}{unit_name}：{len(parts)}项事项待处理"
    body = "\n".join([greeting, f"贵单位目前有以下{len(parts)}项事项待处理：", *sections, *footer])
    why = "; ".join(f"{p.subject}: {p.why}" for p in parts)
    digest = hashlib.sha256("\n".join(sorted(p.key for p in parts)).encode()).hexdigest()[:12]
    return Message(f"{BUNDLE}:{first.unit}:{first.level}:{digest}", first.kind, first.unit, first.rule, first.level,
                   first.period, f"{len(parts)} matters", first.recipient, first.targets, first.targets_masked,
                   first.to, title, body, why, min(p.opened_on for p in parts), {}, [],
                   False, None, parts)


# --- send ---------------------------------------------------------------------------------------------------------
def run(s: Settings, now: datetime | None = None, dry_run: bool = False, r: ReminderRules | None = None,
        units: set[str] | None = None) -> RunResult:
    r = r or rules()
    now = now or datetime.now(clock.BEIJING)
    as_of = clock.beijing_date(now)
    acting, reason = acting_now(now, r)
    _, messages = plan(s, as_of, r, units)
    if dry_run:
        reason = "dry run: nothing sent" + ("" if acting else f" (nor would a real run now: {reason})")
    result = RunResult(as_of, acting and not dry_run, reason, messages)
    if dry_run or not acting:
        return result
    for m in messages:
        if m.error:
            result.alerts.append(alerts.unsendable(s, m.key, ", ".join(m.to), m.error, now))
            continue
        result.delivered.append(delivery.deliver(s, m.notice(), now=now,
                                                 carries=tuple(p.notice() for p in m.parts)))
    result.alerts += alerts.undeliverable(s, r.undeliverable_alert_after, now)
    return result


__all__ = ["LEVELS", "Message", "RunResult", "acting_now", "bundle", "due_level", "plan", "run"]
