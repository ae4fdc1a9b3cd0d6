"""Profiles kept by the evaluation store (SQLite and PostgreSQL) and drift over stored windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from scenarist.demo.data import TARGET, generate_quarter, train_model
from scenarist.errors import InputDataError, NotFoundError, StoreError
from scenarist.metrics.drift_stats import numeric_stats
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.project.models import model_from_estimator
from scenarist.stores.evaluation_store import EvaluationStore
from scenarist.stores.profiles import profiles


@pytest.fixture(scope="module")
def quarters() -> dict[str, pd.DataFrame]:
    return {q: generate_quarter(q, 600) for q in ("2017Q1", "2017Q2", "2017Q3", "2017Q4")}


@pytest.fixture(scope="module")
def model(quarters):
    return model_from_estimator(
        train_model(quarters["2017Q1"]), target=TARGET, type="binary", name="fraud_model"
    )


def _rows(store: EvaluationStore) -> int:
    with store._engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(profiles)
                            .where(profiles.c.store_id == store._id)).scalar_one()


def test_window_drift_over_stored_evaluations_matches_the_raw_data(store_url, model, quarters):
    store = EvaluationStore.open("mes-profiles", store_url)
    reference = quarters["2017Q1"]
    for label in ("2017Q2", "2017Q3", "2017Q4"):
        store.evaluate(model, quarters[label], reference, label=label)
    assert _rows(store) == 4  # three evaluations and the reference, kept once

    last = store.window_drift(last=1)
    assert last.labels == ("2017Q4",) and last.row_count == 600
    q4 = store.get("2017Q4")
    for d in last.features:  # one evaluation: PSI and JS are the stored exact ones
        assert d.stats["psi"] == pytest.approx(q4.metric("psi", d.feature), rel=1e-12)
        assert d.stats["js_distance"] == pytest.approx(q4.metric("js_distance", d.feature),
                                                       rel=1e-12)

    window = store.window_drift(last=2)
    assert window.labels == ("2017Q3", "2017Q4") and window.reference_row_count == 600
    both = pd.concat([quarters["2017Q3"], quarters["2017Q4"]])
    for d in window.features:
        if d.kind != "numeric":
            continue
        exact = numeric_stats(np.sort(reference[d.feature].to_numpy(float)),
                              np.sort(both[d.feature].to_numpy(float)))
        assert d.stats["psi"] == pytest.approx(exact["psi"], rel=1e-12)
        assert d.stats["ks_statistic"] <= exact["ks_statistic"] + 1e-12
        assert exact["ks_statistic"] <= d.stats["ks_statistic"] + d.stats["ks_statistic_error"]
    drifted = {d.feature for d in store.window_drift(labels=["2017Q4"]).features if d.drifted}
    assert {"card_age", "card_fico_score"} <= drifted
    sketched = store.window_drift(sketches=True)
    assert all("ks_statistic_sketch" in d.stats for d in sketched.features if d.kind == "numeric")
    assert store.profile().rows == 600 and store.profile("2017Q2").rows == 600


def test_profiles_follow_their_evaluations(store_url, model, quarters):
    store = EvaluationStore.open("mes-profile-life", store_url)
    reference = quarters["2017Q1"]
    store.evaluate(model, quarters["2017Q2"], reference, label="a")
    store.evaluate(model, quarters["2017Q4"], reference, label="a")  # replaces a
    assert _rows(store) == 2
    assert store.window_drift().drift_share > 0
    store.delete("a")
    assert _rows(store) == 1  # the reference profile stays
    with pytest.raises(NotFoundError, match="no evaluations yet"):
        store.window_drift()


def test_window_drift_explains_what_is_missing(store_url, model, quarters):
    store = EvaluationStore.open("mes-profile-missing", store_url)
    with pytest.raises(NotFoundError, match="no evaluations yet"):
        store.window_drift(last=30)
    store.record("bare", ComputedEvaluation(values=[], row_count=1, reference_row_count=1),
                 model="m")
    with pytest.raises(NotFoundError, match="no reference profile yet"):
        store.window_drift()
    store.evaluate(model, quarters["2017Q2"], quarters["2017Q1"], label="full")
    with pytest.raises(NotFoundError, match="bare have no profile"):
        store.window_drift(last=2)
    assert store.window_drift(last=1).labels == ("full",)
    with pytest.raises(StoreError, match="at least 1"):
        store.window_drift(last=0)


def test_a_new_reference_is_not_mixed_with_profiles_of_the_old_one(store_url, model, quarters):
    store = EvaluationStore.open("mes-profile-reference", store_url)
    store.evaluate(model, quarters["2017Q2"], quarters["2017Q1"], label="old")
    store.evaluate(model, quarters["2017Q4"], quarters["2017Q3"], label="new")  # retrained
    assert store.window_drift(last=1).labels == ("new",)
    with pytest.raises(InputDataError, match="old were profiled against another reference"):
        store.window_drift(last=2)
