"""The webhook reporter against a real local HTTP server: payloads of each preset, retries on
500, timeouts, permanent 4xx; and the outbox store's idempotency on SQLite and PostgreSQL.

Timeouts are generous (30 s) wherever a test expects a delivery to succeed, so a loaded machine
cannot fail it; a test of a timeout makes the server hold the request far longer (5 s) than the
client waits (0.2 s)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from reporter_helpers import MONITOR, edit_project, queue, warning_context

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.reporters.delivery import deliver_pending
from scenarist.stores import outbox
from scenarist.stores.database import connect
from scenarist.stores.outbox import Message, QueuedMessage


def _webhooks(root: Path, url: str, **options) -> None:
    def change(data: dict) -> None:
        data["scenarios"][MONITOR]["reporters"] = [
            {"name": f"hook {preset}", "type": "webhook", "url": "${TEST_HOOK_URL}",
             "preset": preset, "on": ["WARNING"], "retry_delay_seconds": 0.05,
             "timeout_seconds": 30, **options}
            for preset in options.pop("presets", ["generic", "slack", "teams"])
        ]

    edit_project(root, change)


def test_each_preset_posts_its_json(project_copy: Path, webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url)
    summary = queue(warning_context(project_copy, "run-hooks"))
    assert len(summary.delivery.sent) == 3
    generic, slack, teams = (r["json"] for r in webhook_server.requests)
    assert generic["scenario"] == MONITOR and generic["outcome"] == "WARNING"
    assert generic["run_url"].endswith("/run-hooks")
    assert generic["checks"][0] == {
        "name": "data drift < 0.45", "outcome": "WARNING", "metric": "data_drift",
        "feature": None, "value": 0.5, "bounds": {"soft_max": 0.45},
        "message": "data_drift = 0.5 > soft_max 0.45"}
    assert slack["text"].startswith(f"*Scenario {MONITOR}*: WARNING\n• data drift < 0.45: "
                                    "WARNING (data_drift = 0.5; soft_max=0.45)")
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][1]["facts"][0]["title"] == "data drift < 0.45"
    assert webhook_server.requests[0]["headers"]["Content-Type"] == "application/json"


def test_a_closed_gate_sends_nothing(project_copy: Path, webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url, presets=["generic"])
    from scenarist.checks.outcome import StepOutcome

    summary = queue(warning_context(project_copy, "run-ok", outcome=StepOutcome.SUCCESS))
    assert summary.skipped == ["hook generic"] and not summary.queued


def test_500_is_retried_with_backoff_until_delivered(project_copy, webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url, presets=["generic"])
    webhook_server.statuses = [500, 503]
    summary = queue(warning_context(project_copy, "run-500"))
    [error] = summary.delivery.retrying.values()
    assert "answered 500 Internal Server Error" in error and "attempt 1/5" in error
    assert webhook_server.url not in error  # a webhook URL is a secret: only its host
    project = load_project(project_copy)
    report = asyncio.run(deliver_pending(project, project_engine(project), wait_seconds=60))
    assert len(report.sent) == 1 and len(webhook_server.requests) == 1
    [row] = outbox.outbox_messages(project_engine(project))
    assert (row.status, row.attempts) == ("sent", 3)


def test_a_timeout_is_temporary(project_copy, webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url, presets=["generic"], timeout_seconds=0.2)
    webhook_server.delay = 5  # the server holds the request well past the client's timeout
    summary = queue(warning_context(project_copy, "run-slow"))
    [error] = summary.delivery.retrying.values()
    assert "timed out after 0.2 s" in error


def test_404_is_permanent(project_copy, webhook_server, monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url, presets=["generic"])
    webhook_server.statuses = [404]
    summary = queue(warning_context(project_copy, "run-404"))
    [error] = summary.delivery.failed.values()
    assert "answered 404 Not Found" in error and "(permanent)" in error


def test_an_unset_url_variable_is_a_clear_failure(project_copy: Path, webhook_server):
    _webhooks(project_copy, webhook_server.url, presets=["slack"])
    summary = queue(warning_context(project_copy, "run-nourl"))
    [error] = summary.delivery.failed.values()
    assert "environment variable TEST_HOOK_URL (in `url`) is not set" in error


def test_a_template_failing_at_run_time_sends_a_fallback(project_copy, webhook_server,
                                                        monkeypatch):
    monkeypatch.setenv("TEST_HOOK_URL", webhook_server.url)
    _webhooks(project_copy, webhook_server.url, presets=["generic"],
              payload='{"drift": {{ evaluation.metrics.data_drift | tojson }}}')
    ctx = warning_context(project_copy, "run-fallback")
    ctx.evaluation = None  # validation's sample run had one; this run did not
    summary = queue(ctx)
    assert any("sending a plain fallback message" in line for line in summary.lines)
    [request] = webhook_server.requests
    assert request["json"]["outcome"] == "WARNING" and "could not be rendered" in \
        request["json"]["text"]


def test_the_outbox_queues_a_key_once_and_claims_a_message_once(store_url):
    engine = connect(store_url)
    message = Message(reporter="r", type="mail", body="b", subject="s", to=("a@x",))
    queued = QueuedMessage("p", "s", "run-1", message)
    [first] = outbox.enqueue(engine, [queued])
    assert first is not None
    assert outbox.enqueue(engine, [queued, QueuedMessage("p", "s", "run-2", message)])[0] is None
    claimed = outbox.claim_due(engine, "p", limit=5)
    assert [r.run_id for r, _ in claimed] == ["run-1", "run-2"]
    assert claimed[0][1] == replace(message, delivery_id=claimed[0][0].delivery_id)
    assert outbox.claim_due(engine, "p") == []  # claimed: no second sender gets it
    outbox.mark_sent(engine, first)
    outbox.mark_failed(engine, claimed[1][0].id, "boom")
    assert outbox.requeue(engine, "p") == 1  # the failed one only; sent is never requeued
    assert outbox.purge(engine, "p") == 1
    assert [m.status for m in outbox.outbox_messages(engine, "p")] == ["pending"]
