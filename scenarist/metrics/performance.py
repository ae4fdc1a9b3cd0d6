"""Model performance metrics of one batch whose labels (actuals) are known.

Rows whose label is missing are dropped first; every metric is computed on the labelled rows
with scikit-learn's definition:

- binary: ``accuracy``; ``precision``, ``recall``, ``f1`` of ``positive_label`` (0 when
  undefined, e.g. no predicted positive: ``zero_division=0``); ``auc`` (ROC AUC) and ``logloss``
  from the probability of the positive class, only when ``y_proba`` is given. ``auc`` is NaN
  when the labelled rows hold a single class.
- multiclass: ``accuracy``, ``f1_macro`` (unweighted mean of per-class F1 over the classes
  present in labels or predictions, ``zero_division=0``), and ``logloss`` when ``y_proba``
  (n_rows x n_classes, columns in ``classes`` order) is given.
- regression: ``rmse`` (square root of the mean squared error), ``mae``, ``r2`` (NaN with fewer
  than two rows) and ``mape`` (scikit-learn's: ``mean(|y - p| / max(|y|, eps))``, a fraction,
  not a percentage, and huge when a label is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from scenarist.errors import InputDataError
from scenarist.metrics.intervals import performance_intervals
from scenarist.metrics.values import MetricValue

ModelType = Literal["binary", "multiclass", "regression"]


def _labelled(
    y_true: Any, y_pred: Any, y_proba: Any, label_name: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Keep the rows with a label; check lengths and that every kept row has a prediction."""
    true, pred = pd.Series(y_true, dtype=object), pd.Series(y_pred, dtype=object)
    proba = None if y_proba is None else np.asarray(y_proba, dtype=float)
    lengths = {len(true), len(pred)} | (set() if proba is None else {len(proba)})
    if len(lengths) > 1:
        raise InputDataError(
            f"labels, predictions and probabilities differ in length ({len(true)}, "
            f"{len(pred)}, {'-' if proba is None else len(proba)}); pass one value per row"
        )
    keep = true.notna().to_numpy()
    if not keep.any():
        where = f"column {label_name!r}" if label_name else "the label column"
        raise InputDataError(
            f"labels missing: no row of the {len(true)} has a value in {where}; "
            "log the actuals before computing performance"
        )
    true, pred = true[keep].infer_objects(), pred[keep].infer_objects()
    if pred.isna().any():
        raise InputDataError(f"{int(pred.isna().sum())} labelled row(s) have no prediction")
    return true.to_numpy(), pred.to_numpy(), None if proba is None else proba[keep]


def _positive_proba(proba: np.ndarray, classes: Sequence | None, positive_label: Any) -> np.ndarray:
    if proba.ndim == 1:
        return proba
    if classes is None or positive_label not in list(classes):
        raise InputDataError(
            "2-D binary probabilities need `classes` naming their columns and holding the "
            f"positive label {positive_label!r}; got classes={classes!r}"
        )
    return proba[:, list(classes).index(positive_label)]


def performance_metrics(
    y_true: Any,
    y_pred: Any,
    y_proba: Any = None,
    *,
    model_type: ModelType,
    classes: Sequence | None = None,
    positive_label: Any = 1,
    label_name: str | None = None,
    intervals: bool = False,
) -> list[MetricValue]:
    """Performance of one batch; `label_name` only names the label column in error messages.

    `intervals=True` adds each metric's 95% interval as `<metric>.lower` / `<metric>.upper`
    (`scenarist.metrics.intervals.performance_intervals`)."""
    true, pred, proba = _labelled(y_true, y_pred, y_proba, label_name)
    if model_type == "binary" and proba is not None:
        proba = _positive_proba(proba, classes, positive_label)
    if model_type == "binary":
        is_pos, pred_pos = true == positive_label, pred == positive_label
        values = {
            "accuracy": skm.accuracy_score(true, pred),
            "precision": skm.precision_score(is_pos, pred_pos, zero_division=0),
            "recall": skm.recall_score(is_pos, pred_pos, zero_division=0),
            "f1": skm.f1_score(is_pos, pred_pos, zero_division=0),
        }
        if proba is not None:
            single = is_pos.all() or not is_pos.any()
            values["auc"] = float("nan") if single else skm.roc_auc_score(is_pos, proba)
            values["logloss"] = skm.log_loss(is_pos.astype(int), proba, labels=[0, 1])
    elif model_type == "multiclass":
        values = {
            "accuracy": skm.accuracy_score(true, pred),
            "f1_macro": skm.f1_score(true, pred, average="macro", zero_division=0),
        }
        if proba is not None:
            if classes is None or proba.ndim != 2 or proba.shape[1] != len(classes):
                raise InputDataError(
                    "multiclass probabilities must be n_rows x n_classes with `classes` naming "
                    f"the columns; got shape {proba.shape} and classes={classes!r}"
                )
            unknown = set(true.tolist()) - set(classes)
            if unknown:
                raise InputDataError(f"labels {sorted(map(str, unknown))} are not in {classes}")
            values["logloss"] = skm.log_loss(true, proba, labels=list(classes))
    elif model_type == "regression":
        true, pred = true.astype(float), pred.astype(float)
        values = {
            "rmse": np.sqrt(skm.mean_squared_error(true, pred)),
            "mae": skm.mean_absolute_error(true, pred),
            "r2": skm.r2_score(true, pred) if len(true) > 1 else float("nan"),
            "mape": skm.mean_absolute_percentage_error(true, pred),
        }
    else:
        raise ValueError(f"unknown model_type {model_type!r}; use binary, multiclass or regression")
    result = [MetricValue(name, float(value)) for name, value in values.items()]
    if intervals:
        result += performance_intervals(true, pred, proba, model_type=model_type,
                                        positive_label=positive_label, classes=classes)
    return result
