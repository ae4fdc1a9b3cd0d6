"""95% intervals of an evaluation's estimates, stored as `<metric>.lower` / `<metric>.upper`.

A metric measured on a batch is an estimate of what the model does on the population the batch
came from; the interval says how far that estimate may be from it. Checks can use the bounds
(`metric: data_drift.lower, soft_max: 0.3` warns only when drift is certainly above 0.3;
`metric: auc.upper, hard_min: 0.7` fails only when AUC is certainly below 0.7).

    accuracy, precision, recall   Wilson score interval of the proportion (successes / trials:
                                  correct / rows, true positives / predicted positives, true
                                  positives / actual positives)
    data_drift, drift_model_accuracy
                                  Wilson interval of the domain classifier's held-out accuracy
                                  (data_drift maps it by max(0, 2·(a − 0.5)))
    auc                           DeLong: the normal interval auc ± z·se with DeLong's variance
                                  of the Mann–Whitney statistic (midranks, so ties count ½)
    mae, mape, logloss            Student-t interval of the mean of the per-row losses
    rmse                          square root of the Student-t interval of the mean squared error
    f1                            Wilson interval of the Jaccard index tp / (tp + fp + fn),
                                  mapped by F1 = 2J / (1 + J)
    f1_macro                      percentile bootstrap: 1,000 seeded multinomial resamples of the
                                  confusion matrix (the same as resampling rows, at a cost that
                                  does not grow with the batch)
    r2                            none

Each bound is NaN when it is undefined (no trials, fewer than 2 rows, one class only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from scenarist.metrics.values import MetricValue

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 1_000
_Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


def interval_values(metric: str, low: float, high: float) -> list[MetricValue]:
    """`<metric>.lower` and `<metric>.upper` as metric values."""
    return [MetricValue(f"{metric}.lower", float(low)), MetricValue(f"{metric}.upper", float(high))]


def wilson(successes: Any, trials: Any) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of successes / trials (vectorised; NaN where trials is 0)."""
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2n = _Z**2 / n
        center = (p + z2n / 2) / (1 + z2n)
        half = _Z / (1 + z2n) * np.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # exact at the ends (the formula leaves 1 − 2e-16 when every trial succeeds)
    low = np.where((k == 0) & (n > 0), 0.0, center - half)
    return low, np.where((k == n) & (n > 0), 1.0, center + half)


def f1_interval(tp: int, fp: int, fn: int) -> tuple[float, float]:
    """95% interval of F1 = 2tp / (2tp + fp + fn) through the Jaccard index J = tp / (tp + fp +
    fn), a proportion (given the rows that are not true negatives, tp is binomial with
    probability J): the Wilson interval of J mapped by F1 = 2J / (1 + J)."""
    low, high = wilson(tp, tp + fp + fn)
    return float(2 * low / (1 + low)), float(2 * high / (1 + high))


def mean_interval(values: Any) -> tuple[float, float]:
    """95% Student-t interval of the mean of `values` (NaN with fewer than 2 values)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def delong_auc(positive: Any, scores: Any) -> tuple[float, float, float]:
    """(auc, lower, upper): ROC AUC with its 95% DeLong interval, clipped to [0, 1].

    `positive` is a boolean array (True = positive class); NaN when only one class is present.
    """
    is_pos = np.asarray(positive, dtype=bool)
    s = np.asarray(scores, dtype=float)
    x, y = s[is_pos], s[~is_pos]
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    combined = stats.rankdata(np.concatenate([x, y]))
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    v10 = (combined[:m] - rx) / n  # per positive: share of negatives it outranks
    v01 = 1 - (combined[m:] - ry) / m  # per negative: share of positives that outrank it
    auc = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else np.nan) + (v01.var(ddof=1) / n if n > 1 else np.nan)
    half = _Z * np.sqrt(var)
    return auc, float(max(0.0, auc - half)), float(min(1.0, auc + half))


def bootstrap_confusion(
    confusion: np.ndarray, *, macro: bool, random_state: int = 0
) -> tuple[float, float]:
    """95% percentile bootstrap interval of F1 from a confusion matrix (rows: true class).

    `macro=False`: a 2×2 matrix ordered (negative, positive), the positive class's F1;
    `macro=True`: the unweighted mean F1 over the classes present in labels or predictions,
    as scikit-learn's `f1_score(average="macro", zero_division=0)`."""
    cells = np.asarray(confusion, dtype=float)
    k, total = cells.shape[0], int(cells.sum())
    if total == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(total, cells.ravel() / total, size=BOOTSTRAP_RESAMPLES)
    draws = draws.reshape(-1, k, k).astype(float)
    tp = np.diagonal(draws, axis1=1, axis2=2)
    actual, predicted = draws.sum(axis=2), draws.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(actual + predicted > 0, 2 * tp / (actual + predicted), 0.0)
    if macro:
        present = (actual + predicted) > 0
        f1 = (f1 * present).sum(axis=1) / present.sum(axis=1)
    else:
        f1 = f1[:, 1]
    low, high = np.percentile(f1, [50 * (1 - CONFIDENCE), 50 * (1 + CONFIDENCE)])
    return float(low), float(high)


def performance_intervals(
    true: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    *,
    model_type: str,
    positive_label: Any = 1,
    classes: Sequence | None = None,
    random_state: int = 0,
) -> list[MetricValue]:
    """The intervals of `performance.performance_metrics` on the same labelled rows.

    `proba` is the positive class's probability (binary) or n_rows × n_classes in `classes`
    order (multiclass)."""
    values: list[MetricValue] = []
    if model_type in ("binary", "multiclass"):
        correct = int((true == pred).sum())
        values += interval_values("accuracy", *wilson(correct, len(true)))
    if model_type == "binary":
        is_pos, pred_pos = true == positive_label, pred == positive_label
        tp = int((is_pos & pred_pos).sum())
        values += interval_values("precision", *wilson(tp, int(pred_pos.sum())))
        values += interval_values("recall", *wilson(tp, int(is_pos.sum())))
        values += interval_values("f1", *f1_interval(
            tp, int((~is_pos & pred_pos).sum()), int((is_pos & ~pred_pos).sum())))
        if proba is not None:
            _, low, high = delong_auc(is_pos, proba)
            values += interval_values("auc", low, high)
            p = np.clip(proba, np.finfo(float).eps, 1 - np.finfo(float).eps)
            values += interval_values("logloss", *mean_interval(
                -np.where(is_pos, np.log(p), np.log(1 - p))))
    elif model_type == "multiclass":
        labels = list(dict.fromkeys([*(classes or []), *true.tolist(), *pred.tolist()]))
        index = {label: i for i, label in enumerate(labels)}
        confusion = np.zeros((len(labels), len(labels)))
        np.add.at(confusion, ([index[t] for t in true.tolist()],
                              [index[p] for p in pred.tolist()]), 1)
        values += interval_values("f1_macro", *bootstrap_confusion(
            confusion, macro=True, random_state=random_state))
        if proba is not None and classes is not None:
            rows = proba[np.arange(len(true)), [list(classes).index(t) for t in true]]
            p = np.clip(rows / proba.sum(axis=1), np.finfo(float).eps, 1)
            values += interval_values("logloss", *mean_interval(-np.log(p)))
    elif model_type == "regression":
        error = true.astype(float) - pred.astype(float)
        mse_low, mse_high = mean_interval(error**2)
        values += interval_values("rmse", np.sqrt(max(mse_low, 0.0)), np.sqrt(mse_high))
        values += interval_values("mae", *mean_interval(np.abs(error)))
        scale = np.maximum(np.abs(true.astype(float)), np.finfo(float).eps)
        values += interval_values("mape", *mean_interval(np.abs(error) / scale))
    return values
