"""One look of the polling triggers: observe, compare with the recorded state, start runs.

    poll(project, scenario=None, trigger=None, *, deployment=None) -> list[PollResult]

For every polling trigger (`dataset_changed`, `sql_changed`, `labels_ready`, `python`) of the
scenario(s), `fingerprints.observe` says what the trigger sees; each subject whose fingerprint
differs from the last recorded one (or was never seen) is claimed in the store
(`stores.trigger_state.claim`, a unique row inserted before anything starts) and only the
poller whose claim succeeded starts the run, with the observation's variables and `trigger` =
the trigger's name: through the scenario's Prefect deployment (`deployment`, a
"flow/deployment" name; `run_deployment` with an idempotency key made of the claim) when given,
else in this process (`run_scenario`). A claim whose poller died before the start is started
again by the next poll only through a deployment, where the idempotency key makes a second
attempt the same flow run; in process it stays claimed (at most once). The first look of a
`dataset_changed` or `sql_changed` trigger records a baseline of what is there and starts
nothing; a file appearing later is a change. A paused scenario (`auto_triggers: false`, or
`scenarist scenarios pause`) is not looked at, so a change made while it was paused starts its
run at the first poll after `resume`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarist.errors import ScenaristError
from scenarist.faults import fault_point
from scenarist.project.config import Project, scenario_spec
from scenarist.stores.database import project_engine
from scenarist.stores.trigger_state import (
    FIRST_LOOK,
    TriggerKey,
    claim,
    has_looked,
    last_change,
    started,
)
from scenarist.triggers.control import is_paused, loaded_project
from scenarist.triggers.fingerprints import observe
from scenarist.triggers.specs import trigger_name

#: kinds whose first look records what is there without starting runs (data present before
#: the trigger was switched on is not a change); labels_ready and python fire at once
BASELINE_KINDS = ("dataset_changed", "sql_changed")


@dataclass(frozen=True)
class PollResult:
    """What one poll did for one subject of one trigger."""

    scenario: str
    trigger: str
    action: str  # baseline | started | failed | unchanged | taken | paused | error
    subject: str = ""
    fingerprint: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    message: str | None = None


def poll(project: str | Path | Project, scenario: str | None = None,
         trigger: str | None = None, *, deployment: str | None = None) -> list[PollResult]:
    """Look once at the polling triggers of `scenario` (default: every scenario) of `project`
    (a folder, its scenarist.yaml, or a loaded Project); see the module doc."""
    loaded = loaded_project(project)
    if scenario is not None:
        scenario_spec(loaded, scenario)
    engine = project_engine(loaded)
    results: list[PollResult] = []
    for name, spec in loaded.scenarios.items():
        if scenario is not None and name != scenario:
            continue
        polled = [(trigger_name(t, i), t) for i, t in enumerate(spec.triggers) if t.polling]
        if trigger is not None:
            polled = [(n, t) for n, t in polled if n == trigger]
        if polled and is_paused(loaded, name, engine=engine):
            results += [PollResult(name, n, "paused") for n, _ in polled]
            continue
        for label, spec_trigger in polled:
            results += _poll_one(loaded, engine, name, label, spec_trigger, deployment)
    return results


def _poll_one(project: Project, engine: Any, scenario: str, label: str, trigger: Any,
              deployment: str | None) -> list[PollResult]:
    key = TriggerKey(project.project, scenario, label)
    try:
        observations = observe(project, trigger)
    except (ScenaristError, OSError, ValueError) as exc:
        return [PollResult(scenario, label, "error", message=f"{type(exc).__name__}: {exc}")]
    results = []
    first = trigger.kind in BASELINE_KINDS and not has_looked(engine, key)
    if first and claim(engine, key, FIRST_LOOK, "-", {}, after=None, baseline=True) is None:
        return [PollResult(scenario, label, "taken", message="another poller is looking")]
    for seen in observations:
        last = last_change(engine, key, seen.subject)
        if last is not None and last[1] == seen.fingerprint:
            if last[2] == "claimed" and deployment:  # its poller died before it had started
                results.append(_start(project, engine, key, seen, last[0], deployment))
            else:
                results.append(PollResult(scenario, label, "unchanged", seen.subject,
                                          seen.fingerprint, seen.variables))
            continue
        after = last[0] if last else None
        baseline = first and last is None
        seq = claim(engine, key, seen.subject, seen.fingerprint, seen.variables, after=after,
                    baseline=baseline)
        if seq is None:
            results.append(PollResult(scenario, label, "taken", seen.subject, seen.fingerprint,
                                      seen.variables, message="another poller claimed it"))
        elif baseline:
            results.append(PollResult(scenario, label, "baseline", seen.subject,
                                      seen.fingerprint, seen.variables))
        else:
            results.append(_start(project, engine, key, seen, seq, deployment))
    return results


def _start(project: Project, engine: Any, key: TriggerKey, seen: Any, seq: int,
           deployment: str | None) -> PollResult:
    variables = dict(seen.variables)
    fault_point("trigger-claimed")  # crash tests: killed between the claim and the start
    try:
        if deployment:
            run_id = _run_deployment(deployment, key, seen.subject, seq, variables)
        else:
            from scenarist.flows.scenario import run_scenario

            run_id = run_scenario(project.root, key.scenario, variables,
                                  trigger=key.trigger).run_id
    except Exception as exc:  # noqa: BLE001 - recorded on the claim and reported
        message = f"{type(exc).__name__}: {exc}"
        started(engine, key, seen.subject, seq, None, message=message)
        return PollResult(key.scenario, key.trigger, "failed", seen.subject, seen.fingerprint,
                          variables, message=message)
    started(engine, key, seen.subject, seq, run_id)
    return PollResult(key.scenario, key.trigger, "started", seen.subject, seen.fingerprint,
                      variables, run_id=run_id)


def _run_deployment(name: str, key: TriggerKey, subject: str, seq: int,
                    variables: dict[str, Any]) -> str:
    from prefect.deployments import run_deployment

    run = run_deployment(
        name, parameters={"variables": variables, "trigger": key.trigger}, timeout=0,
        as_subflow=False,
        idempotency_key=f"scenarist-trigger/{key.project}/{key.scenario}/{key.trigger}/"
                        f"{subject}/{seq}")
    return str(run.id)
