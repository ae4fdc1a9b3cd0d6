"""The relative change check: how far the metric moved since the store's previous evaluation.

    change = (value − previous) / |previous|        e.g. AUC 0.80 → 0.74 is −0.075 (−7.5%)

Only moves in the spec's `direction` count (`decrease`, `increase`, `both`). A counted move
larger than `hard_max_change` → ERROR, larger than `soft_max_change` → WARNING, else OK (a move
equal to a limit, up to float rounding, is OK). No previous evaluation, or no value in either
→ EMPTY. From a previous value of 0, any move is infinitely large.
"""

from __future__ import annotations

import math

from scenarist.checks.base import EvaluationLike, empty_result, factory, metric_value
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, fmt_number, metric_key
from scenarist.checks.specs import RelativeChangeCheckSpec


def relative_change(value: float, previous: float) -> float:
    """(value − previous) / |previous|; ±inf from 0 to non-zero, 0 from 0 to 0."""
    if previous == 0:
        return 0.0 if value == 0 else math.copysign(math.inf, value)
    return (value - previous) / abs(previous)


def counted_move(change: float, direction: str) -> float:
    """The size of the move the spec cares about (0 when it moves the other way)."""
    if direction == "decrease":
        return max(0.0, -change)
    if direction == "increase":
        return max(0.0, change)
    return abs(change)


def _exceeds(move: float, allowed: float) -> bool:
    """move > allowed, with a move equal to the limit up to float rounding counted as equal
    (0.80 → 0.76 is a 5% drop, not 5.000000000000004%)."""
    return move > allowed and not math.isclose(move, allowed, rel_tol=1e-9, abs_tol=1e-12)


def evaluate(
    name: str,
    spec: RelativeChangeCheckSpec,
    evaluation: EvaluationLike,
    previous: EvaluationLike | None = None,
) -> CheckResult:
    """Check how far the metric moved between `previous` and `evaluation`."""
    make = factory(name, spec, evaluation)
    value = metric_value(spec, evaluation)
    if value is None:
        return empty_result(make, spec, evaluation)
    key = metric_key(spec.metric, spec.feature)
    bounds = spec.bounds()
    if previous is None:
        return make(Outcome.EMPTY, f"store {spec.store!r} has no evaluation before "
                    f"{evaluation.label!r} to compare {key} with", value=value, bounds=bounds)
    before = metric_value(spec, previous)
    if before is None:
        return make(Outcome.EMPTY, f"{key} has no value in the previous evaluation "
                    f"{previous.label!r}", value=value, bounds=bounds)
    change = relative_change(value, before)
    move = counted_move(change, spec.direction)
    bounds = {**bounds, "previous": before, "previous_label": previous.label, "change": change}
    percent = "infinitely" if math.isinf(change) else f"{change:+.2%}"
    shown = (f"{key} moved {percent} from {fmt_number(before)} ({previous.label}) to "
             f"{fmt_number(value)}")
    for limit, outcome, word in (("hard_max_change", Outcome.ERROR, "hard"),
                                 ("soft_max_change", Outcome.WARNING, "soft")):
        allowed = getattr(spec, limit)
        if allowed is not None and _exceeds(move, allowed):
            return make(outcome, f"{shown}, more than the {word} limit {allowed:.2%} "
                        f"({spec.direction})", value=value, bounds=bounds)
    return make(Outcome.OK, f"{shown}, within the limits ({spec.direction})",
                value=value, bounds=bounds)
