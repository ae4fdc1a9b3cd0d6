"""The sender: delivers the outbox's due messages through their reporters, with retries.

    report = await deliver_pending(project, engine)                  # one pass over due messages
    report = await deliver_pending(project, engine, wait_seconds=60) # and wait out the backoff

One message at a time is claimed (so two senders never both send it, and a sender that dies
strands only the message it held, until its lease expires), sent with the delivery id it was
given when queued, and the outcome recorded before the next is claimed: sent; pending again
after `retry_delay_seconds · 2^(attempt-1)` (a temporary failure); or failed (a permanent
failure, or `max_attempts` spent) until `scenarist outbox retry`. Its reporter is built from the
project's *current* spec (a fixed host or password applies to messages already queued; secrets
are resolved now). A pass attempts each message due when it started at most once.
Each attempt's outcome is emitted as a Prefect event (`scenarist.alert.sent|failed`,
`scenarist.events`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine

from scenarist import events
from scenarist.errors import DeliveryError
from scenarist.faults import fault_point
from scenarist.reporters.base import Message, Reporter
from scenarist.reporters.mail import MailReporter
from scenarist.reporters.specs import MailReporterSpec, ReporterOptions, WebhookReporterSpec
from scenarist.reporters.webhook import WebhookReporter
from scenarist.stores import outbox
from scenarist.stores.outbox import OutboxRecord

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class DeliveryReport:
    """What one delivery pass did, by message id (the last state of each message)."""

    sent: dict[int, str | None] = field(default_factory=dict)  # id -> note (refusals) or None
    retrying: dict[int, str] = field(default_factory=dict)     # id -> error, will be retried
    failed: dict[int, str] = field(default_factory=dict)       # id -> error, given up

    def _settle(self, message_id: int, bucket: str, text: str | None) -> None:
        for name in ("sent", "retrying", "failed"):
            getattr(self, name).pop(message_id, None)
        getattr(self, bucket)[message_id] = text


async def build_reporter(spec: ReporterOptions, project: Any) -> Reporter:
    """The channel of a reporter spec (secrets resolved); DeliveryError when it cannot be."""
    if isinstance(spec, MailReporterSpec):
        return await MailReporter.from_spec(spec, project)
    if isinstance(spec, WebhookReporterSpec):
        return await WebhookReporter.from_spec(spec, project)
    raise DeliveryError(f"no reporter for spec type {type(spec).__name__}", temporary=False)


def backoff(spec: ReporterOptions, attempt: int) -> timedelta:
    """Wait after failed attempt number `attempt` (1-based): delay · 2^(attempt-1), capped."""
    return min(timedelta(seconds=spec.retry_delay_seconds * 2 ** max(attempt - 1, 0)),
               MAX_BACKOFF)


async def deliver_pending(project: Any, engine: Engine, *, ids: Sequence[int] | None = None,
                          wait_seconds: float = 0.0,
                          lease: timedelta | None = None) -> DeliveryReport:
    """Deliver the project's due messages (or only `ids`), one claim at a time, each under a
    lease of `lease` (default `outbox.claim_lease()`). With `wait_seconds`, keep going —
    sleeping until the next retry is due, or the lease of a message another sender holds
    expires — until none is pending or claimed, or the time is up."""
    report = DeliveryReport()
    lease = lease or outbox.claim_lease()
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        started = datetime.now(timezone.utc)
        while claimed := outbox.claim_due(engine, project.project, ids=ids, lease=lease,
                                          due_by=started):
            for record, message in claimed:
                await _deliver_one(project, engine, record, message, report)
        waiting = [m for m in outbox.outbox_messages(engine, project.project,
                                                     statuses=("pending", "sending"))
                   if ids is None or m.id in ids]
        remaining = deadline - asyncio.get_running_loop().time()
        if not waiting or remaining <= 0:
            return report
        now = datetime.now(timezone.utc)
        wait = min((_next_look(m) - now).total_seconds() for m in waiting)
        if wait > remaining:
            return report
        await asyncio.sleep(max(wait, 0.0))


def _next_look(message: OutboxRecord) -> datetime:
    """When a waiting message may be claimed: its next attempt, or its claim's expiry."""
    if message.status == "pending":
        return message.next_attempt_at
    return message.lease_until or (message.last_attempt_at or message.created_at) + \
        outbox.CLAIM_LEASE


async def _deliver_one(project: Any, engine: Engine, record: OutboxRecord, message: Message,
                       report: DeliveryReport) -> None:
    spec = find_spec(project, record.scenario, record.reporter)
    if spec is None:
        error = (f"reporter {record.reporter!r} is no longer in scenario {record.scenario!r} of "
                 "the project; restore it and `scenarist outbox retry`, or purge the message")
        outbox.mark_failed(engine, record.id, error, lease_until=record.lease_until)
        report._settle(record.id, "failed", error)
        events.emit_alert(record, sent=False, error=error)
        return
    try:
        reporter = await build_reporter(spec, project)
        fault_point("before_send")
        note = await reporter.send(message)
    except DeliveryError as exc:
        _failed(engine, spec, record, str(exc), exc.temporary, report)
    except Exception as exc:  # noqa: BLE001 - recorded and retried, never swallowed
        _failed(engine, spec, record, f"{type(exc).__name__}: {exc}", True, report)
    else:
        outbox.mark_sent(engine, record.id, note)
        report._settle(record.id, "sent", note)
        events.emit_alert(record, sent=True, note=note)


def _failed(engine: Engine, spec: ReporterOptions, record: OutboxRecord, error: str,
            temporary: bool, report: DeliveryReport) -> None:
    attempt = record.attempts
    text = f"attempt {attempt}/{spec.max_attempts}: {error}"
    if temporary and attempt < spec.max_attempts:
        next_at = datetime.now(timezone.utc) + backoff(spec, attempt)
        outbox.mark_retry(engine, record.id, text, next_at, lease_until=record.lease_until)
        report._settle(record.id, "retrying", text)
        events.emit_alert(record, sent=False, error=text, will_retry=True)
    else:
        reason = "" if temporary else " (permanent)"
        outbox.mark_failed(engine, record.id, text + reason, lease_until=record.lease_until)
        report._settle(record.id, "failed", text + reason)
        events.emit_alert(record, sent=False, error=text + reason)


def find_spec(project: Any, scenario: str, reporter: str) -> ReporterOptions | None:
    """The current spec of reporter `reporter` of `scenario`, None when gone."""
    spec = project.scenarios.get(scenario)
    if spec is None:
        return None
    return next((r for r in spec.reporters if r.name == reporter), None)
