import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score

from scenarist.errors import InputDataError
from scenarist.metrics.data_drift import (
    DataDrift,
    domain_classifier_drift,
    fit_domain_classifier,
)

KINDS = {"amount": "numeric", "age": "numeric", "fico": "numeric", "city": "categorical"}


def _frame(n, seed, *, age_shift=0.0, fico_missing=0.05):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "age": rng.normal(40 + age_shift, 10, n),
            "fico": rng.normal(700, 50, n),
            "city": rng.choice(["paris", "lyon", "nice", None], n),
        }
    )
    frame.loc[rng.random(n) < fico_missing, "fico"] = np.nan
    return frame


@pytest.fixture(scope="module")
def same():
    return _frame(1500, 1), _frame(1500, 2)


@pytest.fixture(scope="module")
def shifted():
    return _frame(1500, 1), _frame(1500, 2, age_shift=60)


def test_numbers_match_sklearn_and_scipy(shifted):
    reference, current = shifted[0], _frame(1500, 2, age_shift=8)  # partly separable
    result = domain_classifier_drift(reference, current, kinds=KINDS, random_state=3)
    fit = fit_domain_classifier(reference, current, kinds=KINDS, random_state=3)

    accuracy = accuracy_score(fit.y_test, fit.model.predict(fit.x_test))
    assert result.drift_model_accuracy == pytest.approx(accuracy, abs=1e-12)
    assert 0.55 < accuracy < 0.95
    assert result.n_test == len(fit.y_test) == 900  # 30% of 2 x 1500, stratified
    assert (fit.y_test == 1).sum() == 450

    correct = round(accuracy * result.n_test)
    test = binomtest(correct, result.n_test, 0.5, alternative="greater")
    assert result.drift_model_pvalue == pytest.approx(test.pvalue, abs=1e-9)
    ci = binomtest(correct, result.n_test).proportion_ci(0.95, method="wilson")
    assert (result.accuracy_ci_low, result.accuracy_ci_high) == pytest.approx((ci.low, ci.high))
    assert result.accuracy_ci_low < accuracy < result.accuracy_ci_high
    assert result.data_drift == pytest.approx(max(0.0, 2 * (accuracy - 0.5)), abs=1e-12)


def test_metric_values():
    result = DataDrift(
        drift_model_accuracy=0.6,
        drift_model_pvalue=0.01,
        accuracy_ci_low=0.45,
        accuracy_ci_high=0.7,
        data_drift=0.2,
        n_reference=10,
        n_current=10,
        n_test=6,
        feature_importance={"age": 0.75, "city": 0.25},
    )
    got = {m.key: m.value for m in result.metric_values()}
    assert got == pytest.approx(
        {
            "data_drift": 0.2,
            "data_drift.lower": 0.0,  # accuracy below 0.5 maps to no drift
            "data_drift.upper": 0.4,
            "drift_model_accuracy": 0.6,
            "drift_model_accuracy.lower": 0.45,
            "drift_model_accuracy.upper": 0.7,
            "drift_model_pvalue": 0.01,
            "drift_model_importance[age]": 0.75,
            "drift_model_importance[city]": 0.25,
        }
    )


def test_same_distribution_is_not_drift(same):
    result = domain_classifier_drift(*same, kinds=KINDS)
    assert result.data_drift < 0.1
    assert result.accuracy_ci_low <= 0.5 <= result.accuracy_ci_high
    assert result.drift_model_pvalue > 0.05


def test_shifted_column_is_drift_and_most_important(shifted):
    result = domain_classifier_drift(*shifted, kinds=KINDS)
    assert result.data_drift > 0.9
    assert result.drift_model_pvalue < 1e-100
    assert max(result.feature_importance, key=result.feature_importance.get) == "age"
    assert set(result.feature_importance) == set(KINDS)
    assert sum(result.feature_importance.values()) == pytest.approx(1.0)


def test_new_categories_and_new_missing_values_are_seen():
    reference = _frame(1500, 1)
    current = _frame(1500, 2, fico_missing=0.6)
    result = domain_classifier_drift(reference, current, kinds=KINDS)
    assert 0.3 < result.data_drift < 0.8  # ~55% of current rows gained a missing fico
    assert max(result.feature_importance, key=result.feature_importance.get) == "fico"

    current = _frame(1500, 2)
    current["city"] = current["city"].replace({"nice": "lille"})
    result = domain_classifier_drift(reference, current, kinds=KINDS)
    assert result.data_drift > 0.2
    assert max(result.feature_importance, key=result.feature_importance.get) == "city"


def test_infinite_huge_and_all_missing_numbers_are_encoded():
    reference, current = _frame(300, 1), _frame(300, 2)
    current.loc[:19, "amount"] = np.inf
    current.loc[20:39, "amount"] = -1e300  # beyond float32
    reference["fico"] = np.nan
    result = domain_classifier_drift(reference, current, kinds=KINDS)
    assert result.data_drift > 0.8
    assert max(result.feature_importance, key=result.feature_importance.get) == "fico"
    assert np.isfinite(list(result.feature_importance.values())).all()


def test_deterministic_for_a_seed(shifted):
    reference, current = shifted[0], _frame(1500, 2, age_shift=8)
    first = domain_classifier_drift(reference, current, kinds=KINDS, random_state=5)
    again = domain_classifier_drift(reference, current, kinds=KINDS, random_state=5)
    assert first == again


def test_rows_are_capped_and_balanced():
    reference, current = _frame(3000, 1), _frame(600, 2)
    result = domain_classifier_drift(reference, current, kinds=KINDS, max_rows_per_side=200)
    assert (result.n_reference, result.n_current, result.n_test) == (200, 200, 120)
    result = domain_classifier_drift(reference, current, kinds=KINDS, max_rows_per_side=10**6)
    assert (result.n_reference, result.n_current) == (600, 600)


def test_bad_inputs_are_explained():
    reference = _frame(100, 1)
    needed = "needs at least 20 rows on each side; the {} data has {}"
    with pytest.raises(InputDataError, match=needed.format("current", 19)):
        domain_classifier_drift(reference, _frame(19, 2), kinds=KINDS)
    with pytest.raises(InputDataError, match=needed.format("reference", 0)):
        domain_classifier_drift(reference.iloc[:0], reference, kinds=KINDS)
    with pytest.raises(InputDataError, match=r"current data lacks column\(s\) \['age'\]"):
        domain_classifier_drift(reference, reference.drop(columns="age"), kinds=KINDS)
    with pytest.raises(InputDataError, match="column 'city' of the reference data is declared"):
        domain_classifier_drift(reference, reference, kinds={"city": "numeric"})
