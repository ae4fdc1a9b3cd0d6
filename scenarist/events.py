"""Scenarist's outcomes as Prefect events, so Prefect automations can act on them.

    emit_check_results(project.project, results, run_id=run_id)   # one event per non-OK result

Events (resource id in brackets):

- `scenarist.scenario.finished`: a scenario run ended [scenarist.scenario.<project>.<scenario>]
- `scenarist.step.finished`: a step ran, not skipped [scenarist.step.<project>.<scenario>.<step>]
- `scenarist.check.warning|error|empty`: a recorded check result that is not OK
  [scenarist.check.<project>.<store>.<check>]
- `scenarist.verdict.revised`: a revision changed a check's verdict [the check's]
- `scenarist.alert.sent|failed`: one delivery attempt of an outbox message
  [scenarist.reporter.<project>.<scenario>.<reporter>]

Every resource also carries `prefect.resource.name` and `scenarist.*` labels (project, store,
check, metric, evaluation, outcome, …) for an automation's `match`; the payload has the values
(see README "Events"). Inside a Prefect flow or task run Prefect's events worker adds the run
(flow run, flow, deployment, tags) as related resources; alerts name the scenario's flow run
themselves, since they may be delivered later by `scenarist outbox send`.

This is the one module outside `flows/` that talks to Prefect, and only lazily: emitting must
never fail or slow a run. Inside a Prefect run, events go where the run's own records go (its
events worker sends in the background; with no server configured, to the run's ephemeral API).
Outside a run — `scenarist checks run`, `scenarist outbox send`, a Python call — only when a
server is named: the PREFECT_API_URL environment variable, or Prefect's settings once Prefect is
loaded anyway (loading it just to read a profile costs seconds); never by starting an ephemeral
API for an event, which would take seconds and has no automations. Any error is logged as a
warning and the run goes on.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "emit", "emit_alert", "emit_check_results", "emit_scenario_finished", "emit_step_finished",
    "emit_verdict_revised",
]

log = logging.getLogger(__name__)

PREFIX = "scenarist"


def emit(event: str, resource: Mapping[str, Any], payload: Mapping[str, Any],
         related: Iterable[Mapping[str, Any]] = ()) -> bool:
    """Send one event (labels with a None value are left out); True when it was handed to
    Prefect's events worker. Never raises."""
    try:
        if not _enabled():
            return False
        from prefect.events import emit_event

        sent = emit_event(
            event=event,
            resource=_labels(resource),
            related=[_labels(r) for r in related] or None,
            payload=json.loads(json.dumps(dict(payload), default=str)),  # plain JSON values
        )
        return sent is not None
    except Exception as exc:  # noqa: BLE001 - an event is a side channel, never the run's fate
        log.warning("could not emit Prefect event %s: %s", event, exc)
        return False


def emit_scenario_finished(*, project: str, scenario: str, run_id: str, outcome: str,
                           trigger: str | None, duration_seconds: float,
                           url: str | None = None) -> bool:
    """`scenarist.scenario.finished`: a scenario run ended in `outcome`."""
    return emit(f"{PREFIX}.scenario.finished", {
        **_scenario_resource(project, scenario),
        f"{PREFIX}.outcome": outcome,
        f"{PREFIX}.trigger": trigger,
    }, {
        "project": project, "scenario": scenario, "run_id": run_id, "outcome": outcome,
        "trigger": trigger, "duration_seconds": round(duration_seconds, 3), "url": url,
    })


def emit_step_finished(*, project: str, scenario: str, run_id: str, step: Any) -> bool:
    """`scenarist.step.finished`: step `step` (a `StepRecord`) ended; none for a skipped one."""
    if step.outcome is None:
        return False
    duration = ((step.ended_at - step.started_at).total_seconds()
                if step.started_at and step.ended_at else None)
    return emit(f"{PREFIX}.step.finished", {
        "prefect.resource.id": f"{PREFIX}.step.{project}.{scenario}.{step.name}",
        "prefect.resource.name": step.name,
        f"{PREFIX}.project": project,
        f"{PREFIX}.scenario": scenario,
        f"{PREFIX}.step": step.name,
        f"{PREFIX}.step_type": step.type,
        f"{PREFIX}.outcome": step.outcome,
    }, {
        "project": project, "scenario": scenario, "run_id": run_id, "step": step.name,
        "type": step.type, "outcome": step.outcome, "attempts": step.attempts,
        "message": step.message, "duration_seconds": duration,
    }, related=[_role(_scenario_resource(project, scenario), "scenario")])


def emit_check_results(project: str, results: Iterable[Any], *,
                       run_id: str | None = None) -> int:
    """`scenarist.check.warning|error|empty` for each result (`CheckResult`) that is not OK;
    returns how many were sent. OK results and shadow checks' results send nothing."""
    sent = 0
    for result in results:
        outcome = str(result.outcome)
        if outcome == "OK" or result.shadow:
            continue
        sent += emit(f"{PREFIX}.check.{outcome.lower()}", _check_resource(project, result, outcome),
                     {**_check_payload(project, result), "run_id": run_id},
                     related=[_role(_store_resource(project, result.store), "evaluation-store")])
    return sent


def emit_verdict_revised(project: str, store: str, label: str, revision: int, reason: str,
                         change: Any, *, run_id: str | None = None) -> bool:
    """`scenarist.verdict.revised`: a revision of evaluation `label` changed the verdict of
    check `change.check` (a `VerdictChange`) from `change.before` to `change.after`."""
    return emit(f"{PREFIX}.verdict.revised", {
        "prefect.resource.id": f"{PREFIX}.check.{project}.{store}.{change.check}",
        "prefect.resource.name": change.check,
        f"{PREFIX}.project": project,
        f"{PREFIX}.store": store,
        f"{PREFIX}.check": change.check,
        f"{PREFIX}.metric": change.metric,
        f"{PREFIX}.evaluation": label,
        f"{PREFIX}.outcome": change.after,
        f"{PREFIX}.previous_outcome": change.before,
    }, {
        "project": project, "store": store, "check": change.check, "metric": change.metric,
        "evaluation_label": label, "revision": revision, "reason": reason,
        "before": change.before, "after": change.after, "value_before": change.value_before,
        "value_after": change.value_after, "message": change.message,
        "judged_by_runs": list(change.runs), "run_id": run_id,
    }, related=[_role(_store_resource(project, store), "evaluation-store")])


def emit_alert(record: Any, *, sent: bool, error: str | None = None, note: str | None = None,
               will_retry: bool = False) -> bool:
    """`scenarist.alert.sent` or `scenarist.alert.failed` for one delivery attempt of outbox
    message `record` (an `OutboxRecord`); `will_retry`: the failure was temporary and the
    message is pending again (label `scenarist.will_retry`, so a trigger can match only the
    failures given up on)."""
    related = [_role(_scenario_resource(record.project, record.scenario), "scenario")]
    if record.run_id:
        related.append({"prefect.resource.id": f"prefect.flow-run.{record.run_id}",
                        "prefect.resource.role": "flow-run"})
    return emit(f"{PREFIX}.alert.{'sent' if sent else 'failed'}", {
        "prefect.resource.id":
            f"{PREFIX}.reporter.{record.project}.{record.scenario}.{record.reporter}",
        "prefect.resource.name": record.reporter,
        f"{PREFIX}.project": record.project,
        f"{PREFIX}.scenario": record.scenario,
        f"{PREFIX}.reporter": record.reporter,
        f"{PREFIX}.channel": record.type,
        f"{PREFIX}.will_retry": None if sent else str(will_retry).lower(),  # for a trigger
    }, {
        "project": record.project, "scenario": record.scenario, "reporter": record.reporter,
        "channel": record.type, "message_id": record.id, "delivery_id": record.delivery_id,
        "attempt": record.attempts, "subject": record.subject, "run_id": record.run_id,
        "error": error, "note": note, "will_retry": will_retry,
    }, related=related)


def _enabled() -> bool:
    """A Prefect server is named, or this is a Prefect run (which has its API, maybe an
    ephemeral one). Not outside a run without a server: Prefect would start an ephemeral API
    for the event (seconds), which has no automations and stops with the process."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect" not in sys.modules:  # loading it to read a profile costs seconds
        return False
    from prefect.context import FlowRunContext, TaskRunContext
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url or FlowRunContext.get() or TaskRunContext.get())


def _labels(resource: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in resource.items() if value is not None}


def _role(resource: Mapping[str, Any], role: str) -> dict[str, Any]:
    return {**resource, "prefect.resource.role": role}


def _scenario_resource(project: str, scenario: str) -> dict[str, Any]:
    return {"prefect.resource.id": f"{PREFIX}.scenario.{project}.{scenario}",
            "prefect.resource.name": scenario,
            f"{PREFIX}.project": project,
            f"{PREFIX}.scenario": scenario}


def _store_resource(project: str, store: str | None) -> dict[str, Any]:
    return {"prefect.resource.id": f"{PREFIX}.store.{project}.{store}",
            "prefect.resource.name": store,
            f"{PREFIX}.project": project,
            f"{PREFIX}.store": store}


def _check_resource(project: str, result: Any, outcome: str) -> dict[str, Any]:
    return {
        "prefect.resource.id": f"{PREFIX}.check.{project}.{result.store}.{result.name}",
        "prefect.resource.name": result.name,
        f"{PREFIX}.project": project,
        f"{PREFIX}.store": result.store,
        f"{PREFIX}.check": result.name,
        f"{PREFIX}.metric": result.metric_key or None,
        f"{PREFIX}.segment": result.segment,
        f"{PREFIX}.evaluation": result.evaluation_label,
        f"{PREFIX}.outcome": outcome,
    }


def _check_payload(project: str, result: Any) -> dict[str, Any]:
    bounds = dict(result.bounds)
    return {
        "project": project, "store": result.store, "check": result.name,
        "outcome": str(result.outcome), "metric": result.metric, "feature": result.feature,
        "segment": result.segment, "value": result.value, "bounds": bounds,
        **{name: bounds.get(name) for name in ("soft_min", "soft_max", "hard_min", "hard_max")},
        "evaluation_label": result.evaluation_label, "message": result.message,
        "checked_at": result.checked_at.isoformat(),
    }
