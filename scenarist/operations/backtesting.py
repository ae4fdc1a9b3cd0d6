"""Backtesting: replay checks over an evaluation store's history before they page anyone.

    result = backtest(project, "the_MES")                       # the project's checks
    result = backtest(project, "the_MES", bundle="v3")          # bundle v3's checks/scenarios
    result.outcomes         one row per check × evaluation (× segment) oldest first: outcome, …
    result.counts           per check (all its segments): how many OK / WARNING / ERROR / EMPTY
    result.alerts           one row per message the scenarios' reporters would have sent
    result.alerts_per_month one row per month, one column per scenario / reporter
    compare(old, new)       per check × evaluation: the outcome under each, and what changed

Nothing is written: the checks are the pure evaluators of `scenarist.checks` (a relative_change
or python check gets the evaluation before, as when it runs), called on every stored evaluation
in history order (time_start, else created_at — the month of an evaluation is taken from the
same time).

The alerts replay each scenario whose run_checks steps run some of these checks, once per
evaluation, as if it had run right after that evaluation was built: each run_checks step's
outcome is the worst of its backtested checks (other steps count as SUCCESS; checks of other
stores and checks not selected are left out), and every reporter's gate (`when:` / `on:`) and
alert hygiene (`repeat`, `escalate_after`, `notify_recovery`) decide what it sends, in order.
`snooze_until` is ignored: a backtest asks what the rules would say, not what was muted.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from scenarist.checks.outcome import Outcome, StepOutcome
from scenarist.checks.python_check import project_on_path
from scenarist.checks.registry import evaluate_check
from scenarist.checks.result import metric_key
from scenarist.checks.segments import check_segments
from scenarist.checks.specs import AnyCheckSpec
from scenarist.errors import ConditionError, ConfigError
from scenarist.flows.conditions import expression_names
from scenarist.flows.context import step_variable
from scenarist.flows.specs import RunChecksStep
from scenarist.metrics.sufficiency import DETAILS_KEY
from scenarist.project.config import Project, load_project
from scenarist.reporters import hygiene
from scenarist.reporters.gate import should_report
from scenarist.stores.evaluation import Evaluation

OUTCOME_COLUMNS = ["check", "segment", "store", "evaluation", "time", "month", "outcome",
                   "value", "message"]
DETAILS = ("segments", DETAILS_KEY, "top_drifted_features")
_Row = namedtuple("_Row", OUTCOME_COLUMNS)  # one outcome row, as replay_alerts reads it
ALERT_COLUMNS = ["scenario", "reporter", "evaluation", "time", "month", "kind", "escalated",
                 "checks"]


@dataclass(frozen=True)
class Backtest:
    """What checks would have said over a store's history, and what would have been sent."""

    store: str
    source: str  # "project" or the bundle version the checks came from
    outcomes: pd.DataFrame
    alerts: pd.DataFrame
    reporters: list[str]  # "scenario / reporter" of every scenario that runs these checks

    @property
    def counts(self) -> pd.DataFrame:
        """Per check (rows, in the checks' order): how many evaluations (× segments) got each
        outcome."""
        return outcome_counts(self.outcomes)

    @property
    def alerts_per_month(self) -> pd.DataFrame:
        """Messages per month of the history (rows, quiet months too) and "scenario /
        reporter" (columns: every reporter of a scenario that runs these checks)."""
        months = pd.Index(sorted(self.outcomes["month"].unique()), name="month")
        who = self.alerts["scenario"] + " / " + self.alerts["reporter"]
        table = pd.crosstab(self.alerts["month"], who).reindex(
            index=months, columns=self.reporters, fill_value=0)
        table.columns.name = None
        return table.astype(int)


def backtest(project: Project | str | Path, store: str, checks: Sequence[str] | None = None,
             *, bundle: str | None = None, registry: str | None = None) -> Backtest:
    """Replay `checks` (default: every check of `store`) of the project, or of its bundle
    `bundle` (from `.scenarist/bundles/` or the registry), over `store`'s stored history.

    The evaluations always come from the current project's store. An unknown store or check is
    a ConfigError listing what exists; an unknown bundle a BundleError listing the versions."""
    from scenarist.operations.build import (
        open_store,  # build reads datasets and models: import late
    )
    from scenarist.operations.checking import resolve_checks

    current = project if isinstance(project, Project) else load_project(project)
    resolve_checks(current, [], store=store)  # the store must exist in the current project
    history = History(open_store(current, store))
    source = current
    if bundle is not None:
        from scenarist.bundles.read import with_bundle_checks

        source = with_bundle_checks(current, bundle, registry)
    selected = resolve_checks(source, checks or None, store=store)
    return _backtest(source, selected, history, bundle or "project")


def _backtest(project: Project, selected: Mapping[str, AnyCheckSpec], history: History,
              source: str) -> Backtest:
    """The backtest of `selected` (checks of `project`) over `history`'s evaluations, read with
    only the metrics they and the scenarios' gates need."""
    evaluations = history.evaluations(needed_metrics(project, selected))
    with project_on_path(project.root):
        outcomes = replay(selected, evaluations, history.store, complete=history.complete)
    alerts, reporters = replay_alerts(project, selected, outcomes, evaluations)
    return Backtest(history.store.name, source, outcomes, alerts, reporters)


class History:
    """One store's evaluations as backtests read them, each read once (the two backtests of a
    what-if share one read) and with only the metrics asked for (then only the `DETAILS` of
    their details: a check per segment, an EMPTY result's reason and the run's `evaluation`
    variable read no other)."""

    def __init__(self, store: Any) -> None:
        self.store = store  # the EvaluationStore
        self._reads: dict[frozenset[str] | None, list[Evaluation]] = {}
        self._complete: dict[str, Evaluation] = {}

    def evaluations(self, metrics: Sequence[str] | None) -> list[Evaluation]:
        """Every evaluation, oldest first, with at least `metrics` (None: all of them)."""
        wanted = None if metrics is None else frozenset(metrics)
        for read, found in self._reads.items():
            if read is None or (wanted is not None and wanted <= read):
                return found
        found = self.store.evaluations(*(() if wanted is None else (sorted(wanted), DETAILS)))
        self._reads[wanted] = found
        if wanted is None:
            self._complete.update((e.label, e) for e in found)
        return found

    def complete(self, evaluation: Evaluation) -> Evaluation:
        """`evaluation` with all its metrics (what an EMPTY result's message lists)."""
        if evaluation.label not in self._complete:
            self._complete[evaluation.label] = self.store.get(evaluation.label)
        return self._complete[evaluation.label]


def needed_metrics(project: Project, checks: Mapping[str, AnyCheckSpec]
                   ) -> tuple[str, ...] | None:
    """The `Evaluation.metrics` keys a backtest of `checks` reads; None for all of them (a
    python check may read any metric, and so may a reporter gate that reads `evaluation`)."""
    if any(spec.type == "python" for spec in checks.values()) or _gates_read_evaluation(project):
        return None
    return tuple(dict.fromkeys(metric_key(spec.metric, spec.feature)
                               for spec in checks.values()))


def _gates_read_evaluation(project: Project) -> bool:
    """Whether a reporter's `when:` reads the run's `evaluation` variable (its metrics)."""
    for scenario in project.scenarios.values():
        for reporter in scenario.reporters:
            if reporter.when is None:
                continue
            try:
                if "evaluation" in expression_names(reporter.when):
                    return True
            except ConfigError:
                return True  # the replay raises it as it always did
    return False


def replay(checks: Mapping[str, AnyCheckSpec], evaluations: Sequence[Evaluation],
           store: Any = None, *,
           complete: Callable[[Evaluation], Evaluation] | None = None) -> pd.DataFrame:
    """Every check on every evaluation (history order; each one's previous is the one before
    it). One row per check × evaluation (× segment, for a check with `segment`: its segments'
    metrics are read from `store`, the EvaluationStore; the rest is pure), checks in the given
    order. `evaluations` read with only the checks' metrics need `complete`, which gives one
    with all its metrics: a check whose metric is absent lists those that exist."""
    rows = []
    times = [evaluation_time(evaluation) for evaluation in evaluations]
    months = [when.strftime("%Y-%m") for when in times]
    for name, spec in checks.items():
        key = metric_key(spec.metric, spec.feature)
        for position, evaluation in enumerate(evaluations):
            previous = evaluations[position - 1] if position > 0 else None
            if getattr(spec, "segment", None) is not None and store is not None:
                results = check_segments(name, spec, store, evaluation, previous)
            elif complete is not None and key and key not in evaluation.metrics:
                results = [evaluate_check(name, spec, complete(evaluation), previous)]
            else:
                results = [evaluate_check(name, spec, evaluation, previous)]
            for result in results:
                rows.append({"check": name, "segment": getattr(result, "segment", None) or "",
                             "store": evaluation.store, "evaluation": evaluation.label,
                             "time": times[position], "month": months[position],
                             "outcome": str(result.outcome), "value": result.value,
                             "message": result.message})
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS)


def evaluation_time(evaluation: Evaluation) -> datetime:
    """When an evaluation happened, for months: its time_start, else when it was created."""
    return evaluation.time_start or evaluation.created_at


def outcome_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per check: the number of evaluations with each outcome (all four columns, always)."""
    order = list(dict.fromkeys(outcomes["check"]))
    table = pd.crosstab(outcomes["check"], outcomes["outcome"])
    table = table.reindex(index=order, columns=[o.value for o in Outcome], fill_value=0)
    table.columns.name = None
    return table.astype(int)


def replay_alerts(project: Project, checks: Mapping[str, AnyCheckSpec],
                  outcomes: pd.DataFrame,
                  evaluations: Sequence[Evaluation]) -> tuple[pd.DataFrame, list[str]]:
    """The messages each scenario's reporters would have sent, one simulated run per evaluation
    (see the module docstring), and the "scenario / reporter" names considered — pure."""
    rows: list[dict[str, Any]] = []
    reporters: list[str] = []
    by_evaluation = _rows_by_evaluation(outcomes)
    for scenario, spec in project.scenarios.items():
        steps = {step_variable(step.name): _step_checks(step, checks)
                 for step in spec.steps if isinstance(step, RunChecksStep)}
        live = [r for r in spec.reporters if not r.shadow]  # a shadow reporter sends nothing
        if not live or not any(steps.values()):
            continue
        reporters += [f"{scenario} / {reporter.name}" for reporter in live]
        ran = {variable: (lambda c, names=names: c["name"] in names)
               for variable, names in steps.items()}
        states: dict[str, dict] = {r.name: {} for r in live}
        policies = {r.name: hygiene.Policy(r.repeat, r.escalate_after, r.notify_recovery)
                    for r in live}  # no snooze in a backtest
        for evaluation in evaluations:
            group = by_evaluation.get(evaluation.label)
            if group is None:
                continue
            results = [_check_variable(row, checks[row.check]) for row in group
                       if any(row.check in names for names in steps.values())]
            variables = _run_variables(project, scenario, spec, steps, results, evaluation)
            outcome = StepOutcome(variables["outcome"])
            found = hygiene.outcomes_of(results)
            when = evaluation_time(evaluation)
            month = when.strftime("%Y-%m")
            other_failure = outcome > StepOutcome.from_checks(found.values())
            for reporter in live:
                assessment = hygiene.assess(states[reporter.name], found,
                                            reporter.escalate_after)
                seen = hygiene.escalated_variables(variables, assessment, ran)
                try:
                    gate_open = should_report(reporter.when, reporter.on, seen["outcome"], seen)
                except ConditionError:
                    gate_open = True  # the engine sends anyway rather than lose an alert
                decision = hygiene.decide(policies[reporter.name], assessment,
                                          gate_open=gate_open, now=when,
                                          other_failure=other_failure)
                states[reporter.name] = {**states[reporter.name], **decision.states}
                base = {"scenario": scenario, "reporter": reporter.name,
                        "evaluation": evaluation.label, "time": when,
                        "month": month}
                if decision.alert:
                    flagged = [hygiene.key_label(hygiene.check_key(c))
                               for c in seen["checks"] if c["outcome"] != "OK"]
                    rows.append({**base, "kind": "alert",
                                 "escalated": bool(seen["alert"]["escalated"]),
                                 "checks": ", ".join(flagged)})
                if decision.recovery:
                    rows.append({**base, "kind": "recovery", "escalated": False,
                                 "checks": ", ".join(seen["alert"]["recovered"])})
    return pd.DataFrame(rows, columns=ALERT_COLUMNS), reporters


def compare(old: Backtest, new: Backtest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two backtests of the same store side by side (e.g. bundle v2's checks against v3's):

    - per check × segment × evaluation: `outcome_old`, `outcome_new` ("-" where a check is
      absent) and `changed`, in history order;
    - per check: the outcome counts of each and `new − old` per outcome (`delta_OK`, …)."""
    keys = ["check", "segment", "evaluation"]
    a = old.outcomes[[*keys, "time", "outcome"]].rename(columns={"outcome": "outcome_old"})
    b = new.outcomes[[*keys, "time", "outcome"]].rename(columns={"outcome": "outcome_new"})
    both = a.merge(b, on=keys, how="outer", suffixes=("", "_b"))
    both["time"] = both["time"].fillna(both.pop("time_b"))
    both[["outcome_old", "outcome_new"]] = both[["outcome_old", "outcome_new"]].fillna("-")
    both["changed"] = both["outcome_old"] != both["outcome_new"]
    order = list(dict.fromkeys([*old.outcomes["check"], *new.outcomes["check"]]))
    both["_order"] = both["check"].map({name: i for i, name in enumerate(order)})
    rows = (both.sort_values(["_order", "time"], kind="stable").drop(columns="_order")
            .reset_index(drop=True))
    counts_old = old.counts.reindex(order, fill_value=0)
    counts_new = new.counts.reindex(order, fill_value=0)
    deltas = pd.concat([counts_old.add_suffix("_old"), counts_new.add_suffix("_new"),
                        (counts_new - counts_old).add_prefix("delta_")], axis=1)
    return rows, deltas


def _step_checks(step: RunChecksStep, checks: Mapping[str, AnyCheckSpec]) -> set[str]:
    """The backtested checks a run_checks step runs (by name, or every check of its store); a
    shadow check never counts in its outcome."""
    if step.checks:
        return {name for name in step.checks if name in checks and not checks[name].shadow}
    return {name for name, spec in checks.items() if spec.store == step.store
            and not spec.shadow}


def _rows_by_evaluation(outcomes: pd.DataFrame) -> dict[str, list[Any]]:
    """The outcome rows (named tuples, as `itertuples` gives them) of each evaluation, in
    order — read column by column once, not row by row through pandas per scenario."""
    columns = [outcomes[c].tolist() for c in OUTCOME_COLUMNS]
    grouped: dict[str, list[Any]] = {}
    for row in map(_Row._make, zip(*columns, strict=True)):
        grouped.setdefault(row.evaluation, []).append(row)
    return grouped


def _check_variable(row: Any, spec: AnyCheckSpec) -> dict[str, Any]:
    """One replayed result as the run's `checks` variable holds it."""
    value = None if pd.isna(row.value) else float(row.value)
    return {"name": row.check, "segment": row.segment or None, "outcome": row.outcome,
            "metric": spec.metric,
            "feature": spec.feature, "value": value, "bounds": spec.bounds(),
            "message": row.message, "evaluation_label": row.evaluation, "store": row.store,
            "checked_at": row.time}


def _run_variables(project: Project, scenario: str, spec: Any, steps: Mapping[str, set[str]],
                   results: list[dict[str, Any]], evaluation: Evaluation) -> dict[str, Any]:
    """The variables of a simulated run of `scenario` right after `evaluation` was built."""
    step_outcomes = {step_variable(step.name): StepOutcome.SUCCESS for step in spec.steps}
    for variable, names in steps.items():
        step_outcomes[variable] = StepOutcome.from_checks(
            Outcome(r["outcome"]) for r in results if r["name"] in names)
    return {
        **project.variables, **spec.variables,
        **{name: str(outcome) for name, outcome in step_outcomes.items()},
        "scenarioName": scenario, "scenarioRunId": f"backtest-{evaluation.label}",
        "scenarioRunURL": "", "triggerName": "backtest",
        "outcome": str(StepOutcome.worst(step_outcomes.values(), default=StepOutcome.SUCCESS)),
        "checks": results,
        "evaluation": {"store": evaluation.store, "label": evaluation.label,
                       "row_count": evaluation.row_count, "metrics": dict(evaluation.metrics),
                       "top_drifted_features": list(
                           evaluation.details.get("top_drifted_features", []))},
    }


def what_if(project: Project | str | Path, check: str, bounds: Mapping[str, float | None],
            *, history: History | None = None) -> Backtest:
    """`backtest` of the one check `check` with some bounds changed (`{"soft_max": 0.3}`;
    None removes a bound): what it, and the reporters, would have said over the stored
    history — before anyone edits the YAML. Bounds the check type does not have, or that
    contradict each other, are a ConfigError. `history`: the store's, already open (see
    `now_and_what_if`)."""
    from pydantic import ValidationError

    from scenarist.operations.checking import resolve_checks

    current = project if isinstance(project, Project) else load_project(project)
    spec = resolve_checks(current, [check])[check]
    unknown = sorted(set(bounds) - set(type(spec).model_fields))
    if unknown:
        raise ConfigError(f"check {check!r} ({spec.type}) has no bound {', '.join(unknown)}")
    try:
        changed = type(spec).model_validate({**spec.model_dump(), **bounds})
    except ValidationError as exc:
        raise ConfigError(f"check {check!r}: {exc.errors()[0]['msg']}") from None
    edited = current.model_copy(update={"checks": {**current.checks, check: changed}})
    if history is not None:
        return _backtest(edited, resolve_checks(edited, [check], store=spec.store), history,
                         "project")
    return backtest(edited, spec.store, [check])


def now_and_what_if(project: Project | str | Path, check: str,
                    bounds: Mapping[str, float | None]) -> tuple[Backtest, Backtest]:
    """`backtest(project, store, [check])` and `what_if(project, check, bounds)` (the
    console's what-if form), sharing one read of the store's history."""
    from scenarist.operations.build import open_store
    from scenarist.operations.checking import resolve_checks

    current = project if isinstance(project, Project) else load_project(project)
    store = resolve_checks(current, [check])[check].store
    history = History(open_store(current, store))
    then = what_if(current, check, bounds, history=history)
    now = _backtest(current, resolve_checks(current, [check], store=store), history, "project")
    return now, then
