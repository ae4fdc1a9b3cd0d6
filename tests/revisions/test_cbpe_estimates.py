"""CBPE (`scenarist.metrics.cbpe`): the expected confusion matrix against a brute-force Monte
Carlo, and the estimates against realized metrics under covariate shift."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from scenarist.metrics.cbpe import (
    ExpectedConfusion,
    estimate_errors,
    estimate_performance,
    expected_auc,
    expected_calibration_error,
    fit_calibration,
)

SHIFT = np.array([0.8, -0.5, 0.3])


def population(n: int, shift, rng) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels where P(y=1 | x) is a fixed logistic function: only x shifts."""
    x = rng.normal(size=(n, 3)) + shift
    logit = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] - 0.3
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_expected_confusion_matrix_equals_the_monte_carlo_mean():
    rng = np.random.default_rng(1)
    p = rng.beta(2, 3, size=400)
    score = p + rng.normal(0, 0.05, size=400)
    predicted = score > 0.45
    sims = rng.random((10_000, 400)) < p  # labels drawn from the probabilities
    tp = (sims & predicted).sum(1)
    fp = (~sims & predicted).sum(1)
    fn = (sims & ~predicted).sum(1)
    tn = (~sims & ~predicted).sum(1)
    expected = ExpectedConfusion.of(p, predicted)
    for value, counts in ((expected.tp, tp), (expected.fp, fp), (expected.fn, fn),
                          (expected.tn, tn)):
        assert abs(value - counts.mean()) < 4 * counts.std() / np.sqrt(len(counts))
    estimates = estimate_performance(score, predicted, None)
    # identical to the probabilities' own expectations (score is only the ranking for AUC)
    estimates.update(ExpectedConfusion.of(p, predicted).metrics())
    accuracy = (tp + tn) / 400
    assert abs(estimates["accuracy"] - accuracy.mean()) < 4 * accuracy.std() / np.sqrt(10_000)
    precision = tp / (tp + fp)  # the denominator is fixed by the predictions: exact
    assert abs(estimates["precision"] - precision.mean()) < 4 * precision.std() / np.sqrt(10_000)
    assert estimates["recall"] == pytest.approx((tp / (tp + fn)).mean(), abs=2e-3)
    assert estimates["f1"] == pytest.approx((2 * tp / (2 * tp + fp + fn)).mean(), abs=2e-3)
    aucs = [roc_auc_score(y, score) for y in sims[:2_000]]
    assert expected_auc(score, p) == pytest.approx(np.mean(aucs), abs=3e-3)


def test_expected_auc_groups_ties_like_roc_curve():
    # one tie of the score: with labels that are certain, expected AUC is the realized AUC
    score = np.array([0.9, 0.7, 0.7, 0.2, 0.1])
    labels = np.array([1, 1, 0, 0, 1])
    assert expected_auc(score, labels.astype(float)) == pytest.approx(roc_auc_score(labels, score))
    assert np.isnan(expected_auc(score, np.ones(5)))  # no expected negative


@pytest.mark.parametrize("seed", range(20))
def test_estimate_within_0_02_of_realized_under_covariate_shift(seed):
    """A calibrated model (correctly specified logistic regression), current rows shifted."""
    rng = np.random.default_rng(seed)
    x_ref, y_ref = population(5_000, 0.0, rng)
    x_cur, y_cur = population(5_000, SHIFT, rng)
    model = LogisticRegression().fit(x_ref, y_ref)
    score_ref, score_cur = model.predict_proba(x_ref)[:, 1], model.predict_proba(x_cur)[:, 1]
    predicted = model.predict(x_cur)
    assert abs(y_cur.mean() - y_ref.mean()) > 0.05  # the shift moved the positive rate
    estimates = estimate_performance(score_cur, predicted == 1,
                                     fit_calibration(score_ref, y_ref == 1, random_state=seed))
    realized = {"accuracy": accuracy_score(y_cur, predicted),
                "precision": precision_score(y_cur, predicted),
                "recall": recall_score(y_cur, predicted), "f1": f1_score(y_cur, predicted),
                "auc": roc_auc_score(y_cur, score_cur)}
    assert abs(estimates["accuracy"] - realized["accuracy"]) <= 0.02
    assert abs(estimates["auc"] - realized["auc"]) <= 0.02
    for name in ("precision", "recall", "f1"):
        assert abs(estimates[name] - realized[name]) <= 0.03


def test_an_overconfident_model_is_calibrated_on_the_reference():
    rng = np.random.default_rng(7)
    x_ref, y_ref = population(5_000, 0.0, rng)
    x_cur, y_cur = population(5_000, SHIFT, rng)
    model = LogisticRegression().fit(x_ref, y_ref)

    def overconfident(x):  # the same ranking, probabilities pushed towards 0 and 1
        return 1 / (1 + np.exp(-3 * model.decision_function(x)))

    calibration = fit_calibration(overconfident(x_ref), y_ref == 1)
    assert calibration.method == "isotonic" and "lowers the held-out ECE" in calibration.reason
    score = overconfident(x_cur)
    predicted = score >= 0.5
    realized = accuracy_score(y_cur, predicted)
    raw = estimate_performance(score, predicted, None)["accuracy"]
    calibrated = estimate_performance(score, predicted, calibration)["accuracy"]
    assert abs(raw - realized) > 0.05  # trusting the raw probabilities would be wrong
    assert abs(calibrated - realized) <= 0.02
    assert expected_calibration_error(y_cur, calibration(score)) < expected_calibration_error(
        y_cur, score)


def test_calibration_needs_labelled_reference_rows_of_both_classes():
    assert fit_calibration(None, None).method == "none"
    few = fit_calibration(np.linspace(0, 1, 50), np.arange(50) % 2 == 0)
    assert few.method == "none" and "too few" in few.reason
    one_class = fit_calibration(np.linspace(0, 1, 500), np.ones(500, dtype=bool))
    assert one_class.method == "none"


def test_estimate_errors_only_where_the_realized_value_exists():
    errors = estimate_errors({"estimated_accuracy": 0.8, "accuracy": 0.75,
                              "estimated_auc": 0.9})
    assert [(e.metric, round(e.value, 12)) for e in errors] == [("estimated_accuracy_error",
                                                                 0.05)]
