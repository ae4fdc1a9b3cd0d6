"""The numeric range check (DESIGN.md §5), Dataiku's "metric value is in a numeric range".

    value > hard_max or < hard_min  → ERROR
    value > soft_max or < soft_min  → WARNING
    otherwise                       → OK       (a value equal to a bound is OK)
    no value (absent or NaN)        → EMPTY
"""

from __future__ import annotations

from collections.abc import Mapping

from scenarist.checks.base import EvaluationLike, empty_result, factory, metric_value
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, fmt_number, metric_key
from scenarist.checks.specs import NumericRangeCheckSpec

_WORDS = {"hard_max": "above the hard maximum", "hard_min": "below the hard minimum",
          "soft_max": "above the soft maximum", "soft_min": "below the soft minimum"}


def range_outcome(value: float, bounds: Mapping[str, float]) -> tuple[Outcome, str | None]:
    """The outcome of `value` against `bounds` (any of hard_min, soft_min, soft_max, hard_max)
    and the bound it crossed (None when inside)."""
    for name, outcome in (("hard", Outcome.ERROR), ("soft", Outcome.WARNING)):
        high, low = bounds.get(f"{name}_max"), bounds.get(f"{name}_min")
        if high is not None and value > high:
            return outcome, f"{name}_max"
        if low is not None and value < low:
            return outcome, f"{name}_min"
    return Outcome.OK, None


def evaluate(
    name: str,
    spec: NumericRangeCheckSpec,
    evaluation: EvaluationLike,
    previous: EvaluationLike | None = None,
) -> CheckResult:
    """Check that the metric of `evaluation` lies within the spec's bounds."""
    make = factory(name, spec, evaluation)
    value = metric_value(spec, evaluation)
    if value is None:
        return empty_result(make, spec, evaluation)
    bounds = spec.bounds()
    outcome, crossed = range_outcome(value, bounds)
    shown = f"{metric_key(spec.metric, spec.feature)} = {fmt_number(value)}"
    if crossed is not None:
        message = f"{shown} is {_WORDS[crossed]} {fmt_number(bounds[crossed])}"
    else:
        listed = ", ".join(f"{k} {fmt_number(v)}" for k, v in bounds.items())
        message = f"{shown} is within bounds ({listed})"
    return make(outcome, message, value=value, bounds=bounds)
