"""What every check type shares: the evaluation it reads, the metric lookup, the EMPTY result.

Checks are pure: they read an evaluation already loaded (anything shaped like
`scenarist.stores.evaluation.Evaluation`, see `EvaluationLike`) and never touch a store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, ResultFactory, metric_key
from scenarist.metrics.sufficiency import reason_for


class EvaluationLike(Protocol):
    """The part of an `Evaluation` a check reads."""

    store: str
    label: str
    metrics: Mapping[str, float]
    segment: str | None  # None: all rows

    def metric(self, name: str, feature: str | None = None) -> float: ...


Evaluator = Callable[[str, Any, EvaluationLike, "EvaluationLike | None"], CheckResult]
"""A check type's pure function: (name, spec, evaluation, previous) -> CheckResult."""


def factory(name: str, spec: Any, evaluation: EvaluationLike | None) -> ResultFactory:
    """A ResultFactory for `spec`'s results on `evaluation`."""
    return ResultFactory(
        name=name,
        store=spec.store,
        metric=spec.metric,
        feature=spec.feature,
        evaluation_label=evaluation.label if evaluation is not None else None,
        segment=getattr(evaluation, "segment", None),
    )


def metric_value(spec: Any, evaluation: EvaluationLike) -> float | None:
    """The checked metric's value in `evaluation`; None when absent or NaN."""
    value = evaluation.metric(spec.metric, spec.feature)
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def empty_result(make: ResultFactory, spec: Any, evaluation: EvaluationLike) -> CheckResult:
    """EMPTY: the metric has no value; the message lists the metrics that do exist."""
    key = metric_key(spec.metric, spec.feature)
    if key in evaluation.metrics:
        message = f"{key} has no value in evaluation {evaluation.label!r}"
        why = reason_for(getattr(evaluation, "details", None) or {}, key)
        if why:
            message += f": {why}"
    else:
        if spec.feature is None:
            known = sorted(k for k in evaluation.metrics if "[" not in k)
        else:
            known = sorted(k for k in evaluation.metrics if k.startswith(f"{spec.metric}["))
            known = known or sorted({k.split("[", 1)[0] for k in evaluation.metrics if "[" in k})
        listing = ", ".join(known) if known else "none"
        message = (f"evaluation {evaluation.label!r} has no metric {key!r}; "
                   f"available: {listing}")
    return make(Outcome.EMPTY, message, bounds=spec.bounds())
