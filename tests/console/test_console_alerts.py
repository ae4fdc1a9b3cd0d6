"""/alerts: the outbox with status, attempts and last error; retry and purge (CSRF + admin)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from console_b_helpers import XSS, csrf_of

from scenarist.demo.smtp_sink import SmtpSink
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores import outbox

SCENARIO, REPORTER = "Data drift monitor", "Data drift warning"


HOURS_AGO = datetime.now(timezone.utc) - timedelta(hours=2)


@pytest.fixture
def queued_message(console_site):
    """A mail of the demo's reporter queued two hours ago, its subject an XSS payload."""
    project = load_project(console_site.project)
    engine = project_engine(project)
    (message_id,) = outbox.enqueue(engine, [outbox.QueuedMessage(
        project=project.project, scenario=SCENARIO, run_id=f"console-{uuid.uuid4().hex[:8]}",
        message=outbox.Message(reporter=REPORTER, type="mail", body="drift!",
                               subject=f"drift {XSS}", to=("me@example.com",)))],
        now=HOURS_AGO)
    yield engine, project, message_id
    outbox.purge(engine, project.project, ids=[message_id])


@pytest.fixture
def failed_message(queued_message):
    """The queued mail, failed for good."""
    engine, _, message_id = queued_message
    outbox.mark_failed(engine, message_id, "535 authentication failed")
    return queued_message


def _record(engine, project, message_id):
    found = [m for m in outbox.outbox_messages(engine, project.project) if m.id == message_id]
    return found[0] if found else None


def test_alerts_page_lists_every_message_with_status_attempts_and_last_error(
        client, failed_message):
    engine, project, message_id = failed_message
    every = outbox.outbox_messages(engine, project.project)
    page = client.get("/alerts")
    assert page.status_code == 200
    for m in every:
        assert f'data-message="{m.id}"' in page.text
    assert "535 authentication failed" in page.text
    assert "drift &lt;script&gt;alert(1)&lt;/script&gt;" in page.text and XSS not in page.text
    failed_only = client.get("/alerts", params={"status": "failed"})
    assert f'data-message="{message_id}"' in failed_only.text
    assert all(f'data-message="{m.id}"' not in failed_only.text
               for m in every if m.status != "failed")
    assert client.get("/alerts", params={"status": "bogus"}).status_code == 404


def test_retry_delivers_a_failed_message_to_a_real_smtp_server(client, failed_message,
                                                              monkeypatch):
    engine, project, message_id = failed_message
    with SmtpSink() as sink:
        monkeypatch.setenv("SCENARIST_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SCENARIST_SMTP_PORT", str(sink.port))
        token = csrf_of(client, "/alerts")
        done = client.post("/alerts/retry", data={"id": str(message_id), "csrf_token": token})
        assert done.status_code == 200 and "1 of 1 message(s) delivered" in done.text
        assert [m["Subject"] for m in sink.messages] == [f"drift {XSS}"]
    record = _record(engine, project, message_id)
    assert record.status == "sent" and record.attempts == 1


def test_purge_deletes_the_chosen_message(client, failed_message):
    engine, project, message_id = failed_message
    token = csrf_of(client, "/alerts")
    done = client.post("/alerts/purge", data={"id": str(message_id), "what": "everything",
                                              "csrf_token": token})
    assert done.status_code == 200 and "purged 1 message(s)" in done.text
    assert _record(engine, project, message_id) is None


def test_retry_and_purge_refuse_a_missing_or_forged_csrf_token(client, failed_message):
    engine, project, message_id = failed_message
    for path in ("/alerts/retry", "/alerts/purge"):
        assert client.post(path, data={"id": str(message_id)}).status_code == 403
        assert client.post(path, data={"id": str(message_id), "what": "everything",
                                       "csrf_token": "x"}).status_code == 403
    record = _record(engine, project, message_id)
    assert record.status == "failed" and record.attempts == 0


def _row(page, message_id: int) -> str:
    return re.search(rf'<tr id="message-{message_id}".*?</tr>', page.text, re.S)[0]


def test_a_claimed_message_shows_its_lease_and_is_not_retried_while_it_holds(
        client, queued_message):
    engine, project, message_id = queued_message
    ((record, _),) = outbox.claim_due(engine, project.project, ids=[message_id],
                                      lease=timedelta(hours=1))
    row = _row(client.get("/alerts?status=sending"), message_id)
    assert f"claimed until {record.lease_until:%Y-%m-%d %H:%M:%S}" in row
    assert "Retry</button>" not in row
    token = csrf_of(client, "/alerts")
    client.post("/alerts/retry", data={"id": str(message_id), "csrf_token": token})
    assert _record(engine, project, message_id).status == "sending"


def test_a_claim_whose_lease_expired_is_shown_stranded_and_retry_delivers_it(
        client, queued_message, monkeypatch):
    engine, project, message_id = queued_message
    ((record, _),) = outbox.claim_due(engine, project.project, HOURS_AGO, ids=[message_id],
                                      lease=timedelta(minutes=10))
    row = _row(client.get("/alerts"), message_id)
    assert f"lease expired at {record.lease_until:%Y-%m-%d %H:%M:%S}" in row
    assert "Retry</button>" in row
    with SmtpSink() as sink:
        monkeypatch.setenv("SCENARIST_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SCENARIST_SMTP_PORT", str(sink.port))
        token = csrf_of(client, "/alerts")
        done = client.post("/alerts/retry", data={"id": str(message_id), "csrf_token": token})
        assert "1 of 1 message(s) delivered" in done.text
        assert len(sink.messages) == 1
    assert _record(engine, project, message_id).status == "sent"
