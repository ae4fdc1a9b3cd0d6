import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from scenarist.errors import InputDataError
from scenarist.metrics.performance import performance_metrics


def _by_name(metrics):
    assert all(m.feature is None for m in metrics)
    return {m.metric: m.value for m in metrics}


@pytest.fixture
def binary():
    rng = np.random.default_rng(3)
    n = 500
    y = rng.integers(0, 2, n)
    proba = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 1e-6, 1 - 1e-6)
    pred = (proba > 0.5).astype(int)
    return y, pred, proba


def test_binary_matches_sklearn(binary):
    y, pred, proba = binary
    got = _by_name(performance_metrics(y, pred, proba, model_type="binary"))
    assert list(got) == ["accuracy", "precision", "recall", "f1", "auc", "logloss"]
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "auc": skm.roc_auc_score(y, proba),
        "logloss": skm.log_loss(y, proba),
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-9), name
    assert 0.5 < got["auc"] < 1


def test_binary_string_labels_and_2d_proba(binary):
    y, pred, proba = binary
    names = np.array(["no", "yes"])
    both = np.column_stack([1 - proba, proba])
    got = _by_name(
        performance_metrics(
            names[y],
            names[pred],
            both,
            model_type="binary",
            classes=["no", "yes"],
            positive_label="yes",
        )
    )
    assert got["precision"] == pytest.approx(
        skm.precision_score(names[y], names[pred], pos_label="yes"), abs=1e-9
    )
    assert got["auc"] == pytest.approx(skm.roc_auc_score(y, proba), abs=1e-9)
    assert got["logloss"] == pytest.approx(skm.log_loss(y, proba), abs=1e-9)


def test_binary_without_proba_omits_auc_and_logloss(binary):
    y, pred, _ = binary
    got = _by_name(performance_metrics(y, pred, model_type="binary"))
    assert list(got) == ["accuracy", "precision", "recall", "f1"]


def test_binary_single_class_gives_nan_auc():
    y = np.ones(20, dtype=int)
    pred = np.array([1, 0] * 10)
    proba = np.linspace(0.1, 0.9, 20)
    got = _by_name(performance_metrics(y, pred, proba, model_type="binary"))
    assert math.isnan(got["auc"])
    assert got["accuracy"] == 0.5
    assert got["recall"] == 0.5
    assert got["logloss"] == pytest.approx(skm.log_loss(y, proba, labels=[0, 1]), abs=1e-9)


def test_missing_labels_are_excluded(binary):
    y, pred, proba = binary
    y_missing = pd.Series(y, dtype="float64")
    y_missing[::4] = np.nan
    keep = y_missing.notna().to_numpy()
    got = _by_name(performance_metrics(y_missing, pred, proba, model_type="binary"))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y[keep], pred[keep]), abs=1e-9)
    assert got["auc"] == pytest.approx(skm.roc_auc_score(y[keep], proba[keep]), abs=1e-9)
    assert got["logloss"] == pytest.approx(skm.log_loss(y[keep], proba[keep]), abs=1e-9)


def test_no_label_at_all_names_the_column():
    with pytest.raises(InputDataError, match=r"labels missing: .* column 'authorized_flag'"):
        performance_metrics(
            [None, np.nan, pd.NA], [1, 0, 1], model_type="binary", label_name="authorized_flag"
        )
    with pytest.raises(InputDataError, match="labels missing: .* the label column"):
        performance_metrics([], [], model_type="regression")


def test_length_mismatch_and_missing_prediction():
    with pytest.raises(InputDataError, match=r"differ in length \(3, 2, -\)"):
        performance_metrics([1, 0, 1], [1, 0], model_type="binary")
    with pytest.raises(InputDataError, match="1 labelled row"):
        performance_metrics([1, 0, 1], [1, None, 1], model_type="binary")


def test_multiclass_matches_sklearn():
    rng = np.random.default_rng(5)
    classes = ["a", "b", "c"]
    n = 400
    idx = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), idx] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(classes)[idx].astype(object)
    pred = np.array(classes)[proba.argmax(axis=1)]
    y[:10] = None
    got = _by_name(performance_metrics(y, pred, proba, model_type="multiclass", classes=classes))
    assert list(got) == ["accuracy", "f1_macro", "logloss"]
    yk, pk, prk = y[10:].astype(str), pred[10:], proba[10:]
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(yk, pk), abs=1e-9)
    assert got["f1_macro"] == pytest.approx(skm.f1_score(yk, pk, average="macro"), abs=1e-9)
    assert got["logloss"] == pytest.approx(skm.log_loss(yk, prk, labels=classes), abs=1e-9)


def test_multiclass_proba_needs_classes():
    with pytest.raises(InputDataError, match="n_rows x n_classes"):
        performance_metrics(
            ["a", "b"], ["a", "a"], [[0.6, 0.4], [0.5, 0.5]], model_type="multiclass"
        )
    with pytest.raises(InputDataError, match=r"labels \['z'\] are not in"):
        performance_metrics(
            ["a", "z"],
            ["a", "a"],
            [[0.6, 0.4], [0.5, 0.5]],
            model_type="multiclass",
            classes=["a", "b"],
        )


def test_regression_matches_sklearn():
    rng = np.random.default_rng(11)
    y = rng.uniform(1, 100, 300)
    pred = y + rng.normal(0, 5, 300)
    y_missing = y.copy()
    y_missing[-30:] = np.nan
    got = _by_name(performance_metrics(y_missing, pred, model_type="regression"))
    assert list(got) == ["rmse", "mae", "r2", "mape"]
    yk, pk = y[:-30], pred[:-30]
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(yk, pk)), abs=1e-9)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(yk, pk), abs=1e-9)
    assert got["r2"] == pytest.approx(skm.r2_score(yk, pk), abs=1e-9)
    assert got["mape"] == pytest.approx(skm.mean_absolute_percentage_error(yk, pk), abs=1e-9)


def test_regression_single_row_has_nan_r2():
    got = _by_name(performance_metrics([2.0], [2.5], model_type="regression"))
    assert math.isnan(got["r2"])
    assert got["rmse"] == pytest.approx(0.5)


def test_unknown_model_type():
    with pytest.raises(ValueError, match="unknown model_type 'ranking'"):
        performance_metrics([1], [1], model_type="ranking")
