"""The value-in-set check: the metric is one of a list of values (numbers compare by value:
1 and 1.0 are equal); any other value gives the spec's `outcome_if_not_in` (default ERROR)."""

from __future__ import annotations

from typing import Any

from scenarist.checks.base import EvaluationLike, empty_result, factory, metric_value
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, fmt_number, metric_key
from scenarist.checks.specs import ValueInSetCheckSpec


def _same(value: float, accepted: Any) -> bool:
    if isinstance(accepted, str):
        try:
            return value == float(accepted)
        except ValueError:
            return False
    return value == accepted


def evaluate(
    name: str,
    spec: ValueInSetCheckSpec,
    evaluation: EvaluationLike,
    previous: EvaluationLike | None = None,
) -> CheckResult:
    """Check that the metric of `evaluation` is one of `spec.values`."""
    make = factory(name, spec, evaluation)
    value = metric_value(spec, evaluation)
    if value is None:
        return empty_result(make, spec, evaluation)
    shown = f"{metric_key(spec.metric, spec.feature)} = {fmt_number(value)}"
    accepted = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in spec.values)
    if any(_same(value, v) for v in spec.values):
        return make(Outcome.OK, f"{shown} is one of {accepted}", value=value,
                    bounds=spec.bounds())
    return make(Outcome(spec.outcome_if_not_in), f"{shown} is not one of {accepted}",
                value=value, bounds=spec.bounds())
