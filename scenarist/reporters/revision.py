"""The "verdict revised" message: late labels changed a check's outcome; tell whoever was alerted.

    ids = queue_revision_messages(project, engine, revised)   # reporter -> outbox message id

Who: for each changed check, the latest scenario run that judged it on that evaluation and
queued messages (its outbox records); every reporter that queued one for that run gets the
revision, to the same recipients (mail) or endpoint (webhook, its current spec). One message
per alerting run and reporter lists all the checks the revision changed; a webhook's payload
takes its preset's shape (generic JSON with the verdicts, Slack text, a Teams Adaptive Card).
It is an ordinary outbox message — delivery, retries, `scenarist outbox list|retry` work as for
any alert — whose run id is the original run's with `/r<revision>-<store and label digest>`,
so revising twice never queues the same message twice; like any message it gets its own
delivery id (Message-ID / Idempotency-Key) when queued. A reporter snoozed now
(`snooze_until`) gets none: the revision is still recorded and shown by `store revisions`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select

from scenarist.reporters.delivery import find_spec
from scenarist.stores import outbox
from scenarist.stores.outbox import Message, QueuedMessage, outbox_table

MAX_LISTED_CHANGES = 12


@dataclass(frozen=True)
class VerdictChange:
    """A check whose outcome on an evaluation a revision changed."""

    check: str
    before: str
    after: str
    value_before: float | None
    value_after: float | None
    metric: str | None
    message: str
    runs: tuple[str, ...] = ()  # scenario runs that judged it before, latest first

    def headline(self) -> str:
        return f"verdict revised: {self.before} → {self.after}"

    def line(self) -> str:
        metric = self.metric or "value"
        return (f"check {self.check!r}: {self.before} → {self.after} ({metric} "
                f"{_fmt(self.value_before)} → {_fmt(self.value_after)}; {self.message})")


def queue_revision_messages(project: Any, engine: Engine, revised: Any) -> dict[str, int]:
    """Queue the revision's messages (see the module docstring); returns the new ids by
    reporter (a message queued before is not queued again and not returned)."""
    by_run: dict[str, list[VerdictChange]] = {}
    alerts: dict[str, list[Any]] = {}
    for change in revised.verdicts:
        for run in change.runs:
            rows = alerts.get(run) if run in alerts else _alert_rows(engine, run)
            alerts[run] = rows
            if rows:
                by_run.setdefault(run, []).append(change)
                break
    queued = []
    now = datetime.now(timezone.utc)
    for run, changes in by_run.items():
        for row in alerts[run]:
            spec = find_spec(project, row.scenario, row.reporter)
            snoozed_until = getattr(spec, "snooze_until_utc", None)
            if snoozed_until is not None and now < snoozed_until:
                continue
            message = _message(row, revised, changes, run, getattr(spec, "preset", "generic"))
            queued.append(QueuedMessage(project.project, row.scenario,
                                        _run_id(run, revised), message))
    ids = outbox.enqueue(engine, queued)
    found: dict[str, int] = {}
    for item, message_id in zip(queued, ids, strict=True):
        if message_id is not None:
            name = item.message.reporter
            found[name if name not in found else f"{name} ({item.run_id})"] = message_id
    return found


def _alert_rows(engine: Engine, run_id: str) -> list[Any]:
    """One outbox record per reporter that queued a message for run `run_id`."""
    t = outbox_table
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.scenario, t.c.reporter, t.c.type, t.c.recipients,
                                   t.c.subject, t.c.created_at)
                            .where(t.c.run_id == run_id).order_by(t.c.id)).all()
    first: dict[tuple[str, str], Any] = {}
    for row in rows:  # the alert itself, not a later message of the run (a recovery)
        first.setdefault((row.scenario, row.reporter), row)
    return list(first.values())


def _run_id(run: str, revised: Any) -> str:
    digest = hashlib.sha1(f"{revised.store}\n{revised.label}".encode()).hexdigest()[:8]
    return f"{run[:40]}/r{revised.revision}-{digest}"


def _message(row: Any, revised: Any, changes: Sequence[VerdictChange], run: str,
             preset: str) -> Message:
    if len(changes) == 1:
        subject = (f"[scenarist] {changes[0].headline()}: {changes[0].check} "
                   f"({revised.store} {revised.label})")
    else:
        subject = (f"[scenarist] {len(changes)} verdicts revised on {revised.label!r} of "
                   f"{revised.store!r}")
    text = _text(revised, changes, row, run)
    if row.type != "mail":
        payload = {
            "text": f"{subject}\n{text}", "event": "verdict_revised", "store": revised.store,
            "evaluation_label": revised.label, "revision": revised.revision,
            "reason": revised.reason, "original_run_id": run,
            "verdicts": [{"check": c.check, "before": c.before, "after": c.after,
                          "metric": c.metric, "value_before": c.value_before,
                          "value_after": c.value_after} for c in changes],
        }
        return Message(reporter=row.reporter, type=row.type,
                       body=json.dumps(_shaped(preset, subject, text, payload)))
    recipients = row.recipients or {}
    return Message(reporter=row.reporter, type="mail", subject=subject, body=text,
                   to=tuple(recipients.get("to", ())), cc=tuple(recipients.get("cc", ())),
                   bcc=tuple(recipients.get("bcc", ())))


def _shaped(preset: str, subject: str, text: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The webhook payload in its preset's shape (as the reporter's alerts are)."""
    if preset == "slack":
        return {"text": f"*{subject}*\n{text}"}
    if preset == "teams":
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard", "version": "1.4",
                "body": [{"type": "TextBlock", "size": "Medium", "weight": "Bolder",
                          "wrap": True, "text": subject},
                         {"type": "TextBlock", "wrap": True, "text": text}]}}]}
    return payload


def _text(revised: Any, changes: Sequence[VerdictChange], row: Any, run: str) -> str:
    lines = [f"Late labels revised evaluation {revised.label!r} of store {revised.store!r} "
             f"(revision {revised.revision}: {revised.reason}).", ""]
    lines += [c.headline() + "\n  " + c.line() for c in changes]
    sent = f" on {row.created_at:%Y-%m-%d %H:%M} UTC" if row.created_at else ""
    lines += ["", f"You were alerted by reporter {row.reporter!r} of scenario {row.scenario!r} "
              f"(run {run}){sent}; the subject was: {row.subject or '-'}"]
    metrics = list(revised.changes.items())
    if metrics:
        lines += ["", "Metrics the labels changed:"]
        lines += [f"  {key}: {_fmt(before)} → {_fmt(after)}"
                  for key, (before, after) in metrics[:MAX_LISTED_CHANGES]]
        if len(metrics) > MAX_LISTED_CHANGES:
            lines.append(f"  … and {len(metrics) - MAX_LISTED_CHANGES} more "
                         f"(scenarist store revisions {revised.store})")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
