"""Feature and target drift of a deployment, and evaluate() into an evaluation store."""

from __future__ import annotations

import pandas as pd
import pytest
from deployment_helpers import DAY, T0, TARGET, log_rows

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError, NotFoundError
from scenarist.stores.evaluation_store import EvaluationStore


def test_feature_and_target_drift(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    log_rows(dep, fraud_model, quarters["2017Q4"].iloc[:500], step_s=30)
    table = dep.get_feature_drift(*DAY)
    assert list(table.columns) == ["kind", "method", "score", "threshold", "drifted", "psi",
                                   "importance"]
    assert table.loc["card_age", "drifted"] and table.loc["card_fico_score", "drifted"]
    assert table.loc["card_age", "psi"] > 0.2 and table.loc["purchase_amount", "psi"] < 0.1
    assert dep.refresh().drift_health in ("at_risk", "failing")
    target = dep.get_target_drift(*DAY)
    assert target.rows == 500 and target.method in ("ks", "wasserstein") and target.psi > 0
    dep.update_drift_tracking_settings(feature_drift=False, target_drift=False)
    with pytest.raises(ConfigError, match="feature drift tracking is off"):
        dep.get_feature_drift(*DAY)
    with pytest.raises(ConfigError, match="target drift tracking is off"):
        dep.get_target_drift(*DAY)


def test_drift_needs_a_reference(store_url, data_dir, small_binary):
    model, frame = small_binary
    dep = Deployment.create(model, "no reference", url=store_url, data_dir=data_dir)
    log_rows(dep, model, frame.iloc[:50])
    with pytest.raises(NotFoundError, match="no reference data.*reference="):
        dep.get_feature_drift(*DAY)
    assert dep.refresh().model.feature_types == {"x1": "number", "x2": "number"}


def test_evaluate_builds_an_evaluation_from_logged_predictions(fraud_deployment, fraud_model,
                                                               quarters, store_url):
    dep = fraud_deployment
    frame = quarters["2017Q4"].iloc[:300].reset_index(drop=True)
    batch = dep.create_batch("q4-sample")
    _, ids, _pred, _proba = log_rows(dep, fraud_model, frame, batch_id=batch.id)
    dep.update_alert_delay_settings(labels_ratio=0.9)
    dep.log_labels(ids[:100], frame[TARGET].iloc[:100])  # 33% labelled, delay not passed…
    early = dep.evaluate("dep_MES", start=DAY[0], end=DAY[1], label="early")
    assert early.row_count == 300 and early.metric("data_drift") > 0.2
    # …but the samples are from 2024: the 3-day delay has long passed, so labels are used
    assert early.details["deployment"]["labels_ready"] is True
    assert early.metric("labeled_rows") == 100 and early.metric("auc") > 0

    dep.update_alert_delay_settings(delay_seconds=10 ** 9)  # labels not ready: no performance
    waiting = dep.evaluate("dep_MES", batch="q4-sample")
    assert waiting.label == "q4-sample" and waiting.time_start == T0.to_pydatetime()
    assert waiting.details["deployment"]["labels_ready"] is False
    assert "auc" not in waiting.metrics and waiting.metric("drift_share") > 0
    store = EvaluationStore.open("dep_MES", store_url)
    assert store.labels() == ["early", "q4-sample"]
    with pytest.raises(NotFoundError, match="no logged feature data"):
        dep.evaluate("dep_MES", start="2024-06-01T00:00Z", end="2024-06-02T00:00Z")
    assert pd.Timestamp(waiting.time_end) == T0 + pd.Timedelta(hours=5)


def test_window_drift_over_daily_deployment_evaluations(fraud_deployment, fraud_model,
                                                        quarters, store_url):
    """Each evaluate() keeps profiles, so drift over several daily windows of a deployment is
    merged from them, and equals the exact statistic on the days' logged rows together."""
    import numpy as np

    from scenarist.metrics.drift_stats import numeric_stats

    dep = fraud_deployment
    days = [quarters["2017Q2"].iloc[:300], quarters["2017Q4"].iloc[:300]]
    for i, frame in enumerate(days):
        log_rows(dep, fraud_model, frame, start=T0 + pd.Timedelta(days=i), step_s=60,
                 prefix=f"d{i}-")
        start = T0 + pd.Timedelta(days=i)
        dep.evaluate("daily_MES", start=start, end=start + pd.Timedelta(days=1), label=f"day{i}")
    store = EvaluationStore.open("daily_MES", store_url)
    window = store.window_drift(last=2)
    assert window.labels == ("day0", "day1") and window.row_count == 600
    reference = quarters["2017Q1"]
    both = pd.concat(days)
    checked = 0
    for d in window.features:
        if d.kind == "numeric":
            exact = numeric_stats(np.sort(reference[d.feature].to_numpy(float)),
                                  np.sort(both[d.feature].to_numpy(float)))
            assert d.stats["psi"] == pytest.approx(exact["psi"], rel=1e-9)
            checked += 1
    assert checked >= 3
