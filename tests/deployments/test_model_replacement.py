"""Model replacement: validation outcomes, refusal of failing models, history, scoping."""

from __future__ import annotations

import pandas as pd
import pytest
from deployment_helpers import DAY, T0, log_rows
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import MODEL_REPLACEMENT_REASON, ReplacementStatus
from scenarist.errors import ConfigError
from scenarist.project.models import model_from_estimator


def _model(frame: pd.DataFrame, features: list[str], target: str = "authorized_flag",
           type: str = "binary", name: str = "challenger"):
    numeric = frame[features].select_dtypes("number").columns.tolist()
    estimator = LogisticRegression(max_iter=500).fit(frame[numeric], frame[target])
    return model_from_estimator(estimator, target=target, type=type, name=name)


def test_validation_outcomes(fraud_deployment, quarters):
    dep = fraud_deployment
    q1 = quarters["2017Q1"]
    numeric = [f for f in dep.model.features if pd.api.types.is_numeric_dtype(q1[f])]
    status, message, checks = dep.validate_replacement_model(_model(q1, numeric))
    by_name = {c.name: c for c in checks}
    assert status == ReplacementStatus.FAILING and "lacks feature(s)" in message
    assert by_name["features"].status == ReplacementStatus.FAILING
    assert by_name["target_name"].status == ReplacementStatus.PASSING
    assert set(by_name) == {"target_name", "target_type", "features", "classes",
                            "positive_label"}

    same = dep.model.features
    frame = q1.assign(extra=1.0)
    extra = _with_features(frame, [*same, "extra"])
    status, message, checks = dep.validate_replacement_model(extra)
    assert status == ReplacementStatus.WARNING and "extra feature(s) ['extra']" in message

    assert dep.validate_replacement_model(_with_features(q1, list(same)))[0] == \
        ReplacementStatus.PASSING
    regression = _with_features(q1.assign(amount=q1["purchase_amount"]), list(same),
                                target="amount", type="regression")
    status, message, _ = dep.validate_replacement_model(regression)
    assert status == ReplacementStatus.FAILING
    assert "target differs" in message and "prediction type differs" in message


def _with_features(frame, features, target="authorized_flag", type="binary"):
    """A stand-in estimator with the given declared features (prediction not needed)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    est = (DummyRegressor() if type == "regression" else DummyClassifier(strategy="prior"))
    est.fit(frame[features], frame[target])
    return model_from_estimator(est, target=target, type=type, name="challenger")


def test_replace_refuses_failing_records_history_and_scopes(fraud_deployment, fraud_model,
                                                            quarters):
    dep = fraud_deployment
    dep.update_drift_tracking_settings(target_drift=False)
    q1, q2 = quarters["2017Q1"], quarters["2017Q2"]
    log_rows(dep, fraud_model, q2.iloc[:30], prefix="old")
    numeric = [f for f in dep.model.features if pd.api.types.is_numeric_dtype(q1[f])]
    with pytest.raises(ConfigError, match="cannot replace.*lacks feature"):
        dep.replace_model(_model(q1, numeric), MODEL_REPLACEMENT_REASON.ACCURACY)
    with pytest.raises(ConfigError, match="unknown replacement reason 'BORED'"):
        dep.replace_model(fraud_model, "BORED")
    assert dep.model_version == 1

    version = dep.replace_model(fraud_model, MODEL_REPLACEMENT_REASON.DATA_DRIFT)
    assert version == 2 and dep.model_version == 2
    assert dep.get_drift_tracking_settings().target_drift is False  # settings unchanged
    log_rows(dep, fraud_model, q2.iloc[30:50], prefix="new", start=T0 + pd.Timedelta(hours=1))
    history = dep.get_model_history()
    assert list(history.index) == [1, 2]
    assert history.loc[1, "ended_at"] == history.loc[2, "started_at"]
    assert history.loc[2, "reason"] == "DATA_DRIFT" and pd.isna(history.loc[2, "ended_at"])
    assert dep.get_service_stats(*DAY).total_predictions == 50
    assert dep.get_service_stats(*DAY, model_version=1).total_predictions == 30
    assert dep.get_service_stats(*DAY, model_version=2).total_predictions == 20
    assert dep.files.read_reference(2) is not None  # outputs recomputed for the new model
    drift = dep.get_feature_drift(*DAY, model_version=2)
    assert drift.shape[0] == len(fraud_model.features)
