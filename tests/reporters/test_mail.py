"""The mail reporter against a real aiosmtpd server: the DESIGN.md §4 reporter through a real
scenario run, recipients, attachments (decoded, byte-equal), and every SMTP fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reporter_helpers import MONITOR, edit_project, queue, warning_context

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.scenario import project_engine, run_scenario
from scenarist.reporters.queue import check_results_csv
from scenarist.stores.outbox import outbox_messages
from scenarist.stores.runs import scenario_run


def _reporter(data: dict) -> dict:
    return data["scenarios"][MONITOR]["reporters"][0]


def test_the_design_reporter_works_as_written(mail_project: Path, smtp_server, prefect_api):
    result = run_scenario(mail_project, MONITOR)
    assert result.outcome is StepOutcome.WARNING
    [mail] = smtp_server.messages
    assert mail.message["Subject"] == 'scenario "Data drift monitor" issued a warning'
    assert mail.mail_from == "mlops@example.com" and mail.rcpt_tos == ["me@example.com"]
    assert mail.message["To"] == "me@example.com"
    body = mail.text
    drift = next(c for c in result.checks if c["name"] == "data drift < 0.45")
    assert f"data_drift = {drift['value']:.4g}" in body and "soft_max=0.45" in body
    assert "data drift < 0.45: WARNING" in body
    assert result.url and f"Run: {result.url}" in body
    # the run's log and its HTML evaluation report, byte for byte
    report = Path(re.search(r"HTML evaluation report: (\S+)", result.log)[1])
    assert mail.attachments == {"scenario.log": result.log.encode(),
                                report.name: report.read_bytes()}
    run, _ = scenario_run(project_engine(result_project := _load(mail_project)), result.run_id)
    assert re.search(r"reporter 'Data drift warning': message #\d+ delivered", run["log"])
    assert run["outcome"] == "WARNING" and run["message"] == "reporters: 1/1 delivered"
    [row] = outbox_messages(project_engine(result_project), run_id=result.run_id)
    assert row.status == "sent" and row.attempts == 1


def _load(root: Path):
    from scenarist.project.config import load_project

    return load_project(root)


def test_recipients_html_and_every_attachment_kind(mail_project: Path, smtp_server):
    (mail_project / "out").mkdir()
    produced = bytes(range(256)) * 40  # a binary file a step wrote
    (mail_project / "out" / "scores_2017Q4.bin").write_bytes(produced)
    report = mail_project / "report.html"
    report.write_text("<html>report</html>")

    def change(data: dict) -> None:
        _reporter(data).update(
            to=["a@example.com", "b@example.com"], cc=["c@example.com"],
            bcc=["hidden@example.com"], html="<p>{{ scenarioName }} &amp; {{ outcome }}</p>",
            attach=["scenario_log", "check_results", "evaluation_report",
                    "out/scores_{{ quarter }}.bin"])

    edit_project(mail_project, change)
    ctx = warning_context(mail_project, "run-attachments")
    ctx.evaluation_report_path = str(report)  # the hook the HTML report issue will set
    summary = queue(ctx, log="line one\nligne deux é\n")
    assert summary.queued and summary.delivery.sent
    [mail] = smtp_server.messages
    assert sorted(mail.rcpt_tos) == ["a@example.com", "b@example.com", "c@example.com",
                                     "hidden@example.com"]
    assert mail.message["Cc"] == "c@example.com" and mail.message["Bcc"] is None
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Data drift monitor &amp; WARNING</p>" in html
    assert mail.attachments == {
        "scenario.log": "line one\nligne deux é\n".encode(),
        "check_results.csv": check_results_csv(ctx.checks),
        "report.html": b"<html>report</html>",
        "scores_2017Q4.bin": produced,
    }
    assert check_results_csv(ctx.checks).decode().splitlines()[1].startswith(
        "data drift < 0.45,WARNING,data_drift,,0.5,")


def test_a_missing_attachment_is_named_and_the_message_still_sent(mail_project, smtp_server):
    edit_project(mail_project, lambda d: _reporter(d).update(
        attach=["out/missing.csv", "evaluation_report"]))
    summary = queue(warning_context(mail_project, "run-missing"))  # made no HTML report
    assert any("attachment out/missing.csv not found" in line for line in summary.lines)
    assert any("no HTML evaluation report; evaluation_report not attached" in line
               for line in summary.lines)
    [mail] = smtp_server.messages
    assert mail.attachments == {}
    assert "[scenarist] not attached: out/missing.csv (file not found)" in mail.text


def test_a_rejected_recipient_is_a_permanent_failure_kept_in_the_outbox(mail_project,
                                                                       smtp_server):
    smtp_server.reject = {"me@example.com"}
    summary = queue(warning_context(mail_project, "run-rejected"))
    [(message_id, error)] = summary.delivery.failed.items()
    assert "refused every recipient: me@example.com: 550" in error and "(permanent)" in error
    [row] = outbox_messages(project_engine(_load(mail_project)))
    assert (row.id, row.status, row.attempts) == (message_id, "failed", 1)
    assert any("delivery FAILED" in line for line in summary.lines)
    assert smtp_server.messages == []


def test_some_recipients_refused_is_sent_with_a_note(mail_project, smtp_server):
    smtp_server.reject = {"gone@example.com"}
    edit_project(mail_project, lambda d: _reporter(d).update(
        to=["me@example.com", "gone@example.com"]))
    summary = queue(warning_context(mail_project, "run-partial"))
    [note] = summary.delivery.sent.values()
    assert "refused gone@example.com: 550" in note
    assert smtp_server.messages[0].rcpt_tos == ["me@example.com"]


def test_login_with_the_password_from_the_environment(mail_project, smtp_server, monkeypatch):
    smtp_server.credentials = ("mlops", "s3cret")
    smtp_server.restart()

    def change(data: dict) -> None:
        data["connections"]["mail"].update(username="mlops", password="${SMTP_TEST_PASSWORD}")

    edit_project(mail_project, change)
    assert "s3cret" not in (mail_project / "scenarist.yaml").read_text()
    monkeypatch.setenv("SMTP_TEST_PASSWORD", "wrong")
    summary = queue(warning_context(mail_project, "run-auth"))
    [error] = summary.delivery.failed.values()
    assert "rejected the login of 'mlops': 535" in error and "(permanent)" in error
    monkeypatch.setenv("SMTP_TEST_PASSWORD", "s3cret")
    from scenarist.reporters.delivery import deliver_pending
    from scenarist.stores.outbox import requeue

    project = _load(mail_project)
    engine = project_engine(project)
    assert requeue(engine, project.project) == 1
    import asyncio

    report = asyncio.run(deliver_pending(project, engine))
    assert len(report.sent) == 1 and len(smtp_server.messages) == 1
    rows = outbox_messages(engine)
    assert all("s3cret" not in (r.last_error or "") for r in rows)


def test_an_unset_password_variable_is_a_clear_failure(mail_project, smtp_server):
    edit_project(mail_project, lambda d: d["connections"]["mail"].update(
        username="mlops", password="${SCENARIST_UNSET_PASSWORD}"))
    summary = queue(warning_context(mail_project, "run-unset"))
    [error] = summary.delivery.failed.values()
    assert "environment variable SCENARIST_UNSET_PASSWORD is not set" in error


def test_a_slow_server_times_out_and_is_retried(mail_project, smtp_server):
    smtp_server.rcpt_delay = 5  # far longer than the client waits (0.3 s)
    edit_project(mail_project, lambda d: _reporter(d).update(timeout_seconds=0.3))
    summary = queue(warning_context(mail_project, "run-slow"))
    [error] = summary.delivery.retrying.values()
    assert "timed out after 0.3 s" in error and "attempt 1/5" in error
    assert any("not delivered yet" in line for line in summary.lines)


@pytest.mark.parametrize("reporter_type", ["mail", "webhook"])
def test_every_reporter_type_renders_its_default_templates(project_copy, reporter_type):
    """The standard suite: each type's built-in templates render against the sample run."""
    from scenarist.project.config import load_project
    from scenarist.reporters.render import render_content, sample_variables
    from scenarist.reporters.specs import MailReporterSpec, WebhookReporterSpec

    project = load_project(project_copy)
    variables = sample_variables(project, MONITOR)
    if reporter_type == "mail":
        specs = [MailReporterSpec(name="m", type="mail", to=["x@example.com"]),
                 MailReporterSpec(name="h", type="mail", to=["x@example.com"],
                                  html_template="mail_body.html.j2")]
    else:
        specs = [WebhookReporterSpec(name=p, type="webhook", url="http://x", preset=p)
                 for p in ("generic", "slack", "teams")]
    for spec in specs:
        content = render_content(spec, project.root, variables)
        assert "sample check" in content.body and "0.5" in content.body
