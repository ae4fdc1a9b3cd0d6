"""Alert hygiene: which messages one reporter sends for a run, given what it sent before. Pure.

Per reporter, every check × segment has a `CheckState`: its last outcome, how many runs in a
row it was WARNING (`streak`), and the level it was last alerted at while not OK (`alerted`,
None when no alert is open). One run, in three steps:

    assessment = assess(states, outcomes, escalate_after)    levels, escalations, entries
    gate_open  = should_report(..., escalated_variables(...)) the reporter's `when:` / `on:`
    decision   = decide(policy, assessment, gate_open=..., now=...)   alert? recovery? states

The reporter options (`scenarist.reporters.specs.ReporterOptions`):

    repeat: every_run       an alert on every run the gate lets through (the default)
    repeat: once_per_state  an alert only when a check enters a level it was not alerted at
                            (OK → WARNING, WARNING → ERROR, ERROR → WARNING), or when the run is
                            not SUCCESS for a reason other than its checks (a failed step is
                            never deduplicated)
    escalate_after: N       the N-th consecutive WARNING run of a check, and the following ones,
                            are alerted as ERROR (the gate sees the run as FAILED)
    notify_recovery: true   a "back to OK" message when a check alerted on is OK again
    snooze_until: T         nothing is sent before T; states are still tracked, so a check that
                            is still not OK when the snooze ends is alerted then

EMPTY (no value) keeps an open alert open and breaks a WARNING streak. A check absent from a
run (its step did not run) keeps its state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scenarist.checks.outcome import Outcome, StepOutcome

Key = tuple[str, str]
"""(check name, segment); the segment is "" for a check without segments."""

ALERTING = (Outcome.WARNING, Outcome.ERROR)


def check_key(check: Mapping[str, Any]) -> Key:
    """The state key of a check result (a dict as in the run's `checks` variable)."""
    return str(check["name"]), str(check.get("segment") or "")


@dataclass(frozen=True)
class CheckState:
    """What a reporter remembers of one check × segment."""

    outcome: Outcome | None = None
    streak: int = 0  # consecutive WARNING runs, this one included
    alerted: Outcome | None = None  # level of the open alert; None: nothing open

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": _text(self.outcome), "streak": self.streak,
                "alerted": _text(self.alerted)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckState:
        return cls(_outcome(data.get("outcome")), int(data.get("streak") or 0),
                   _outcome(data.get("alerted")))


@dataclass(frozen=True)
class Policy:
    """A reporter's hygiene options."""

    repeat: str = "every_run"
    escalate_after: int | None = None
    notify_recovery: bool = False
    snooze_until: datetime | None = None

    @classmethod
    def of(cls, spec: Any) -> Policy:
        """The policy of a reporter spec (`ReporterOptions`)."""
        return cls(spec.repeat, spec.escalate_after, spec.notify_recovery,
                   spec.snooze_until_utc)

    def snoozed(self, now: datetime) -> bool:
        return self.snooze_until is not None and now < self.snooze_until


@dataclass(frozen=True)
class Assessment:
    """This run's checks against the reporter's states, before the gate is applied."""

    before: Mapping[Key, CheckState]
    outcomes: Mapping[Key, Outcome]
    levels: Mapping[Key, Outcome]   # the outcome, ERROR for an escalated WARNING
    streaks: Mapping[Key, int]
    escalated: list[Key] = field(default_factory=list)
    entered: list[Key] = field(default_factory=list)    # alerting at a level not alerted yet
    recovered: list[Key] = field(default_factory=list)  # OK again after an alert


@dataclass(frozen=True)
class Decision:
    """What the reporter does for the run, and its states afterwards."""

    alert: bool
    recovery: bool
    states: Mapping[Key, CheckState]  # every key this run observed
    reason: str = ""  # why no alert (for the run log), "" when one is sent


def assess(states: Mapping[Key, CheckState], outcomes: Mapping[Key, Outcome | str],
           escalate_after: int | None = None) -> Assessment:
    """Compare this run's check outcomes with the states before it."""
    levels: dict[Key, Outcome] = {}
    streaks: dict[Key, int] = {}
    escalated, entered, recovered = [], [], []
    clean = {key: Outcome(outcome) for key, outcome in outcomes.items()}
    for key, outcome in clean.items():
        state = states.get(key, CheckState())
        streak = state.streak + 1 if outcome is Outcome.WARNING else 0
        level = outcome
        if outcome is Outcome.WARNING and escalate_after is not None and streak >= escalate_after:
            level = Outcome.ERROR
            escalated.append(key)
        levels[key], streaks[key] = level, streak
        if level in ALERTING and level != state.alerted:
            entered.append(key)
        if outcome is Outcome.OK and state.alerted is not None:
            recovered.append(key)
    return Assessment(dict(states), clean, levels, streaks, escalated, entered, recovered)


def decide(policy: Policy, assessment: Assessment, *, gate_open: bool, now: datetime,
           other_failure: bool = False) -> Decision:
    """Whether to send the alert and the recovery message, and the states after the run.

    `gate_open`: the reporter's `when:`/`on:` holds (on the escalated variables);
    `other_failure`: the run is worse than its checks make it (a step failed)."""
    snoozed = policy.snoozed(now)
    reason = ""
    if not gate_open:
        reason = "gate closed"
    elif snoozed:
        reason = f"snoozed until {policy.snooze_until:%Y-%m-%d %H:%M} UTC"
    elif (policy.repeat == "once_per_state" and not assessment.entered
          and not other_failure):
        reason = "repeat: once_per_state, no check entered a new state"
    alert = not reason
    recovery = policy.notify_recovery and bool(assessment.recovered) and not snoozed
    states: dict[Key, CheckState] = {}
    for key, outcome in assessment.outcomes.items():
        before = assessment.before.get(key, CheckState())
        level = assessment.levels[key]
        alerted = before.alerted
        if outcome is Outcome.OK:
            alerted = None
        elif alert and level in ALERTING:
            alerted = level
        states[key] = CheckState(outcome, assessment.streaks[key], alerted)
    return Decision(alert, recovery, states, reason)


def outcomes_of(checks: Sequence[Mapping[str, Any]]) -> dict[Key, Outcome]:
    """The outcome of every check × segment of a run (the worst, should one appear twice)."""
    found: dict[Key, Outcome] = {}
    for check in checks:
        key = check_key(check)
        outcome = Outcome(check["outcome"])
        found[key] = Outcome.worst([found[key], outcome]) if key in found else outcome
    return found


def escalated_variables(variables: Mapping[str, Any], assessment: Assessment,
                        run_checks_steps: Mapping[str, Any]) -> dict[str, Any]:
    """The run's variables as an escalating reporter sees them: escalated checks are ERROR
    (their message says why), the steps that ran them and the run outcome at least FAILED, and
    `alert` says which checks were escalated, entered a new state or recovered.

    `run_checks_steps`: a step's variable (`stepOutcome_<Step>`) → a function(check dict) →
    bool, whether that step ran the check."""
    names = {key: key_label(key) for key in assessment.levels}
    alert = {"kind": "alert",
             "escalated": [names[k] for k in assessment.escalated],
             "entered": [names[k] for k in assessment.entered],
             "recovered": [names[k] for k in assessment.recovered]}
    seen = dict(variables)
    seen["alert"] = alert
    if not assessment.escalated:
        return seen
    escalated = set(assessment.escalated)
    checks = []
    for check in variables.get("checks") or []:
        key = check_key(check)
        if key in escalated and Outcome(check["outcome"]) is Outcome.WARNING:
            streak = assessment.streaks[key]
            check = {**check, "outcome": str(Outcome.ERROR),
                     "message": f"escalated to ERROR: WARNING {streak} runs in a row; "
                                f"{check.get('message', '')}"}
            for name, ran in run_checks_steps.items():
                if ran(check) and seen.get(name) is not None:
                    seen[name] = str(StepOutcome.worst([StepOutcome(seen[name]),
                                                         StepOutcome.FAILED]))
        checks.append(check)
    seen["checks"] = checks
    seen["outcome"] = str(StepOutcome.worst([StepOutcome(seen["outcome"]), StepOutcome.FAILED]))
    return seen


def recovery_variables(variables: Mapping[str, Any], assessment: Assessment) -> dict[str, Any]:
    """The variables of a "back to OK" message: `checks` are the recovered checks, `alert`
    names them and the level each was alerted at."""
    recovered = set(assessment.recovered)
    checks = [{**check, "alerted": str(assessment.before[check_key(check)].alerted)}
              for check in variables.get("checks") or [] if check_key(check) in recovered]
    alert = {"kind": "recovery", "escalated": [], "entered": [],
             "recovered": [key_label(k) for k in assessment.recovered]}
    return {**variables, "checks": checks, "alert": alert}


def key_label(key: Key) -> str:
    """"name", or "name [segment]"."""
    name, segment = key
    return f"{name} [{segment}]" if segment else name


def _text(outcome: Outcome | None) -> str | None:
    return None if outcome is None else str(outcome)


def _outcome(value: Any) -> Outcome | None:
    return None if value is None else Outcome(value)
