"""Claims are small and leases expire visibly: a sender holds one message at a time, `outbox
list` shows each claim's lease, `outbox retry` takes the messages of a sender that died, and a
sender whose claim was taken cannot undo what the next one recorded."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from reporter_helpers import queue, warning_context
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.errors import ConfigError
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.reporters.delivery import deliver_pending
from scenarist.stores import outbox
from scenarist.stores.database import connect
from scenarist.stores.outbox import Message, QueuedMessage, outbox_messages


def test_a_sender_holds_one_claim_at_a_time(mail_project: Path, smtp_server):
    for i in range(5):
        queue(warning_context(mail_project, f"run-{i}"), deliver=False)
    project = load_project(mail_project)
    engine = project_engine(project)
    seen: list[Counter] = []
    keep = smtp_server.handle_DATA

    async def handle_DATA(server, session, envelope):  # noqa: N802 - as each mail arrives
        seen.append(Counter(m.status for m in outbox_messages(engine)))
        return await keep(server, session, envelope)

    smtp_server.handle_DATA = handle_DATA
    report = asyncio.run(deliver_pending(project, engine))
    assert len(report.sent) == 5
    assert seen == [Counter(sent=i, sending=1, pending=4 - i) for i in range(5)]


def test_list_shows_leases_and_retry_takes_expired_claims(mail_project: Path, smtp_server,
                                                          wide_console):
    for i in range(3):
        queue(warning_context(mail_project, f"run-{i}"), deliver=False)
    engine = project_engine(load_project(mail_project))
    now = datetime.now(timezone.utc)
    # message 1: claimed by a live sender; message 2: its sender died 5 minutes ago under a
    # 2-minute lease (claimed second: an expired claim is the first a claim takes)
    [(live, _)] = outbox.claim_due(engine, "fraud-monitoring", lease=timedelta(minutes=10))
    [(dead, _)] = outbox.claim_due(engine, "fraud-monitoring", now=now - timedelta(minutes=5),
                                   lease=timedelta(minutes=2), due_by=now)
    runner = CliRunner()
    listing = runner.invoke(app, ["outbox", "list", "-p", str(mail_project)])
    assert listing.exit_code == 0, listing.output
    assert "sending (lease expired 3m ago)" in listing.output
    assert f"sending (claimed, lease until {live.lease_until:%H:%M:%S})" in listing.output

    retried = runner.invoke(app, ["outbox", "retry", "-p", str(mail_project), "--wait", "0"])
    assert "1 message(s) being sent by another sender" in retried.output
    assert "2 of 3 message(s) delivered" in retried.output, retried.output
    assert retried.exit_code == 1  # the live claim is still undelivered
    rows = {r.id: r for r in outbox_messages(engine)}
    assert rows[dead.id].status == "sent" and rows[live.id].status == "sending"
    assert {m.message["Message-ID"] for m in smtp_server.messages} == {
        rows[dead.id].delivery_id, rows[3].delivery_id}


def test_only_expired_claims_are_still_something_to_retry(mail_project: Path, smtp_server):
    queue(warning_context(mail_project, "run-0"), deliver=False)
    engine = project_engine(load_project(mail_project))
    now = datetime.now(timezone.utc)
    outbox.claim_due(engine, "fraud-monitoring", now=now - timedelta(hours=1), due_by=now)
    retried = CliRunner().invoke(app, ["outbox", "retry", "-p", str(mail_project)])
    assert retried.exit_code == 0 and "1 of 1 message(s) delivered" in retried.output
    assert len(smtp_server.messages) == 1


def test_a_sender_whose_claim_was_taken_cannot_undo_the_next_one(store_url):
    engine = connect(store_url)
    message = Message(reporter="r", type="webhook", body="{}")
    outbox.enqueue(engine, [QueuedMessage("lease", "s", uuid.uuid4().hex, message)])
    now = datetime.now(timezone.utc)
    [(first, _)] = outbox.claim_due(engine, "lease", now=now - timedelta(minutes=1),
                                    lease=timedelta(seconds=1), due_by=now)
    [(second, _)] = outbox.claim_due(engine, "lease")  # the first claim expired
    assert second.id == first.id and second.delivery_id == first.delivery_id
    outbox.mark_retry(engine, first.id, "late", datetime.now(timezone.utc),
                      lease_until=first.lease_until)  # not its claim any more: no effect
    [row] = outbox_messages(engine, "lease")
    assert (row.status, row.lease_until) == ("sending", second.lease_until)
    outbox.mark_sent(engine, second.id)
    outbox.mark_failed(engine, first.id, "late", lease_until=first.lease_until)
    outbox.mark_failed(engine, second.id, "late", lease_until=second.lease_until)
    assert [m.status for m in outbox_messages(engine, "lease")] == ["sent"]


def test_the_lease_length_is_configurable(monkeypatch, mail_project: Path):
    monkeypatch.setenv(outbox.LEASE_ENV, "1.5")
    assert outbox.claim_lease() == timedelta(seconds=1.5)
    monkeypatch.setenv(outbox.LEASE_ENV, "soon")
    with pytest.raises(ConfigError, match="SCENARIST_OUTBOX_LEASE_SECONDS must be a number"):
        outbox.claim_lease()
    queue(warning_context(mail_project, "run-0"), deliver=False)
    result = CliRunner().invoke(app, ["outbox", "retry", "-p", str(mail_project)])
    assert result.exit_code != 0 and "must be a number of seconds > 0, not 'soon'" in \
        result.output and "Traceback" not in result.output
