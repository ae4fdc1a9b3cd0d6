"""compute_evaluation: the whole metric set of a batch, its input checks and its options."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from scenarist.demo.data import FEATURES, TARGET, generate_quarter, train_model
from scenarist.errors import InputDataError
from scenarist.metrics.evaluation import EvaluationOptions, compute_evaluation
from scenarist.project.models import model_from_estimator


@pytest.fixture(scope="module")
def data():
    q1, q2, q4 = (generate_quarter(q, 1_200) for q in ("2017Q1", "2017Q2", "2017Q4"))
    model = model_from_estimator(train_model(q1), target=TARGET, type="binary", name="fraud")
    return model, q1, q2, q4


def _metrics(computed) -> dict[str, float]:
    return {v.key: v.value for v in computed.values}


def test_metric_set_of_a_labelled_batch(data):
    model, q1, _q2, q4 = data
    computed = compute_evaluation(model, q4, q1)
    metrics = _metrics(computed)

    proba_cur = model.estimator.predict_proba(q4[list(FEATURES)])[:, 1]
    proba_ref = model.estimator.predict_proba(q1[list(FEATURES)])[:, 1]
    assert metrics["auc"] == pytest.approx(roc_auc_score(q4[TARGET], proba_cur), rel=1e-9)
    # 1,200 reference rows > 1,000: prediction drift uses the normed Wasserstein distance
    assert computed.details["prediction_drift_method"] == "wasserstein"
    expected = stats.wasserstein_distance(proba_ref, proba_cur) / np.std(proba_ref)
    assert metrics["prediction_drift"] == pytest.approx(expected, rel=1e-9)
    # labels are 0/1: target drift is categorical (Jensen–Shannon above 1,000 rows)
    assert computed.details["target_drift_method"] == "jensenshannon"
    assert metrics["labeled_rows"] == 1_200
    assert metrics["row_count"] == 1_200
    assert metrics["drift_share"] == pytest.approx(
        np.mean([metrics[f"drifted[{f}]"] for f in FEATURES])
    )
    assert {"card_age", "card_fico_score"} <= set(computed.details["drifted_features"])
    assert metrics["data_drift"] > 0.3


def test_unlabelled_batch_skips_performance_unless_required(data):
    model, q1, q2, _q4 = data
    unlabelled = q2.drop(columns=[TARGET])
    metrics = _metrics(compute_evaluation(model, unlabelled, q1))
    assert "auc" not in metrics and "target_drift" not in metrics
    assert "data_drift" in metrics

    with pytest.raises(InputDataError, match="labels missing: the current batch has no target "
                                             "column 'authorized_flag'"):
        compute_evaluation(model, unlabelled, q1, options=EvaluationOptions(performance="required"))
    all_missing = q2.assign(**{TARGET: np.nan})
    required = EvaluationOptions(performance="required")
    with pytest.raises(InputDataError, match="present but every value is missing"):
        compute_evaluation(model, all_missing, q1, options=required)


def test_monitored_subset(data):
    model, q1, q2, _q4 = data
    computed = compute_evaluation(
        model, q2, q1, options=EvaluationOptions(features=("card_age", "merchant_state"))
    )
    assert computed.details["features"] == ["card_age", "merchant_state"]
    assert {v.feature for v in computed.values if v.feature} == {"card_age", "merchant_state"}
    with pytest.raises(InputDataError, match="'shoe_size' are not features of model 'fraud'"):
        compute_evaluation(model, q2, q1, options=EvaluationOptions(features=("shoe_size",)))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda cur, ref: (cur.iloc[:0], ref), "the current batch is empty"),
        (lambda cur, ref: (cur, ref.iloc[:1]), "the reference has 1 row"),
        (lambda cur, ref: (cur.drop(columns=["card_type"]), ref),
         "the current batch lacks model feature.*'card_type'"),
        (lambda cur, ref: (cur.assign(days_active=np.nan), ref),
         "column 'days_active' of the current batch holds no values"),
        (lambda cur, ref: (cur.assign(card_fico_score=["n/a"] + [700.0] * (len(cur) - 1)), ref),
         "column 'card_fico_score' is numeric in the reference but row 0 .* holds 'n/a'"),
    ],
    ids=["empty", "one-row-reference", "missing-feature", "all-nan", "strings-in-numeric"],
)
def test_bad_input_is_named(data, mutate, message):
    model, q1, q2, _q4 = data
    current, reference = mutate(q2.copy(), q1.copy())
    with pytest.raises(InputDataError, match=message):
        compute_evaluation(model, current, reference)


def test_numbers_as_text_are_accepted(data):
    model, q1, q2, _q4 = data
    as_text = q2.assign(card_age=q2["card_age"].astype(str))
    a = _metrics(compute_evaluation(model, as_text, q1))
    b = _metrics(compute_evaluation(model, q2, q1))
    assert a["ks_statistic[card_age]"] == b["ks_statistic[card_age]"]
    assert a["drift_share"] == b["drift_share"] and a["auc"] == b["auc"]
