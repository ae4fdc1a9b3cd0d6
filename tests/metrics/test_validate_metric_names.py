"""`scenarist.metrics.names` knows every metric an evaluation stores: the list `validate` checks
`evaluation.metrics.X` against is computed here from real evaluations of every model type and
drift method, so a metric added to metrics/ without its name fails this test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from scenarist.metrics.evaluation import EvaluationOptions, compute_evaluation
from scenarist.metrics.names import closest_metric, is_known_metric
from scenarist.project.models import model_from_estimator

FEATURES = ["amount", "count", "flag", "channel"]


def _batch(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    return pd.DataFrame({
        "amount": rng.normal(shift, 1, n), "count": rng.integers(0, 6, n).astype(float),
        "flag": rng.choice(["yes", "no"], n), "channel": rng.choice(["web", "app", "shop"], n),
    })


def _case(kind: str) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference, current = _batch(rng, 400, 0.0), _batch(rng, 400, 0.6)
    current.loc[:9, "amount"] = np.nan  # missing values, filled once the labels are made
    current.loc[10:19, "channel"] = "phone"  # unseen category
    encode = ColumnTransformer([("categories", OneHotEncoder(handle_unknown="ignore"),
                                 ["flag", "channel"])], remainder="passthrough")
    if kind == "regression":
        head, labels = LinearRegression(), reference["amount"] * 2
    else:
        head, labels = LogisticRegression(), rng.integers(0, 2 if kind == "binary" else 3, 400)
    estimator = make_pipeline(encode, head).fit(reference[FEATURES], labels)
    current = current.fillna({"amount": 0.0})
    for frame in (reference, current):
        frame["target"] = estimator.predict(frame[FEATURES])
    model = model_from_estimator(estimator, target="target", type=kind, features=FEATURES)
    return model, current, reference


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_every_stored_metric_name_is_known(kind: str):
    """Every statistic is stored whichever method judges drift (methods for both column
    kinds here: auto, psi, jensenshannon)."""
    model, current, reference = _case(kind)
    unknown = set()
    for method in ("auto", "psi", "jensenshannon"):
        evaluation = compute_evaluation(model, current, reference, options=EvaluationOptions(
            drift_method=method, features=tuple(FEATURES), n_jobs=1))
        unknown |= {value.key for value in evaluation.values if not is_known_metric(value.key)}
    assert unknown == set()


def test_names_keys_and_suggestions():
    assert is_known_metric("data_drift") and is_known_metric("auc.lower")
    assert is_known_metric("feature_drift[card_age]") and is_known_metric("psi[a[b]]")
    assert not is_known_metric("data_drfit") and not is_known_metric("auc[card_age]")
    assert is_known_metric("approval_rate[card_age]", custom={"approval_rate"})
    assert closest_metric("data_drfit") == "data_drift"
    assert closest_metric("feature_drfit[x]") == "feature_drift"
    assert closest_metric("zzz") is None
