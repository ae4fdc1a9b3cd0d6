"""Alert hygiene end to end: ten runs of a scenario through `queue_reports` (the function the
scenario flow calls once a run's outcome is recorded), a real SMTP server (aiosmtpd) and a real
webhook server, and exactly the expected messages — no more, no fewer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from reporter_helpers import MONITOR, edit_project, queue
from typer.testing import CliRunner

from scenarist.checks.outcome import Outcome, StepOutcome
from scenarist.cli import app
from scenarist.flows.context import RunContext
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.alert_state import alert_states
from scenarist.stores.outbox import outbox_messages
from scenarist.validation import validate_project

DRIFT, AUC = "data drift < 0.45", "auc above 0.7"
OK, W, E = "OK", "WARNING", "ERROR"

# run: (drift, auc on segment EU) → what the once_per_state reporter sends
SEQUENCE = [
    ((OK, OK), []),                                   # 1 all fine
    ((W, OK), ["alert: drift WARNING"]),              # 2 drift enters WARNING
    ((W, OK), []),                                    # 3 still WARNING: nothing
    ((W, OK), ["alert: drift ERROR (escalated)"]),    # 4 3rd WARNING in a row → ERROR
    ((W, W), ["alert: auc [EU] WARNING"]),            # 5 auc [EU] enters WARNING (drift
    #                                                      still ERROR in it, not re-escalated)
    ((OK, W), ["back to OK: drift"]),                 # 6 drift recovers, auc stays
    ((OK, OK), ["back to OK: auc [EU]"]),             # 7 auc recovers
    ((E, OK), ["alert: drift ERROR"]),                # 8 drift enters ERROR
    ((W, OK), ["alert: drift WARNING"]),              # 9 ERROR → WARNING is a new state
    ((OK, OK), ["back to OK: drift"]),                # 10
]


def _context(root: Path, run: int, drift: str, auc: str) -> RunContext:
    project = load_project(root)
    checks = [
        {"name": DRIFT, "outcome": drift, "metric": "data_drift", "feature": None,
         "value": {OK: 0.2, W: 0.5, E: 0.9}[drift], "bounds": {"soft_max": 0.45},
         "message": f"data_drift {drift}", "evaluation_label": f"week{run}",
         "checked_at": datetime(2026, 1, run, tzinfo=timezone.utc), "store": "the_MES"},
        {"name": AUC, "outcome": auc, "segment": "EU", "metric": "auc", "feature": None,
         "value": 0.8 if auc == OK else 0.72, "bounds": {"soft_min": 0.75, "hard_min": 0.7},
         "message": f"auc {auc}", "evaluation_label": f"week{run}",
         "checked_at": datetime(2026, 1, run, tzinfo=timezone.utc), "store": "the_MES"},
    ]
    outcome = StepOutcome.from_checks(Outcome(c["outcome"]) for c in checks)
    return RunContext(
        project=project, scenario=MONITOR, run_id=f"run-{run:02d}",
        run_url=f"http://127.0.0.1:4200/runs/flow-run/run-{run:02d}",
        step_outcomes={"Build MES": StepOutcome.SUCCESS, "MES_Warn": outcome}, checks=checks,
        evaluation={"store": "the_MES", "label": f"week{run}", "row_count": 100,
                    "metrics": {"data_drift": 0.5}, "top_drifted_features": []})


@pytest.fixture
def hygiene_project(project_copy: Path, smtp_server, webhook_server) -> Path:
    """The example monitor with two reporters: a mail with every hygiene option, and a generic
    webhook left at every_run (today's behaviour) for contrast."""

    def change(data: dict) -> None:
        data["connections"]["mail"] = {"host": "127.0.0.1", "port": smtp_server.port,
                                       "sender": "mlops@example.com"}
        data["scenarios"][MONITOR]["steps"][1]["checks"] = [DRIFT, AUC]
        data["scenarios"][MONITOR]["reporters"] = [
            {"name": "Drift mail", "type": "mail", "to": ["me@example.com"],
             "subject": "[scenarist] {{ scenarioName }}: {{ outcome }}",
             "repeat": "once_per_state", "escalate_after": 3, "notify_recovery": True,
             "retry_delay_seconds": 0.05, "timeout_seconds": 2},
            {"name": "Every run hook", "type": "webhook", "url": webhook_server.url,
             "retry_delay_seconds": 0.05, "timeout_seconds": 2},
        ]

    return edit_project(project_copy, change)


def test_ten_runs_send_exactly_the_expected_messages(hygiene_project: Path, smtp_server,
                                                    webhook_server):
    expected_mails: list[str] = []
    for run, ((drift, auc), messages) in enumerate(SEQUENCE, start=1):
        before = len(smtp_server.messages)
        summary = queue(_context(hygiene_project, run, drift, auc))
        new = smtp_server.messages[before:]
        assert len(new) == len(messages), (run, [m.message["subject"] for m in new])
        for received, wanted in zip(new, messages, strict=True):
            subject = received.message["subject"]
            if wanted.startswith("back to OK"):
                names = wanted.removeprefix("back to OK: ").replace("drift", DRIFT)
                names = names.replace("auc", AUC)
                assert subject == f"[scenarist] {MONITOR}: back to OK ({names})", run
                assert "OK again (alerted as" in received.text
            else:
                check, outcome = wanted.removeprefix("alert: ").split(" (")[0].rsplit(" ", 1)
                assert ("[escalated to ERROR]" in subject) == ("escalated" in wanted), subject
                name = DRIFT if check == "drift" else AUC
                assert f"- {name}: {outcome} —" in received.text, (run, received.text)
        expected_mails += messages
        if not messages:
            assert "Drift mail" in summary.skipped
    assert len(smtp_server.messages) == len(expected_mails) == 8

    # the every_run webhook: one POST per run that was not SUCCESS (runs 2-6, 8, 9)
    assert [r["json"]["run_id"] for r in webhook_server.requests] == [
        f"run-{n:02d}" for n in (2, 3, 4, 5, 6, 8, 9)]
    escalated = webhook_server.requests[2]["json"]  # run 4: every_run, no escalate_after
    assert escalated["outcome"] == "WARNING"

    engine = project_engine(load_project(hygiene_project))
    states = {(s["reporter"], s["check_name"], s["segment"]): s for s in alert_states(engine)}
    assert states[("Drift mail", DRIFT, "")]["outcome"] == "OK"
    assert states[("Drift mail", DRIFT, "")]["alerted"] is None
    assert states[("Drift mail", AUC, "EU")]["run_id"] == "run-10"
    assert {r.status for r in outbox_messages(engine)} == {"sent"}


def test_a_re_run_flow_queues_nothing_twice(hygiene_project: Path, smtp_server):
    for run, ((drift, auc), _) in enumerate(SEQUENCE[:6], start=1):
        queue(_context(hygiene_project, run, drift, auc))
    count = len(smtp_server.messages)
    # run 6 again (a retried flow): same state before it, same decision, already queued
    again = queue(_context(hygiene_project, 6, OK, W))
    assert again.already_queued == ["Drift mail (recovery)", "Every run hook"]
    assert not again.queued and len(smtp_server.messages) == count
    # and run 4 again: the escalation is not counted twice
    queue(_context(hygiene_project, 7, OK, OK))
    assert len(smtp_server.messages) == count + 1


def test_snooze_sends_nothing_then_alerts_what_is_still_open(hygiene_project: Path,
                                                            smtp_server, webhook_server):
    until = datetime.now(timezone.utc) + timedelta(hours=1)

    def snooze(value):
        def change(data):
            for reporter in data["scenarios"][MONITOR]["reporters"]:
                reporter["snooze_until"] = value
        edit_project(hygiene_project, change)

    snooze(until.isoformat())
    for run in (1, 2, 3):
        summary = queue(_context(hygiene_project, run, W, OK))
        assert summary.skipped == ["Drift mail", "Every run hook"]
        assert any("snoozed until" in line for line in summary.lines)
    assert smtp_server.messages == [] and webhook_server.requests == []
    snooze((datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat())
    queue(_context(hygiene_project, 4, W, OK))  # the 4th WARNING: escalated, alerted now
    [mail] = smtp_server.messages
    assert mail.message["subject"].startswith("[escalated to ERROR]")
    assert len(webhook_server.requests) == 1


def test_validate_refuses_hygiene_on_a_reporter_that_never_alerts(hygiene_project: Path):
    def change(data):
        data["scenarios"][MONITOR]["reporters"][0]["on"] = ["SUCCESS"]

    edit_project(hygiene_project, change)
    [problem] = validate_project(hygiene_project)
    assert problem.location == f"scenarios.{MONITOR}.reporters[0]"
    assert ("`repeat: once_per_state` and `escalate_after` and `notify_recovery` track "
            "WARNING/ERROR alerts, but this reporter is gated only on SUCCESS") in problem.message
    result = CliRunner().invoke(app, ["validate", str(hygiene_project)])
    assert result.exit_code != 0 and "gated only on SUCCESS" in result.output


def test_validate_renders_the_recovery_template(hygiene_project: Path):
    # a project's own recovery.txt.j2 overrides the built-in one, and is checked
    (hygiene_project / "templates" / "recovery.txt.j2").write_text("{{ no_such_variable }}\n")
    [problem] = validate_project(hygiene_project)
    assert "notify_recovery" in problem.location and "no_such_variable" in problem.message


def test_through_the_scenario_flow(hygiene_project: Path, smtp_server, webhook_server,
                                   prefect_api):
    """The real Prefect flow: the example monitor warns on 2017Q4 twice in a row; the
    once_per_state mail goes out once, the every_run webhook twice, and the run record says
    why the second mail was held back."""
    from scenarist.flows.scenario import run_scenario
    from scenarist.stores.runs import scenario_run

    first = run_scenario(hygiene_project, MONITOR)
    second = run_scenario(hygiene_project, MONITOR)
    assert first.outcome is second.outcome is StepOutcome.WARNING
    assert len(smtp_server.messages) == 1 and len(webhook_server.requests) == 2
    engine = project_engine(load_project(hygiene_project))
    run, _ = scenario_run(engine, second.run_id)
    assert ("reporter 'Drift mail' not sent (repeat: once_per_state, no check entered a new "
            "state)") in run["log"]
    assert run["message"].endswith("reporters: 1/1 delivered")
