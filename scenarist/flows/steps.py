"""What each step type does. Plain functions over a RunContext; `scenario.py` wraps them in
Prefect tasks (retries, timeouts) and records their outcomes.

A step function returns a `StepResult`; raising means the attempt failed (the flow retries it
and finally applies `outcome_on_failure`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConfigError
from scenarist.flows.conditions import evaluate_expression
from scenarist.flows.context import RunContext
from scenarist.flows.specs import (
    BuildEvaluationStep,
    EvaluateDeploymentStep,
    PythonStep,
    ReviseEvaluationsStep,
    RunChecksStep,
    SetVariablesStep,
)
from scenarist.operations.build import (
    build_evaluation,
    custom_metrics,
    evaluation_options,
    segment_options,
)
from scenarist.operations.checking import run_checks
from scenarist.operations.shadow import step_checks
from scenarist.project.config import render
from scenarist.project.imports import import_function
from scenarist.stores.evaluation import Evaluation

KEY_METRICS = ("data_drift", "drift_share", "drift_model_accuracy", "prediction_drift", "auc")


@dataclass(frozen=True)
class StepResult:
    """How one step ended."""

    outcome: StepOutcome
    message: str = ""


def build_evaluation_step(
    step: BuildEvaluationStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    variables = {**ctx.variables(), **step.variables}
    evaluation = build_evaluation(ctx.project, step.store, variables)
    return _evaluated(ctx, step.store, evaluation, log)


def _evaluated(
    ctx: RunContext, store: str, evaluation: Evaluation, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    """Expose a new evaluation to later steps and reporters (the `evaluation` variable)."""
    ctx.evaluation = {
        "store": store,
        "label": evaluation.label,
        "row_count": evaluation.row_count,
        "metrics": dict(evaluation.metrics),
        "top_drifted_features": list(evaluation.details.get("top_drifted_features", [])),
    }
    summary = ", ".join(
        f"{name}={evaluation.metric(name):.4g}" for name in KEY_METRICS
        if name in evaluation.metrics
    )
    message = f"evaluated {evaluation.label!r} into {store!r} ({evaluation.row_count} rows)"
    log.info("%s: %s", message, summary)
    return StepResult(StepOutcome.SUCCESS, message)


def evaluate_deployment_step(
    step: EvaluateDeploymentStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    from scenarist.deployments.deployment import Deployment

    variables = ctx.variables()
    fields = {
        name: render(value, variables) if value is not None else None
        for name, value in (("start", step.start), ("end", step.end), ("batch", step.batch),
                            ("label", step.label))
    }
    spec = ctx.project.evaluation_stores[step.store]
    if spec.deployment is None:
        raise ConfigError(f"store {step.store!r} has no `deployment:`; an evaluate_deployment "
                          "step needs a store fed by a deployment")
    connection = ctx.project.connections.get(spec.connection)
    url = connection.resolved_url() if connection is not None else None
    deployment = Deployment.get(spec.deployment, url=url)
    evaluation = deployment.evaluate(step.store, **fields, segments=segment_options(spec),
                                     custom_metrics=custom_metrics(ctx.project, spec),
                                     options=evaluation_options(spec))
    return _evaluated(ctx, step.store, evaluation, log)


def revise_evaluations_step(
    step: ReviseEvaluationsStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    """Revise the store's stale evaluations; the outcome is that of the revised verdicts (a
    check revised to WARNING makes the step WARNING), whose results join `checks`."""
    from scenarist.operations.revisions import revise_evaluations

    report = revise_evaluations(ctx.project, step.store, labels=step.labels, force=step.force,
                                scenario_run_id=ctx.run_id)
    changed = []
    for revised in report.revised:
        log.info("revised %r of %r (revision %d: %s): %d metric(s) changed, %d verdict(s)",
                 revised.label, step.store, revised.revision, revised.reason,
                 len(revised.changes), len(revised.verdicts))
        keys = {v.check for v in revised.verdicts}
        for verdict in revised.verdicts:
            log.info("%r on %r: %s; messages: %s", verdict.check, revised.label,
                     verdict.headline(), ", ".join(revised.messages) or "none")
        for result in revised.results:
            if result.name in keys or f"{result.name} @ {result.segment}" in keys:
                ctx.checks.append(result.as_dict())
                changed.append(result.outcome)
    for label, reason in report.waiting.items():
        log.info("%r of %r not revised: labels not ready (%s)", label, step.store, reason)
    for label, error in report.failed.items():
        log.error("%r of %r could not be revised: %s", label, step.store, error)
    outcome = StepOutcome.from_checks(changed)
    if report.failed:
        outcome = StepOutcome.worst([outcome, StepOutcome.FAILED])
    failed = f", {len(report.failed)} failed" if report.failed else ""
    return StepResult(outcome, f"{len(report.revised)} evaluation(s) revised, {len(changed)} "
                      f"verdict(s) changed, {len(report.up_to_date)} up to date, "
                      f"{len(report.waiting)} waiting for labels{failed}")


def run_checks_step(
    step: RunChecksStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    built = {ctx.evaluation["store"]: ctx.evaluation["label"]} if ctx.evaluation else None
    names = step_checks(ctx.project, step.checks)  # with the shadow checks of those listed
    everything = run_checks(ctx.project, names, store=step.store, scenario_run_id=ctx.run_id,
                            evaluations=built)
    results = [r for r in everything if not r.shadow]  # a shadow check never counts
    for result in everything:
        shadow = " (shadow)" if result.shadow else ""
        log.info("check %r%s: %s — %s", result.name, shadow, result.outcome, result.message)
    ctx.checks.extend(result.as_dict() for result in results)
    outcome = StepOutcome.from_checks(r.outcome for r in results)
    counts = {str(o): sum(r.outcome == o for r in results) for o in {r.outcome for r in results}}
    shadows = len(everything) - len(results)
    return StepResult(outcome, f"{len(results)} check(s): {counts}"
                      + (f"; {shadows} shadow check(s) recorded" if shadows else ""))


def python_step(
    step: PythonStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    """Call `function(context, **params)`. It may return None (SUCCESS), an outcome, or a dict
    of variables to set (SUCCESS)."""
    function = import_function(step.function, ctx.project.root)
    returned = function(StepContext(ctx, log), **step.params)
    if returned is None:
        return StepResult(StepOutcome.SUCCESS, f"{step.function} returned")
    if isinstance(returned, dict):
        ctx.user_variables.update(returned)
        return StepResult(StepOutcome.SUCCESS, f"set {', '.join(sorted(returned))}")
    try:
        return StepResult(StepOutcome(str(returned).upper()), f"{step.function} → {returned}")
    except ValueError:
        raise ConfigError(
            f"{step.function} returned {returned!r}; return None, a dict of variables or one of "
            f"{', '.join(StepOutcome)}"
        ) from None


def set_variables_step(
    step: SetVariablesStep, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    updates = dict(step.values)
    variables = ctx.variables()
    for name, expression in step.expressions.items():
        updates[name] = evaluate_expression(expression, {**variables, **updates})
    ctx.user_variables.update(updates)
    for name, value in updates.items():
        log.info("set %s = %r", name, value)
    return StepResult(StepOutcome.SUCCESS, f"set {', '.join(updates) or 'nothing'}")


class StepContext:
    """What a python step's function receives: read access to the run, a logger, the project."""

    def __init__(self, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter):
        self._ctx = ctx
        self.logger = log

    @property
    def project(self):
        return self._ctx.project

    @property
    def scenario(self) -> str:
        return self._ctx.scenario

    @property
    def run_id(self) -> str:
        return self._ctx.run_id

    @property
    def variables(self) -> dict[str, Any]:
        """A copy of the run's variables (DESIGN.md §6); return a dict to set variables."""
        return self._ctx.variables()


def create_bundle_and_deploy_step(
    step, ctx: RunContext, log: logging.Logger | logging.LoggerAdapter
) -> StepResult:
    """Cut bundle `version` (rendered) of the project, publish it, deploy it to `workspace`."""
    from scenarist.bundles.deploy import create_and_deploy
    from scenarist.bundles.registry import Registry

    variables = ctx.variables()
    version = render(step.version, variables, location=f"steps.{step.name}.version")
    notes = render(step.notes, variables, location=f"steps.{step.name}.notes")
    registry = (Registry.open(step.registry, project_root=ctx.project.root)
                if step.registry else None)
    release = create_and_deploy(ctx.project, version, notes, step.workspace,
                                include_data=step.include_data, registry=registry)
    ctx.user_variables["bundleVersion"] = version
    was = f" (was {release.previous})" if release.previous else ""
    log.info("bundle %s deployed to workspace %r%s", version, release.workspace, was)
    return StepResult(StepOutcome.SUCCESS,
                      f"bundle {version} deployed to {release.workspace!r}{was}")


STEP_FUNCTIONS: dict[str, Callable[..., StepResult]] = {
    "build_evaluation": build_evaluation_step,
    "run_checks": run_checks_step,
    "python": python_step,
    "set_variables": set_variables_step,
    "evaluate_deployment": evaluate_deployment_step,
    "revise_evaluations": revise_evaluations_step,
    "create_bundle_and_deploy": create_bundle_and_deploy_step,
}
