"""`min_rows`: no verdict from a handful of rows.

Below `min_rows` (default 30) an evaluation still stores every metric name, but with no value
(NaN, so checks on it give EMPTY), and keeps why in its details under `insufficient_data`
(metric key → reason, e.g. `"auc": "insufficient data: 12 labeled rows, min_rows is 30"`).
The count that must reach `min_rows` depends on the metric family:

    per-feature drift      the feature's non-missing values in the current batch and in the
                           reference (each side), per feature; `drift_share` and
                           `n_drifted_features` count the features that have enough
    data_drift, drift_model_*
                           rows of the current batch and of the reference (each side; the
                           domain classifier also needs at least 20)
    prediction drift       rows of the current batch
    performance, target drift and their intervals
                           labeled rows of the current batch
    data quality           always computed: row counts and shares describe the batch itself
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from scenarist.metrics.values import MetricValue

if TYPE_CHECKING:  # the drift statistics load scipy: checks read reasons without them
    from scenarist.metrics.drift import FeatureDrift
    from scenarist.metrics.multiple_testing import Correction

DEFAULT_MIN_ROWS = 30
DETAILS_KEY = "insufficient_data"


def reason(count: int, what: str, min_rows: int) -> str:
    """The reason stored for a metric whose `count` of `what` is below `min_rows`."""
    return f"insufficient data: {count} {what}, min_rows is {min_rows}"


def emptied(values: Iterable[MetricValue], why: str, reasons: dict[str, str]) -> list[MetricValue]:
    """`values` with no value (NaN), recording `why` for each of their keys in `reasons`."""
    result = []
    for value in values:
        reasons[value.key] = why
        result.append(dataclasses.replace(value, value=float("nan")))
    return result


def guard_drift(
    drifts: list[FeatureDrift],
    counts: Mapping[str, tuple[int, int]],
    min_rows: int,
    correction: Correction,
    reasons: dict[str, str],
) -> tuple[list[FeatureDrift], list[MetricValue]]:
    """Per-feature drift after min_rows and multiple-testing correction, with `drift_share` and
    `n_drifted_features` over the features that have enough values.

    `counts` maps each feature to its non-missing values (current, reference). A feature short
    of `min_rows` on either side has no value and no verdict (drifted False) and is left out of
    the correction's family; `reasons` receives why."""
    from scenarist.metrics.drift import drift_share
    from scenarist.metrics.multiple_testing import correct_drift

    short: dict[str, str] = {}
    for d in drifts:
        current, reference = counts[d.feature]
        count, side = min((current, "non-missing current values"),
                          (reference, "non-missing reference values"))
        if count < min_rows:
            short[d.feature] = reason(count, f"{side} of {d.feature}", min_rows)
    tested = iter(correct_drift([d for d in drifts if d.feature not in short], correction))
    guarded = [d if d.feature in short else next(tested) for d in drifts]
    values: list[MetricValue] = []
    for d in guarded:
        if d.feature in short:
            values.extend(emptied(d.metric_values(), short[d.feature], reasons))
        else:
            values.extend(d.metric_values())
    counted = [d for d in guarded if d.feature not in short]
    values.append(MetricValue("drift_share", drift_share(counted)))
    values.append(MetricValue("n_drifted_features", float(sum(d.drifted for d in counted))
                              if counted else float("nan")))
    if not counted and short:
        for name in ("drift_share", "n_drifted_features"):
            reasons[name] = next(iter(short.values()))
    return [dataclasses.replace(d, drifted=False) if d.feature in short else d
            for d in guarded], values


def reason_for(details: Mapping[str, Any], key: str) -> str | None:
    """Why metric `key` of an evaluation has no value, when it is for lack of data."""
    return (details.get(DETAILS_KEY) or {}).get(key)


def summary(details: Mapping[str, Any]) -> list[str]:
    """The distinct reasons of an evaluation, short: features short of values are counted."""
    reasons = details.get(DETAILS_KEY) or {}
    overall = {why for key, why in reasons.items() if "[" not in key}
    features = sorted({key[:-1].split("[", 1)[1] for key, why in reasons.items()
                       if "[" in key and why not in overall})
    lines = sorted(overall)
    if features:
        named = ", ".join(features[:3]) + (", …" if len(features) > 3 else "")
        lines.append(f"insufficient data: drift of {len(features)} feature(s) ({named})")
    return lines
