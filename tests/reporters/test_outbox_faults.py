"""Nothing lost, nothing twice: an SMTP server that is down, or answers 451, while a scenario
that must alert keeps running; then `scenarist outbox retry` delivers every message once.

To keep the suite fast, one alert comes from a real scenario run (Prefect flow) and the others
from `queue_reports` called directly with distinct run contexts: the same function, with the
same arguments, that `scenario_flow` calls once a run's outcome is recorded.
"""

from __future__ import annotations

import re
from pathlib import Path

from reporter_helpers import MONITOR, edit_project, queue, warning_context
from typer.testing import CliRunner

from scenarist.checks.outcome import StepOutcome
from scenarist.cli import app
from scenarist.flows.scenario import project_engine, run_scenario
from scenarist.project.config import load_project
from scenarist.stores.outbox import outbox_messages
from scenarist.stores.runs import scenario_run

RUNS = 20


def _reporter(data: dict) -> dict:
    return data["scenarios"][MONITOR]["reporters"][0]


def _run_urls(smtp_server) -> list[str]:
    return [re.search(r"^Run: (\S+)\s*$", m.text, re.M)[1] for m in smtp_server.messages]


def test_server_down_for_20_alerting_runs_then_back(mail_project: Path, smtp_server,
                                                   prefect_api):
    smtp_server.stop()
    result = run_scenario(mail_project, MONITOR)
    assert result.outcome is StepOutcome.WARNING  # delivery failures never change it
    engine = project_engine(load_project(mail_project))
    run, _ = scenario_run(engine, result.run_id)
    assert run["outcome"] == "WARNING"
    assert run["message"] == "reporters: 0/1 delivered, 1 pending retry"
    assert "not delivered yet, attempt 1/5: cannot reach SMTP server 127.0.0.1:" in run["log"]

    for i in range(RUNS - 1):
        queue(warning_context(mail_project, f"run-{i:02d}"))
    # a retried / re-run flow: same run ids, nothing queued twice
    again = queue(warning_context(mail_project, result.run_id))
    assert again.already_queued == ["Data drift warning"] and not again.queued
    assert queue(warning_context(mail_project, "run-00")).already_queued

    listing = CliRunner().invoke(app, ["outbox", "list", "-p", str(mail_project)])
    assert listing.exit_code == 0, listing.output
    rows = outbox_messages(engine)
    assert len(rows) == RUNS and {r.status for r in rows} <= {"pending", "failed"}
    assert all("cannot reach SMTP server" in (r.last_error or "") for r in rows), rows

    smtp_server.start()
    retried = CliRunner().invoke(app, ["outbox", "retry", "-p", str(mail_project), "--wait", "60"])
    assert retried.exit_code == 0, retried.output
    assert f"{RUNS} of {RUNS} message(s) delivered" in retried.output
    urls = _run_urls(smtp_server)
    assert len(urls) == RUNS and len(set(urls)) == RUNS  # exactly 20, none twice
    assert result.url in urls
    assert {r.status for r in outbox_messages(engine)} == {"sent"}

    # delivering again sends nothing more
    again = CliRunner().invoke(app, ["outbox", "retry", "-p", str(mail_project)])
    assert again.exit_code == 0 and "nothing to retry" in again.output
    assert len(smtp_server.messages) == RUNS


def test_a_server_answering_451_at_first(mail_project: Path, smtp_server):
    # while queuing, a long backoff: each run's delivery attempt is its message's only one
    edit_project(mail_project, lambda d: _reporter(d).update(retry_delay_seconds=60))
    smtp_server.temporary_failures = RUNS + 5  # RCPT answers "451 try again later" this often
    for i in range(RUNS):
        queue(warning_context(mail_project, f"run-{i:02d}"))
    engine = project_engine(load_project(mail_project))
    rows = outbox_messages(engine)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * RUNS
    assert all("451 4.3.0 try again later" in r.last_error for r in rows)
    assert smtp_server.messages == [] and smtp_server.temporary_failures == 5

    # a short backoff now (delivery reads the project's current spec): `retry` gets 451 for
    # five messages, waits, and delivers them on their second attempt
    edit_project(mail_project, lambda d: _reporter(d).update(retry_delay_seconds=0.05))
    retried = CliRunner().invoke(app, ["outbox", "retry", "-p", str(mail_project), "--wait", "60"])
    assert retried.exit_code == 0, retried.output
    urls = _run_urls(smtp_server)
    assert len(urls) == RUNS and len(set(urls)) == RUNS  # exactly 20, none twice
    rows = outbox_messages(engine)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(r.attempts for r in rows) == [1] * (RUNS - 5) + [2] * 5


def test_list_retry_and_purge(mail_project: Path, smtp_server):
    smtp_server.reject = {"me@example.com"}
    queue(warning_context(mail_project, "run-rejected"))
    runner = CliRunner()
    listing = runner.invoke(app, ["outbox", "list", "-p", str(mail_project)])
    assert "failed" in listing.output and "550" in listing.output
    still = runner.invoke(app, ["outbox", "retry", "-p", str(mail_project), "--wait", "0"])
    assert still.exit_code == 1 and "1 message(s) still undelivered" in still.output
    smtp_server.reject = set()
    fixed = runner.invoke(app, ["outbox", "retry", "1", "-p", str(mail_project)])
    assert fixed.exit_code == 0 and "1 of 1 message(s) delivered" in fixed.output
    assert "no pending or failed" in runner.invoke(
        app, ["outbox", "list", "-p", str(mail_project)]).output
    purged = runner.invoke(app, ["outbox", "purge", "-p", str(mail_project)])
    assert "purged 1 sent message(s)" in purged.output
    assert "the outbox is empty" in runner.invoke(
        app, ["outbox", "list", "--all", "-p", str(mail_project)]).output
