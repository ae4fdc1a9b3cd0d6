"""Late labels revise verdicts: re-evaluate what labels changed, re-check, tell who was alerted.

    report = revise_evaluations(project, "prod_MES")        # every evaluation labels changed
    report = revise_evaluations(project, "prod_MES", labels=["october"], force=True)

Labels of a deployment's predictions arrive days after the window was evaluated
(`Deployment.log_labels`). For a store fed by a deployment (`evaluation_stores.X.deployment`),
an evaluation is *stale* when the deployment's label readiness for its window now differs from
what it was computed with: the labels became ready (the alert delay passed, or enough arrived),
or the number of labelled predictions changed. Each stale evaluation is

1. re-evaluated with the labels — its window, batch and model version, the store's current
   options, segments and custom metrics, as an `evaluate_deployment` step would now — as a new
   revision of the same label (`EvaluationStore.record(..., revision=reason)`): the row shows
   the new values, and the values it changed (performance, `labeled_rows`, target drift,
   CBPE's `estimated_*_error`, …) are kept with the reason and time in its revision history
   (`scenarist.stores.revisions`), in one transaction;
2. checked again: the checks that had judged it before the revision run on the new version,
   and their outcomes are compared with the verdicts they gave then;
3. for each check whose outcome changed, a "verdict revised: WARNING → OK" message is queued in
   the outbox through every reporter that queued a message for the latest run whose checks
   judged it (the original alert) — with the outbox's retries and idempotency
   (`scenarist.reporters.revision`). When no reporter had sent anything for that evaluation,
   the change is recorded and reported here only;
4. the new check results are recorded (tagged with `scenario_run_id` when a scenario step
   revises) with the changed verdicts on the revision, each change is emitted as a Prefect
   event (`scenarist.verdict.revised`, `scenarist.events`), then the messages are delivered.

A pass that died between 1 and 4 is finished by the next one: an evaluation whose latest
revision has no check result since is checked again (queueing is idempotent, so a message
queued before the crash is not sent twice).

What triggers it: the scenario step `{type: revise_evaluations, store: X}` on a schedule (e.g.
daily, after labels are loaded), `scenarist store revise X` or this function. Corrections of
labels that were already logged (same count) are not detected: use `force` (`--force`).
Stores fed by datasets are revised by re-evaluating the batch once it has its labels, as a
revision: `scenarist store evaluate X --var quarter=2017Q4 --revision "labels arrived"`, or
`build_evaluation(..., revision=...)` / `EvaluationStore.evaluate(..., revision=...)` and then
`revise_verdicts` (steps 2–4 above).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scenarist import events
from scenarist.checks.result import CheckResult
from scenarist.errors import ConfigError, ConfigProblem, ScenaristError
from scenarist.operations.build import (
    custom_metrics,
    evaluation_options,
    open_store,
    segment_options,
)
from scenarist.operations.checking import run_checks, store_engine
from scenarist.project.config import Project
from scenarist.reporters.delivery import deliver_pending
from scenarist.reporters.revision import VerdictChange, queue_revision_messages
from scenarist.stores.check_results import check_history, record_results
from scenarist.stores.database import project_engine
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.revisions import record_verdicts


@dataclass(frozen=True)
class RevisedEvaluation:
    """One evaluation revised: its new revision, what changed, and who was told."""

    store: str
    label: str
    revision: int
    reason: str
    changes: dict[str, tuple[float | None, float | None]]
    verdicts: list[VerdictChange]
    results: list[CheckResult]
    messages: dict[str, int] = field(default_factory=dict)  # reporter -> outbox message id


@dataclass
class RevisionReport:
    """What one `revise_evaluations` call did, per evaluation label."""

    revised: list[RevisedEvaluation] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)  # label -> why labels are not ready
    failed: dict[str, str] = field(default_factory=dict)  # label -> the error (others go on)


def revise_evaluations(project: Project, store: str, *, labels: Sequence[str] | None = None,
                       force: bool = False, scenario_run_id: str | None = None,
                       deliver: bool = True) -> RevisionReport:
    """Revise the store's stale evaluations (or `labels`; `force`: even if not stale)."""
    deployment = _deployment(project, store)
    evaluation_store = open_store(project, store)
    report = RevisionReport()
    chosen = [evaluation_store.get(label)  # an unknown label: NotFoundError, nothing done
              for label in (labels if labels is not None else evaluation_store.labels())]
    judged = check_history(store_engine(project, store), store=store)
    for evaluation in chosen:
        label = evaluation.label
        try:
            reason, ready = _staleness(deployment, evaluation)
            if not ready:
                report.waiting[label] = str(reason)
                continue
            if reason is None and not force:
                if _verdicts_pending(evaluation_store, evaluation,
                                     judged[judged["evaluation_label"] == label]):
                    report.revised.append(revise_verdicts(project, store, evaluation,
                                                          scenario_run_id=scenario_run_id,
                                                          deliver=deliver))
                else:
                    report.up_to_date.append(label)
                continue
            window = evaluation.details.get("deployment") or {}
            spec = project.evaluation_stores[store]  # as an evaluate_deployment step would
            revised = deployment.evaluate(
                store, start=window.get("start"), end=window.get("end"),
                batch=window.get("batch"), label=label, options=evaluation_options(spec),
                segments=segment_options(spec), custom_metrics=custom_metrics(project, spec),
                model_version=window.get("model_version"),
                revision=reason or "re-evaluated (force)")
            report.revised.append(revise_verdicts(project, store, revised,
                                                  scenario_run_id=scenario_run_id,
                                                  deliver=deliver))
        except ScenaristError as exc:  # one window's problem must not stop the others
            report.failed[label] = f"{type(exc).__name__}: {exc}"
    return report


def revise_verdicts(project: Project, store: str, evaluation: Evaluation, *,
                    scenario_run_id: str | None = None, deliver: bool = True
                    ) -> RevisedEvaluation:
    """Run again the checks that had judged `evaluation` before its latest revision, compare
    with their verdicts then, queue "verdict revised" messages, record (see the module doc).

    Messages are queued before the new results are recorded, so a pass interrupted before it
    recorded them is done again by the next `revise_evaluations` (queueing is idempotent)."""
    revision = int(evaluation.details.get("revision") or 0)
    latest = next((r for r in open_store(project, store).revisions(evaluation.label)
                   if r.revision == revision), None)
    engine = store_engine(project, store)
    earlier = _judged(engine, store, evaluation.label)
    if latest is not None:
        earlier = earlier[earlier["checked_at"] < pd.Timestamp(latest.revised_at)]
    names = [n for n in dict.fromkeys(earlier["check"]) if n in project.checks
             and project.checks[n].store == store]
    results = run_checks(project, names, store=store, record=False,
                         evaluations={store: evaluation.label}) if names else []
    verdicts = _changed(earlier, [r for r in results if not r.shadow])  # a shadow tells no one
    revised = RevisedEvaluation(
        store=store, label=evaluation.label, revision=revision,
        reason=latest.reason if latest else "", changes=dict(latest.changes) if latest else {},
        verdicts=verdicts, results=results)
    if verdicts:
        revised.messages.update(queue_revision_messages(project, project_engine(project), revised))
    record_results(engine, results, store=store, scenario_run_id=scenario_run_id)
    if latest is not None:
        record_verdicts(engine, store, evaluation.label, revision,
                        {v.check: (v.before, v.after) for v in verdicts})
    for verdict in verdicts:
        events.emit_verdict_revised(project.project, store, evaluation.label, revision,
                                    revised.reason, verdict, run_id=scenario_run_id)
    if deliver and revised.messages:
        asyncio.run(deliver_pending(project, project_engine(project),
                                    ids=list(revised.messages.values())))
    return revised


def _judged(engine: Any, store: str, label: str) -> pd.DataFrame:
    """The stored check results of evaluation `label`, oldest first."""
    history = check_history(engine, store=store)
    return history[history["evaluation_label"] == label]


def _verdicts_pending(store: Any, evaluation: Evaluation, judged: pd.DataFrame) -> bool:
    """Whether the latest revision's checks were never run (an interrupted pass): checks had
    judged the evaluation (`judged`: its check results) before it, none since."""
    revision = evaluation.details.get("revision")
    if not revision:
        return False
    latest = next((r for r in store.revisions(evaluation.label) if r.revision == revision), None)
    if latest is None:
        return False
    since = pd.Timestamp(latest.revised_at)
    return bool((judged["checked_at"] < since).any() and not (judged["checked_at"] >= since).any())


def _changed(earlier: Any, results: Sequence[CheckResult]) -> list[VerdictChange]:
    """Checks whose outcome differs from their latest earlier result on the evaluation."""
    changes = []
    for result in results:
        rows = earlier[(earlier["check"] == result.name) & _same_segment(earlier, result)]
        if rows.empty:
            continue
        last = rows.iloc[-1]
        if str(last["outcome"]) != str(result.outcome):
            changes.append(VerdictChange(
                check=_check_key(result), before=str(last["outcome"]),
                after=str(result.outcome), value_before=_float(last["value"]),
                value_after=result.value, metric=result.metric, message=result.message,
                runs=_runs(rows)))
    return changes


def _same_segment(earlier: Any, result: CheckResult) -> Any:
    segment = getattr(result, "segment", None)
    if "segment" not in earlier.columns:
        return earlier["check"].notna()
    return earlier["segment"].isna() if segment is None else earlier["segment"] == segment


def _check_key(result: CheckResult) -> str:
    segment = getattr(result, "segment", None)
    return result.name if segment is None else f"{result.name} @ {segment}"


def _runs(rows: Any) -> tuple[str, ...]:
    """The scenario runs that judged the check on this evaluation, latest first."""
    runs = [r for r in rows["scenario_run_id"] if isinstance(r, str) and r]
    return tuple(dict.fromkeys(reversed(runs)))


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _staleness(deployment: Any, evaluation: Evaluation) -> tuple[str | None, bool]:
    """(why the evaluation is stale, or None; whether the labels of its window are ready)."""
    window = evaluation.details.get("deployment")
    if not window:
        raise ConfigError(f"evaluation {evaluation.label!r} of store {evaluation.store!r} was "
                          "not built from a deployment; re-evaluate it with its labels and "
                          "`revision=` (EvaluationStore.evaluate), then revise_verdicts")
    batch = window.get("batch")
    readiness = deployment.get_label_readiness(
        window["start"], window["end"], batches=[batch] if batch else None,
        model_version=window.get("model_version"))
    if not readiness.ready:
        return readiness.reason, False
    was_ready = bool(window.get("labels_ready"))
    before = window.get("labelled")
    if before is None:  # evaluated before the count was kept: its labeled_rows
        labeled = evaluation.metrics.get("labeled_rows")
        before = int(labeled) if was_ready and labeled == labeled and labeled is not None else 0
    if not was_ready:
        return f"labels ready ({readiness.reason}): {readiness.labelled} labelled rows", True
    if readiness.labelled != before:
        return f"late labels: {before} → {readiness.labelled} labelled rows", True
    return None, True


def _deployment(project: Project, store: str) -> Any:
    from scenarist.deployments.deployment import Deployment

    spec = project.evaluation_stores.get(store)
    file = str(project.file or "")
    if spec is None:
        known = ", ".join(project.evaluation_stores) or "none"
        raise ConfigError([ConfigProblem(file, "evaluation_stores",
                                         f"unknown evaluation store {store!r}; defined stores: "
                                         f"{known}")])
    if spec.deployment is None:
        raise ConfigError([ConfigProblem(file, f"evaluation_stores.{store}", (
            f"store {store!r} is fed by datasets, not a deployment: revise an evaluation by "
            "re-evaluating its batch once it has the labels: `scenarist store evaluate "
            f"{store} --var … --revision 'labels arrived'` (Python: build_evaluation(..., "
            "revision=...), then revise_verdicts)"))])
    connection = project.connections.get(spec.connection)
    return Deployment.get(spec.deployment, url=connection.resolved_url() if connection else None)
