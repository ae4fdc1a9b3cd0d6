"""The outbox: rendered reporter messages waiting for delivery, and what became of them.

    enqueue(engine, messages)                 one transaction; a key already queued is skipped
    claim_due(engine, project, ids=None)      the next due message (`limit` of them), claimed
    mark_sent / mark_retry / mark_failed      the outcome of one delivery attempt
    outbox_messages(engine, ...)              rows for `scenarist outbox list`
    requeue(engine, ...), purge(engine, ...)  `scenarist outbox retry|purge`

A message's `idempotency_key` (run id + reporter name [+ kind]) is unique: a retried or re-run flow
cannot queue the same alert twice. Its `delivery_id` — the mail's Message-ID, the webhook's
Idempotency-Key — is fixed when it is queued and sent with every attempt, so a receiver can
drop the copy a crash may cause (rows queued before outbox_0002 get one, derived from the row,
stored before their first attempt).

Status: pending → sending (claimed by one sender under a lease of `claim_lease()`, 10 min or
SCENARIST_OUTBOX_LEASE_SECONDS; a sender claims one message, sends it, records the outcome,
then claims the next, so a sender that dies strands one message, until its lease expires) →
sent, or back to pending with `next_attempt_at` (a temporary failure, exponential backoff), or
failed (a permanent failure or attempts exhausted). A message stays until delivered or purged.
A shadow reporter's message is queued as `shadow`: kept to be read, never claimed, retried or
sent (claims take `pending` and expired `sending` rows only).
Delivery is at-least-once: a sender that dies after the receiver accepted a message and before
`mark_sent` committed leaves it to be sent again, with the same delivery id.
Secrets are never stored: rows hold rendered text, recipients and attachments only.

Crash tests kill a sender at `before_send` (delivery.py) and `while_marking` (in `mark_sent`'s
transaction): see `scenarist.faults`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)

from scenarist.errors import ConfigError
from scenarist.faults import fault_point
from scenarist.stores.database import dialect_insert
from scenarist.stores.schema import metadata

STATUSES = ("pending", "sending", "sent", "failed", "shadow")  # shadow: never delivered
CLAIM_LEASE = timedelta(minutes=10)  # the default; SCENARIST_OUTBOX_LEASE_SECONDS overrides it
LEASE_ENV = "SCENARIST_OUTBOX_LEASE_SECONDS"
_DELIVERY_IDS = uuid.UUID("5f0c3a52-8f38-4d5e-9c36-2b1d0c6f4a10")  # namespace of derived ids

outbox_table = Table(
    "scenarist_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("project", String(200), nullable=False),
    Column("scenario", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("reporter", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("subject", Text, nullable=True),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("recipients", JSON, nullable=False),  # {"to": [...], "cc": [...], "bcc": [...]}
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivery_id", String(200), nullable=True),  # NULL: queued before outbox_0002
    Column("lease_until", DateTime(timezone=True), nullable=True),  # of the current claim
    Index("ix_scenarist_outbox_due", "status", "next_attempt_at"),
    Index("ix_scenarist_outbox_run", "run_id"),
)

outbox_attachments_table = Table(
    "scenarist_outbox_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "message_id",
        Integer,
        ForeignKey("scenarist_outbox.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("filename", String(500), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("ix_scenarist_outbox_attachments_message", "message_id"),
)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail, captured when the message was queued."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """A rendered message, as the outbox keeps it. Webhooks use `body` (the JSON payload).
    `delivery_id` is the Message-ID / Idempotency-Key the outbox fixed when it was queued."""

    reporter: str
    type: str
    body: str
    subject: str | None = None
    html: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())
    delivery_id: str | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A message to queue, with where it comes from."""

    project: str
    scenario: str
    run_id: str
    message: Message
    kind: str = "alert"  # or "recovery" (alert hygiene): a second message of the reporter
    shadow: bool = False  # a shadow reporter's: recorded as `shadow`, never claimed nor sent

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.run_id, self.message.reporter, self.kind)


@dataclass(frozen=True)
class OutboxRecord:
    """One outbox row (without its attachments' content)."""

    id: int
    idempotency_key: str
    project: str
    scenario: str
    run_id: str
    reporter: str
    type: str
    status: str
    subject: str | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    delivery_id: str | None = None
    lease_until: datetime | None = None  # while `sending`: when the claim expires


def idempotency_key(run_id: str, reporter: str, kind: str = "alert") -> str:
    """The key that makes a message unique: the run, the reporter and, for a message other than
    the run's alert (a recovery), its kind."""
    return f"{run_id}/{reporter}" if kind == "alert" else f"{run_id}/{reporter}/{kind}"


def enqueue(engine: Engine, messages: Sequence[QueuedMessage],
            now: datetime | None = None) -> list[int | None]:
    """Queue `messages` in one transaction; returns each one's id, None for a message whose
    idempotency key was already queued (it is left as it is)."""
    now = now or _now()
    ids: list[int | None] = []
    with engine.begin() as conn:
        for queued in messages:
            message = queued.message
            values = dict(
                idempotency_key=queued.idempotency_key, project=queued.project,
                scenario=queued.scenario, run_id=queued.run_id, reporter=message.reporter,
                type=message.type, status="shadow" if queued.shadow else "pending",
                subject=message.subject, body=message.body,
                html=message.html,
                recipients={"to": list(message.to), "cc": list(message.cc),
                            "bcc": list(message.bcc)},
                attempts=0, created_at=now, next_attempt_at=now,
                delivery_id=message.delivery_id or delivery_id(message.type),
            )
            new_id = conn.execute(_insert_unless_queued(conn.dialect.name, values)).scalar()
            ids.append(new_id)
            if new_id is not None and message.attachments:
                conn.execute(insert(outbox_attachments_table), [
                    {"message_id": new_id, "position": i, "filename": a.filename,
                     "content_type": a.content_type, "content": a.content}
                    for i, a in enumerate(message.attachments)
                ])
    return ids


def _insert_unless_queued(dialect: str, values: dict[str, Any]):
    return (dialect_insert(dialect, outbox_table).values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(outbox_table.c.id))


def delivery_id(type_: str, seed: str | None = None) -> str:
    """A new delivery id: `<hex@scenarist>` for a mail (its Message-ID), a UUID for a webhook
    (its Idempotency-Key). Random; derived from `seed` when given (a row queued before
    outbox_0002), so every sender derives the same."""
    token = uuid.uuid5(_DELIVERY_IDS, seed) if seed is not None else uuid.uuid4()
    return f"<{token.hex}@scenarist>" if type_ == "mail" else str(token)


def claim_lease() -> timedelta:
    """How long a claim holds: SCENARIST_OUTBOX_LEASE_SECONDS, else CLAIM_LEASE (10 min). It
    must outlast one message's delivery (the reporter's timeout), or another sender may take it
    while it is being sent (a copy, with the same delivery id)."""
    text = os.environ.get(LEASE_ENV)
    if not text:
        return CLAIM_LEASE
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"{LEASE_ENV} must be a number of seconds > 0, not {text!r}; "
                          "unset it for the default of 600")
    return timedelta(seconds=seconds)


def _claim_expired(now: datetime):
    t = outbox_table
    return and_(t.c.status == "sending",
                or_(t.c.lease_until < now,  # rows claimed before outbox_0002 have no lease
                    and_(t.c.lease_until.is_(None), t.c.last_attempt_at < now - CLAIM_LEASE)))


def claim_due(engine: Engine, project: str, now: datetime | None = None,
              ids: Sequence[int] | None = None, *, limit: int = 1,
              lease: timedelta | None = None,
              due_by: datetime | None = None) -> list[tuple[OutboxRecord, Message]]:
    """Claim at most `limit` of the project's messages due for an attempt, oldest first: pending
    and due by `due_by` (default: now), or claimed under a lease that has expired. Each is
    claimed by exactly one caller, under a lease of `lease` (default `claim_lease()`); a message
    without a delivery id gets its derived one, stored with the claim (before any attempt)."""
    now = now or _now()
    lease = lease or claim_lease()
    t = outbox_table
    due = or_(and_(t.c.status == "pending", t.c.next_attempt_at <= (due_by or now)),
              _claim_expired(now))
    query = select(t.c.id).where(t.c.project == project, due).order_by(t.c.id)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    claimed: list[tuple[OutboxRecord, Message]] = []
    while len(claimed) < limit:
        with engine.begin() as conn:
            candidates = conn.execute(query.limit(limit - len(claimed))).scalars().all()
        if not candidates:
            break
        for message_id in candidates:  # one lost to another sender is not due any more
            with engine.begin() as conn:
                won = conn.execute(
                    update(t).where(t.c.id == message_id, due)
                    .values(status="sending", last_attempt_at=now, lease_until=now + lease,
                            attempts=t.c.attempts + 1)
                ).rowcount
                if won:
                    _derive_delivery_id(conn, message_id)
                    claimed.append(_load(conn, message_id))
    return claimed


def _derive_delivery_id(conn, message_id: int) -> None:
    t = outbox_table
    row = conn.execute(select(t.c.project, t.c.idempotency_key, t.c.type, t.c.delivery_id)
                       .where(t.c.id == message_id)).one()
    if row.delivery_id is None:
        derived = delivery_id(row.type, f"{row.project}\n{row.idempotency_key}\n{message_id}")
        conn.execute(update(t).where(t.c.id == message_id, t.c.delivery_id.is_(None))
                     .values(delivery_id=derived))


def _load(conn, message_id: int) -> tuple[OutboxRecord, Message]:
    row = conn.execute(select(outbox_table).where(outbox_table.c.id == message_id)).one()
    attachments = conn.execute(
        select(outbox_attachments_table)
        .where(outbox_attachments_table.c.message_id == message_id)
        .order_by(outbox_attachments_table.c.position)
    ).all()
    recipients = row.recipients or {}
    message = Message(
        reporter=row.reporter, type=row.type, body=row.body, subject=row.subject, html=row.html,
        to=tuple(recipients.get("to", ())), cc=tuple(recipients.get("cc", ())),
        bcc=tuple(recipients.get("bcc", ())),
        attachments=tuple(Attachment(a.filename, bytes(a.content), a.content_type)
                          for a in attachments),
        delivery_id=row.delivery_id,
    )
    return _record(row), message


def mark_sent(engine: Engine, message_id: int, note: str | None = None,
              now: datetime | None = None) -> None:
    """Delivered (`note`: e.g. recipients the server refused while accepting others). Whoever
    delivered it says so, even a sender whose lease had expired; a message sent stays sent."""
    t = outbox_table
    with engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == message_id, t.c.status != "sent")
                     .values(status="sent", sent_at=now or _now(), last_error=note,
                             lease_until=None))
        fault_point("while_marking")


def mark_retry(engine: Engine, message_id: int, error: str, next_attempt_at: datetime, *,
               lease_until: datetime | None = None) -> None:
    """A temporary failure: pending again, not before `next_attempt_at`. With `lease_until`
    (the claim's), only while that claim holds the message: not once another sender took it."""
    _settle(engine, message_id, lease_until, status="pending", last_error=error,
            next_attempt_at=next_attempt_at)


def mark_failed(engine: Engine, message_id: int, error: str, *,
                lease_until: datetime | None = None) -> None:
    """A permanent failure, or attempts exhausted: kept until `retry` or `purge` (with
    `lease_until`, only while that claim holds the message)."""
    _settle(engine, message_id, lease_until, status="failed", last_error=error)


def _settle(engine: Engine, message_id: int, lease_until: datetime | None,
            **values: Any) -> None:
    t = outbox_table
    query = update(t).where(t.c.id == message_id, t.c.status != "sent")
    if lease_until is not None:
        query = query.where(t.c.status == "sending", t.c.lease_until == lease_until)
    with engine.begin() as conn:
        conn.execute(query.values(lease_until=None, **values))


def outbox_messages(engine: Engine, project: str | None = None, *,
                    statuses: Sequence[str] | None = None, run_id: str | None = None,
                    limit: int | None = None) -> list[OutboxRecord]:
    """Messages, oldest first, optionally of one project, statuses or run."""
    t = outbox_table
    columns = [c for c in t.c if c.name not in ("body", "html", "recipients")]
    query = select(*columns).order_by(t.c.id)
    if project is not None:
        query = query.where(t.c.project == project)
    if statuses:
        query = query.where(t.c.status.in_(list(statuses)))
    if run_id is not None:
        query = query.where(t.c.run_id == run_id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query).all()]


def requeue(engine: Engine, project: str, ids: Sequence[int] | None = None,
            now: datetime | None = None) -> int:
    """Make failed and pending messages, and those whose claim expired (their sender died),
    (or only `ids`) due now with a fresh attempt budget; returns how many. Sent messages and
    messages claimed under a live lease are left alone."""
    now = now or _now()
    t = outbox_table
    query = (update(t).where(t.c.project == project,
                             or_(t.c.status.in_(("pending", "failed")), _claim_expired(now)))
             .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None))
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    with engine.begin() as conn:
        return conn.execute(query).rowcount


def purge(engine: Engine, project: str, *, ids: Sequence[int] | None = None,
          statuses: Sequence[str] = ("sent",), older_than: datetime | None = None) -> int:
    """Delete messages of `project` (by id, or by status and age); returns how many."""
    t = outbox_table
    query = delete(t).where(t.c.project == project)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    else:
        query = query.where(t.c.status.in_(list(statuses)))
    if older_than is not None:
        query = query.where(t.c.created_at < older_than)
    with engine.begin() as conn:
        ids_gone = select(t.c.id).where(query.whereclause)
        conn.execute(delete(outbox_attachments_table)
                     .where(outbox_attachments_table.c.message_id.in_(ids_gone)))
        return conn.execute(query).rowcount


def _record(row: Any) -> OutboxRecord:
    values = {name: getattr(row, name) for name in OutboxRecord.__dataclass_fields__}
    for name in ("created_at", "next_attempt_at", "last_attempt_at", "sent_at", "lease_until"):
        if values[name] is not None and values[name].tzinfo is None:  # SQLite drops the zone
            values[name] = values[name].replace(tzinfo=timezone.utc)
    return OutboxRecord(**values)


def _now() -> datetime:
    return datetime.now(timezone.utc)
