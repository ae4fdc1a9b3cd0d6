"""Custom metrics: a team's own numbers (approval rate, revenue at risk) beside the built-ins.

    metrics = {"approval_rate": import_function("mymod:approval_rate", root)}
    computed = with_custom_metrics(computed, metrics, model, current, reference)

A custom metric is a function `fn(current, reference, predictions, labels)`:

    current, reference   the batch and the reference as DataFrames (every column, including
                         additional data such as segment columns)
    predictions          the model's predictions on `current` (a numpy array, one per row)
    labels               `current[target]` as a Series, or None when the batch has no labels

It returns a number (stored as a dataset-level metric `name`) or a {feature: number} dict
(stored per feature, `name[feature]`). A function that raises, or returns anything else, gives
the metric NaN (EMPTY in checks) with the error kept in the evaluation's details under
`custom_metrics.<name>.error`; the other metrics are unaffected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from scenarist.metrics.inputs import check_batch
from scenarist.metrics.values import MetricValue

CustomMetric = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray, "pd.Series | None"], Any]
"""fn(current, reference, predictions, labels) -> number | {feature: number}."""


def predictions_of(model: Any, current: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """The model's predictions on `current`, its numbers-as-text columns converted first."""
    checked = check_batch(reference, current, features=list(model.features))
    predicted, _probabilities = model.predict(checked)
    return np.asarray(predicted)


def custom_metric_values(
    functions: Mapping[str, CustomMetric],
    model: Any,
    current: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    predictions: np.ndarray | None = None,
) -> tuple[list[MetricValue], dict[str, dict[str, Any]]]:
    """Every custom metric's values, and per metric its facts ({"error": ...} when it failed)."""
    if not functions:
        return [], {}
    if predictions is None:
        predictions = predictions_of(model, current, reference)
    target = getattr(model, "target", None)
    labels = current[target] if target in current.columns and current[target].notna().any() \
        else None
    values: list[MetricValue] = []
    facts: dict[str, dict[str, Any]] = {}
    for name, function in functions.items():
        try:
            result = function(current, reference, predictions, labels)
            computed = _as_values(name, result)
        except Exception as exc:  # noqa: BLE001 - a user's metric must not fail the others
            values.append(MetricValue(name, math.nan))
            facts[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        values.extend(computed)
        facts[name] = {"per_feature": any(v.feature is not None for v in computed)}
    return values, facts


def with_custom_metrics(
    computed: Any,
    functions: Mapping[str, CustomMetric],
    model: Any,
    current: pd.DataFrame,
    reference: pd.DataFrame,
) -> Any:
    """`computed` (a ComputedEvaluation) with the custom metrics added to its values and their
    facts to `details["custom_metrics"]`. A name clashing with a built-in metric is an error of
    that custom metric only."""
    if not functions:
        return computed
    builtin = {v.metric for v in computed.values}
    clashing = {n for n in functions if n in builtin}
    own = {n: f for n, f in functions.items() if n not in clashing}
    values, facts = custom_metric_values(own, model, current, reference)
    for name in clashing:
        facts[name] = {"error": f"{name!r} is the name of a built-in metric; rename the custom "
                                "metric"}
    ordered = {name: facts[name] for name in functions}
    return replace(computed, values=[*computed.values, *values],
                   details={**computed.details, "custom_metrics": ordered})


def _as_values(name: str, result: Any) -> list[MetricValue]:
    if isinstance(result, Mapping):
        return [MetricValue(name, _number(name, v, f"[{k!r}]"), feature=str(k))
                for k, v in result.items()]
    return [MetricValue(name, _number(name, result, ""))]


def _number(name: str, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | np.number):
        raise TypeError(f"custom metric {name!r} returned {type(value).__name__}{where} "
                        f"{value!r:.60}; return a number or a {{feature: number}} dict")
    return float(value)
