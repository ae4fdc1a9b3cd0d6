"""Performance estimated before labels arrive: CBPE (NannyML's confidence-based estimation).

A binary classifier whose positive-class probability p is calibrated (among rows scored p, a
share p is positive) tells how often it is right without a single label. A row predicted
positive is a true positive with probability p and a false positive with 1 − p; a row
predicted negative is a false negative with p and a true negative with 1 − p. Summed over the
batch, the expected confusion matrix is

    E[TP] = Σ_{ŷ=1} p    E[FP] = Σ_{ŷ=1} (1 − p)    E[FN] = Σ_{ŷ=0} p    E[TN] = Σ_{ŷ=0} (1 − p)

and the estimates are

    estimated_accuracy  = (E[TP] + E[TN]) / n            the expected accuracy, exactly
    estimated_precision = E[TP] / (E[TP] + E[FP])        exact too: ŷ fixes the denominator
    estimated_recall    = E[TP] / (E[TP] + E[FN])        a ratio of expectations (as NannyML)
    estimated_f1        = 2·E[TP] / (2·E[TP] + E[FP] + E[FN])
    estimated_auc       the area under the expected ROC curve: rows ranked by the model's own
                        score, expected positives Σp and negatives Σ(1 − p) accumulated down
                        the ranking (ties of the score form one step, as scikit-learn's
                        roc_curve), trapezoids.

Calibration: when the reference has labels, `fit_calibration` checks, as NannyML does, whether
an isotonic regression of the labels on the score (scikit-learn, fitted on reference rows)
lowers the expected calibration error on held-out reference rows (5 stratified splits, 10
quantile bins); if it does, the calibrated probability replaces the score as p (the ranking
for AUC stays the model's score). Without reference labels the probabilities are trusted as
they are; the evaluation's details say which (`cbpe.calibration`).

When labels come, `estimate_errors` records each estimate's error against the realized metric:
`estimated_accuracy_error = estimated_accuracy − accuracy` (and so on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedShuffleSplit

from scenarist.metrics.values import MetricValue

ESTIMATED = ("accuracy", "precision", "recall", "f1", "auc")
MIN_CALIBRATION_ROWS = 100
CALIBRATION_SPLITS = 5
ECE_BINS = 10


@dataclass(frozen=True)
class ExpectedConfusion:
    """The expected confusion matrix of one batch (sums of probabilities, not counts)."""

    tp: float
    fp: float
    fn: float
    tn: float

    @classmethod
    def of(cls, probability: np.ndarray, predicted_positive: np.ndarray) -> ExpectedConfusion:
        p = np.asarray(probability, dtype=float)
        positive = np.asarray(predicted_positive, dtype=bool)
        return cls(tp=float(p[positive].sum()), fp=float((1 - p[positive]).sum()),
                   fn=float(p[~positive].sum()), tn=float((1 - p[~positive]).sum()))

    def metrics(self) -> dict[str, float]:
        n = self.tp + self.fp + self.fn + self.tn
        return {
            "accuracy": _ratio(self.tp + self.tn, n),
            "precision": _ratio(self.tp, self.tp + self.fp, empty=0.0),
            "recall": _ratio(self.tp, self.tp + self.fn, empty=0.0),
            "f1": _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn, empty=0.0),
        }


@dataclass(frozen=True)
class Calibration:
    """How scores become probabilities: the identity, or an isotonic map fitted on the reference."""

    method: str  # "isotonic" | "none"
    reason: str
    isotonic: IsotonicRegression | None = field(default=None, repr=False)

    def __call__(self, score: np.ndarray) -> np.ndarray:
        score = np.asarray(score, dtype=float)
        return score if self.isotonic is None else self.isotonic.predict(score)


def expected_auc(score: np.ndarray, probability: np.ndarray) -> float:
    """Area under the expected ROC curve (see the module docstring); NaN when the expected
    positives or negatives are zero."""
    score, p = np.asarray(score, dtype=float), np.asarray(probability, dtype=float)
    order = np.argsort(-score, kind="mergesort")
    score, p = score[order], p[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score) != 0), len(score) - 1]
    tps, fps = np.cumsum(p)[last_of_tie], np.cumsum(1 - p)[last_of_tie]
    if len(tps) == 0 or tps[-1] <= 0 or fps[-1] <= 0:
        return float("nan")
    tpr, fpr = np.r_[0.0, tps / tps[-1]], np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def estimate_performance(score: np.ndarray, predicted_positive: np.ndarray,
                         calibration: Calibration | None = None) -> dict[str, float]:
    """`ESTIMATED` metrics of one batch from the positive-class scores and the predictions."""
    score = np.asarray(score, dtype=float)
    p = score if calibration is None else calibration(score)
    values = ExpectedConfusion.of(p, predicted_positive).metrics()
    values["auc"] = expected_auc(score, p)
    return values


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Σ_b (n_b / n) · |mean(y_b) − mean(p_b)| over `bins` quantile bins of p."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    error = 0.0
    for b in np.unique(index):
        members = index == b
        error += members.mean() * abs(y[members].mean() - p[members].mean())
    return float(error)


def fit_calibration(score: np.ndarray | None, is_positive: np.ndarray | None,
                    random_state: int = 0) -> Calibration:
    """Isotonic calibration on the reference when it lowers the held-out calibration error."""
    if score is None or is_positive is None:
        return Calibration("none", "the reference has no labels: probabilities used as given")
    score, y = np.asarray(score, dtype=float), np.asarray(is_positive, dtype=float)
    if len(y) < MIN_CALIBRATION_ROWS or y.min() == y.max():
        return Calibration("none", f"too few labelled reference rows ({len(y)}, or one class) "
                           "to calibrate: probabilities used as given")
    splits = StratifiedShuffleSplit(n_splits=CALIBRATION_SPLITS, test_size=0.2,
                                    random_state=random_state)
    raw, calibrated = [], []
    for train, test in splits.split(score.reshape(-1, 1), y):
        fitted = _isotonic().fit(score[train], y[train])
        raw.append(expected_calibration_error(y[test], score[test]))
        calibrated.append(expected_calibration_error(y[test], fitted.predict(score[test])))
    before, after = float(np.mean(raw)), float(np.mean(calibrated))
    if after >= before:
        return Calibration("none", f"calibrated on the reference already (held-out ECE "
                           f"{before:.4f}; isotonic would give {after:.4f})")
    return Calibration("isotonic", f"isotonic calibration on {len(y)} reference rows lowers the "
                       f"held-out ECE from {before:.4f} to {after:.4f}",
                       _isotonic().fit(score, y))


def cbpe_metrics(score: np.ndarray, predicted_positive: np.ndarray,
                 calibration: Calibration) -> list[MetricValue]:
    """The `estimated_*` metric values of one batch."""
    estimates = estimate_performance(score, predicted_positive, calibration)
    return [MetricValue(f"estimated_{name}", value) for name, value in estimates.items()]


@dataclass(frozen=True)
class EstimatedPerformance:
    """The `estimated_*` values of one batch and how its probabilities were calibrated."""

    values: list[MetricValue]
    details: dict[str, str]


def model_estimates(model: Any, current_pred: Any, current_proba: Any, reference: Any,
                    reference_proba: Any) -> EstimatedPerformance:
    """CBPE for a binary `model` (a LoadedModel) that gives probabilities: calibration fitted on
    the reference rows (and their labels, when the reference has the target), estimates on the
    current rows. Other models, or no probabilities: no estimate."""
    if model.type != "binary" or current_proba is None or reference_proba is None:
        return EstimatedPerformance([], {})
    score = np.asarray(current_proba, dtype=float)
    reference_score = np.asarray(reference_proba, dtype=float)
    labels = reference[model.target] if model.target in reference.columns else None
    if labels is None or not labels.notna().any():
        calibration = fit_calibration(None, None)
    else:
        known = labels.notna().to_numpy()
        calibration = fit_calibration(reference_score[known],
                                      (labels[known] == model.positive_label).to_numpy())
    predicted = np.asarray(current_pred) == model.positive_label
    return EstimatedPerformance(cbpe_metrics(score, predicted, calibration),
                                {"calibration": calibration.method, "reason": calibration.reason})


def estimate_errors(metrics: Mapping[str, float]) -> list[MetricValue]:
    """`estimated_<m>_error = estimated_<m> − <m>` for each estimate whose realized value exists."""
    errors = []
    for name in ESTIMATED:
        estimate, realized = metrics.get(f"estimated_{name}"), metrics.get(name)
        if estimate is not None and realized is not None:
            errors.append(MetricValue(f"estimated_{name}_error", estimate - realized))
    return errors


def _isotonic() -> IsotonicRegression:
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")


def _ratio(numerator: float, denominator: float, empty: float = float("nan")) -> float:
    return numerator / denominator if denominator > 0 else empty


__all__: list[str] = [
    "Calibration", "EstimatedPerformance", "ExpectedConfusion", "cbpe_metrics",
    "estimate_errors", "estimate_performance", "expected_auc", "expected_calibration_error",
    "fit_calibration", "model_estimates",
]
