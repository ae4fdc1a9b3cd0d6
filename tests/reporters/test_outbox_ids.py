"""A message's delivery id is fixed when it is queued and sent with every attempt: the mail's
Message-ID, the webhook's Idempotency-Key header (and, in the generic preset's payload, its
`idempotency_key`). Messages queued before the outbox had the column get an id derived from
the row, stored before their first attempt."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from reporter_helpers import MONITOR, edit_project, queue, warning_context
from sqlalchemy import create_engine, select, text, update

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.reporters.delivery import deliver_pending
from scenarist.stores import outbox
from scenarist.stores.database import connect
from scenarist.stores.outbox import Message, QueuedMessage, outbox_messages, outbox_table


def test_a_mail_keeps_the_message_id_it_was_queued_with(mail_project: Path, smtp_server):
    queue(warning_context(mail_project, "run-a"), deliver=False)
    queue(warning_context(mail_project, "run-b"), deliver=False)
    project = load_project(mail_project)
    engine = project_engine(project)
    queued = {r.run_id: r.delivery_id for r in outbox_messages(engine)}
    assert all(i.startswith("<") and i.endswith("@scenarist>") for i in queued.values())
    assert len(set(queued.values())) == 2

    smtp_server.temporary_failures = 2  # 451 to both first attempts; the retries get through
    report = asyncio.run(deliver_pending(project, engine, wait_seconds=60))
    assert len(report.sent) == 2
    rows = outbox_messages(engine)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2)] * 2
    assert {r.run_id: r.delivery_id for r in rows} == queued  # never re-minted
    assert sorted(m.message["Message-ID"] for m in smtp_server.messages) == sorted(
        queued.values())


def test_a_webhook_sends_its_idempotency_key_with_every_attempt(project_copy: Path,
                                                                 webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)

    def change(data: dict) -> None:
        data["scenarios"][MONITOR]["reporters"] = [
            {"name": f"hook {preset}", "type": "webhook", "url": "${TEST_HOOK_URL}",
             "preset": preset, "on": ["WARNING"], "retry_delay_seconds": 0.05,
             "timeout_seconds": 30} for preset in ("generic", "slack")]

    edit_project(project_copy, change)
    webhook_server.statuses = [500]  # the generic hook's first attempt fails
    queue(warning_context(project_copy, "run-hooks"))
    project = load_project(project_copy)
    engine = project_engine(project)
    asyncio.run(deliver_pending(project, engine, wait_seconds=60))
    keys = {r.reporter: r.delivery_id for r in outbox_messages(engine)}
    assert [r.status for r in outbox_messages(engine)] == ["sent", "sent"]
    by_key = {r["headers"]["Idempotency-Key"]: r["json"] for r in webhook_server.requests}
    assert set(by_key) == set(keys.values())
    assert by_key[keys["hook generic"]]["idempotency_key"] == keys["hook generic"]
    assert by_key[keys["hook generic"]]["scenario"] == MONITOR  # the payload is otherwise kept
    assert "idempotency_key" not in by_key[keys["hook slack"]]  # Slack's shape is Slack's


def test_recovery_and_revision_messages_get_their_own_id(store_url):
    engine = connect(store_url)
    mail = Message(reporter="r", type="mail", body="b", subject="s", to=("a@x",))
    hook = Message(reporter="h", type="webhook", body="{}")
    run = uuid.uuid4().hex  # the PostgreSQL schema is shared by the session's tests
    outbox.enqueue(engine, [QueuedMessage("ids", "s", run, mail),
                            QueuedMessage("ids", "s", run, mail, kind="recovery"),
                            QueuedMessage("ids", "s", f"{run}/r1-0a1b2c3d", hook)])
    ids = [m.delivery_id for m in outbox_messages(engine, "ids", run_id=None)][-3:]
    assert len(set(ids)) == 3 and ids[0].endswith("@scenarist>") and "@" not in ids[2]


def test_a_message_queued_before_the_migration_gets_a_derived_id(store_url):
    engine = connect(store_url)
    message = Message(reporter="r", type="mail", body="b", subject="s", to=("a@x",))
    run = uuid.uuid4().hex
    [message_id] = outbox.enqueue(engine, [QueuedMessage("legacy", "s", run, message)])
    with engine.begin() as conn:  # as outbox_0002 leaves a row queued before it
        conn.execute(update(outbox_table).where(outbox_table.c.id == message_id)
                     .values(delivery_id=None))
    [(record, claimed)] = outbox.claim_due(engine, "legacy")
    expected = outbox.delivery_id("mail", f"legacy\n{run}/r\n{message_id}")
    assert record.delivery_id == claimed.delivery_id == expected
    with engine.connect() as conn:  # stored with the claim, before any attempt
        stored = conn.execute(select(outbox_table.c.delivery_id)
                              .where(outbox_table.c.id == message_id)).scalar_one()
    assert stored == expected


def test_the_migration_keeps_rows_queued_before_it(tmp_path: Path):
    from alembic import command
    from alembic.config import Config

    from scenarist.stores.database import _MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with old.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "outbox_0001")
        conn.execute(_legacy_row())
    old.dispose()
    engine = connect(url)  # migrates to every head
    [row] = outbox_messages(engine, "p")
    assert row.status == "pending" and row.delivery_id is None and row.lease_until is None
    [(record, _)] = outbox.claim_due(engine, "p")
    assert record.delivery_id == outbox.delivery_id("mail", f"p\nrun-0/r\n{record.id}")


def _legacy_row():
    """A row as scenarist wrote it before outbox_0002 (no delivery_id, no lease_until)."""
    return text(
        "INSERT INTO scenarist_outbox (idempotency_key, project, scenario, run_id, reporter, "
        "type, status, subject, body, recipients, attempts, created_at, next_attempt_at) "
        "VALUES ('run-0/r', 'p', 's', 'run-0', 'r', 'mail', 'pending', 's', 'b', "
        "'{\"to\": [\"a@x\"]}', 0, '2026-11-01 00:00:00', '2026-11-01 00:00:00')")
