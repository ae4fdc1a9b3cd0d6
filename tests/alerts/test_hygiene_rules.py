"""The alert hygiene state machine, alone: known sequences in, known decisions out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scenarist.checks.outcome import Outcome
from scenarist.reporters.hygiene import (
    CheckState,
    Policy,
    assess,
    decide,
    escalated_variables,
    outcomes_of,
    recovery_variables,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
A, B = ("drift", ""), ("auc", "EU")


def replay(policy: Policy, runs: list[dict], gate=lambda outcomes: True) -> list[str]:
    """Feed runs (key → outcome) through the machine; what was sent, one string per run."""
    states: dict = {}
    sent = []
    for outcomes in runs:
        assessment = assess(states, outcomes, policy.escalate_after)
        decision = decide(policy, assessment, gate_open=gate(assessment.levels), now=NOW)
        states = {**states, **decision.states}
        shown = []
        if decision.alert:
            shown.append("alert" + ("!" if assessment.escalated else ""))
        if decision.recovery:
            shown.append("ok:" + ",".join(k[0] for k in assessment.recovered))
        sent.append(" ".join(shown) or "-")
    return sent


def not_ok(levels) -> bool:  # the default gate: the run is not SUCCESS
    return any(level in (Outcome.WARNING, Outcome.ERROR) for level in levels.values())


W, E, OK, N = Outcome.WARNING, Outcome.ERROR, Outcome.OK, Outcome.EMPTY


def test_every_run_is_todays_behaviour():
    runs = [{A: OK}, {A: W}, {A: W}, {A: OK}]
    assert replay(Policy(), runs, not_ok) == ["-", "alert", "alert", "-"]


def test_once_per_state_alerts_on_entering_a_level_only():
    runs = [{A: OK}, {A: W}, {A: W}, {A: E}, {A: E}, {A: W}, {A: OK}, {A: W}]
    assert replay(Policy(repeat="once_per_state"), runs, not_ok) == [
        "-", "alert", "-", "alert", "-", "alert", "-", "alert"]


def test_escalation_after_n_consecutive_warnings():
    runs = [{A: W}, {A: W}, {A: W}, {A: W}, {A: N}, {A: W}, {A: W}, {A: W}]
    policy = Policy(repeat="once_per_state", escalate_after=3)
    # EMPTY keeps the open alert (ERROR) but breaks the streak: W after it is a new level
    assert replay(policy, runs, not_ok) == ["alert", "-", "alert!", "-", "-", "alert", "-",
                                            "alert!"]


def test_recovery_only_for_checks_that_were_alerted():
    policy = Policy(repeat="once_per_state", notify_recovery=True)
    runs = [{A: W, B: OK}, {A: OK, B: OK}, {A: OK, B: W}, {A: OK, B: OK}]
    assert replay(policy, runs, not_ok) == ["alert", "ok:drift", "alert", "ok:auc"]
    # a WARNING the gate held back was never alerted: its return to OK is not news
    closed = replay(policy, [{A: W}, {A: OK}], gate=lambda levels: False)
    assert closed == ["-", "-"]


def test_snooze_tracks_state_and_alerts_after_it_ends():
    later = NOW + timedelta(days=1)
    snoozed = Policy(repeat="once_per_state", notify_recovery=True, snooze_until=later)
    states: dict = {}
    for outcome in (W, W):
        assessment = assess(states, {A: outcome})
        decision = decide(snoozed, assessment, gate_open=True, now=NOW)
        assert not decision.alert and decision.reason.startswith("snoozed until 2026-11-24")
        states = {**states, **decision.states}
    assert states[A] == CheckState(W, 2, None)  # tracked, never alerted
    assessment = assess(states, {A: W})
    after = decide(snoozed, assessment, gate_open=True, now=later)
    assert after.alert and after.states[A].alerted is W


def test_a_failed_step_is_never_deduplicated():
    policy = Policy(repeat="once_per_state")
    states = {A: CheckState(W, 1, W)}
    assessment = assess(states, {A: W})
    assert not decide(policy, assessment, gate_open=True, now=NOW).alert
    assert decide(policy, assessment, gate_open=True, now=NOW, other_failure=True).alert


def test_state_round_trips_and_segments_are_separate_keys():
    state = CheckState(E, 0, W)
    assert CheckState.from_dict(state.as_dict()) == state
    checks = [{"name": "auc", "outcome": "OK", "segment": "EU"},
              {"name": "auc", "outcome": "WARNING", "segment": "US"},
              {"name": "drift", "outcome": "OK"}, {"name": "drift", "outcome": "ERROR"}]
    assert outcomes_of(checks) == {("auc", "EU"): OK, ("auc", "US"): W, ("drift", ""): E}


def test_escalated_and_recovery_variables():
    check = {"name": "drift", "outcome": "WARNING", "message": "data_drift = 0.5",
             "store": "s"}
    other = {"name": "auc", "outcome": "OK", "message": "fine", "store": "s", "segment": "EU"}
    variables = {"outcome": "WARNING", "stepOutcome_Warn": "WARNING", "stepOutcome_Other": None,
                 "checks": [check, other]}
    assessment = assess({A: CheckState(W, 1, W), B: CheckState(W, 1, W)},
                        {A: W, B: OK}, escalate_after=2)
    seen = escalated_variables(variables, assessment, {
        "stepOutcome_Warn": lambda c: c["name"] == "drift",
        "stepOutcome_Other": lambda c: True})
    assert seen["outcome"] == "FAILED" and seen["stepOutcome_Warn"] == "FAILED"
    assert seen["stepOutcome_Other"] is None  # a step that did not run stays unrun
    assert seen["checks"][0]["outcome"] == "ERROR"
    assert seen["checks"][0]["message"].startswith("escalated to ERROR: WARNING 2 runs in a row")
    assert seen["alert"] == {"kind": "alert", "escalated": ["drift"], "entered": ["drift"],
                             "recovered": ["auc [EU]"]}
    assert variables["checks"][0]["outcome"] == "WARNING"  # the run's own variables untouched
    back = recovery_variables(variables, assessment)
    assert [c["name"] for c in back["checks"]] == ["auc"]
    assert back["checks"][0]["alerted"] == "WARNING" and back["alert"]["kind"] == "recovery"


@pytest.mark.parametrize("bad", [0, -2])
def test_escalate_after_below_one_is_refused(bad):
    from pydantic import ValidationError

    from scenarist.reporters.specs import MailReporterSpec

    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        MailReporterSpec(name="r", type="mail", to=["a@b"], escalate_after=bad)


def test_an_escalated_run_opens_a_gate_on_failed():
    from scenarist.reporters.gate import should_report

    check = {"name": "drift", "outcome": "WARNING", "message": "m", "store": "s"}
    variables = {"outcome": "WARNING", "stepOutcome_Warn": "WARNING", "checks": [check]}
    steps = {"stepOutcome_Warn": lambda c: True}
    for streak, opens in ((1, False), (2, True)):
        assessment = assess({A: CheckState(W, streak - 1, None)}, {A: W}, escalate_after=2)
        seen = escalated_variables(variables, assessment, steps)
        assert should_report(None, ["FAILED"], seen["outcome"], seen) is opens
        assert should_report("stepOutcome_Warn == 'FAILED'", None, seen["outcome"],
                             seen) is opens


@pytest.mark.parametrize("preset", ["generic", "slack", "teams"])
def test_recovery_webhook_payloads_are_json(preset):
    import json

    from scenarist.reporters.render import render_recovery
    from scenarist.reporters.specs import WebhookReporterSpec

    spec = WebhookReporterSpec(name="hook", type="webhook", url="http://x", preset=preset,
                               notify_recovery=True)
    check = {"name": "drift", "outcome": "OK", "metric": "data_drift", "value": 0.1,
             "store": "s"}
    assessment = assess({A: CheckState(W, 1, W)}, {A: OK})
    variables = recovery_variables({"scenarioName": "Monitor", "scenarioRunId": "r1",
                                    "scenarioRunURL": "http://ui/r1", "outcome": "SUCCESS",
                                    "checks": [check]}, assessment)
    payload = json.loads(render_recovery(spec, None, variables).body)
    text = json.dumps(payload)
    assert "back to OK" in text or payload.get("kind") == "recovery"
    assert "drift" in text
    if preset == "generic":
        assert payload["recovered"] == ["drift"] and payload["checks"][0]["alerted"] == "WARNING"
