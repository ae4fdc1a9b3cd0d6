"""Late labels: accuracy from rollups equals scikit-learn on the rows; corrections; delay rule."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from deployment_helpers import DAY, T0, TARGET, log_rows, stored
from sklearn import metrics as skm

from scenarist.deployments import Deployment
from scenarist.errors import InputDataError


def test_late_labels_change_accuracy_as_sklearn_says(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    frame = quarters["2017Q4"].iloc[:400].reset_index(drop=True)
    _, ids, pred, proba = log_rows(dep, fraud_model, frame)
    assert np.isnan(dep.get_accuracy(*DAY).metrics["accuracy"])  # no label yet

    truth = frame[TARGET].to_numpy()
    result = dep.log_labels(ids[:250], truth[:250])
    assert (result.stored, result.corrected, result.unknown) == (250, 0, [])
    first = dep.get_accuracy(*DAY)
    assert first.labelled == 250 and first.predictions == 400
    _same_as_sklearn(first.metrics, truth[:250], pred[:250], proba[:250])

    more = dep.log_labels(ids[250:] + ["never-logged"], list(truth[250:]) + [1])
    assert more.unknown == ["never-logged"] and more.stored == 150
    second = dep.get_accuracy(*DAY)
    _same_as_sklearn(second.metrics, truth, pred, proba)
    assert second.metrics["accuracy"] != first.metrics["accuracy"]

    flipped = 1 - truth[:40]  # corrections: labels logged again replace the earlier ones
    corrected = dep.log_labels(ids[:40], flipped)
    assert corrected.corrected == 40
    truth_now = np.concatenate([flipped, truth[40:]])
    third = dep.get_accuracy(*DAY)
    _same_as_sklearn(third.metrics, truth_now, pred, proba)
    assert stored(dep)["scenarist_deployment_outcomes"] > 0

    hourly = dep.get_accuracy_over_time("accuracy", "PT1H", *DAY)
    minutes = np.arange(400)
    for hour, value in enumerate(hourly.iloc[:7]):
        rows = (minutes // 60) == hour
        assert value == pytest.approx(skm.accuracy_score(truth_now[rows], pred[rows]))
    assert hourly.iloc[7:].isna().all()
    frame_all = dep.get_accuracy_over_time_frame(None, "PT6H", *DAY)
    assert list(frame_all.columns) == ["accuracy", "precision", "recall", "f1", "auc", "logloss",
                                       "labelled"]
    assert frame_all["labelled"].sum() == 400


def _same_as_sklearn(metrics, truth, pred, proba):
    assert metrics["accuracy"] == pytest.approx(skm.accuracy_score(truth, pred))
    assert metrics["precision"] == pytest.approx(skm.precision_score(truth, pred))
    assert metrics["recall"] == pytest.approx(skm.recall_score(truth, pred))
    assert metrics["f1"] == pytest.approx(skm.f1_score(truth, pred))
    assert metrics["logloss"] == pytest.approx(skm.log_loss(truth, proba, labels=[0, 1]))
    assert metrics["auc"] == pytest.approx(skm.roc_auc_score(truth, proba), abs=2e-3)


def test_regression_accuracy_is_exact(store_url, data_dir, regression_model):
    model, reference = regression_model
    dep = Deployment.create(model, "reg", reference=reference, url=store_url, data_dir=data_dir)
    frame = reference.iloc[:120].reset_index(drop=True)
    _, ids, pred, proba = log_rows(dep, model, frame, step_s=120)
    assert proba is None
    truth = frame["y"].to_numpy() + 0.3
    dep.log_labels(ids, truth)
    metrics = dep.get_accuracy(*DAY).metrics
    assert metrics["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(truth, pred)))
    assert metrics["mae"] == pytest.approx(skm.mean_absolute_error(truth, pred))
    assert metrics["r2"] == pytest.approx(skm.r2_score(truth, pred))
    assert metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(truth, pred))
    with pytest.raises(InputDataError, match="missing or infinite label"):
        dep.log_labels(ids[:2], [1.0, np.nan])


def test_labels_by_association_id_and_rejections(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    dep.update_association_id_settings(column_names=["transaction_id"])
    frame = quarters["2017Q2"].iloc[:30].reset_index(drop=True)
    pred, proba = fraud_model.predict(frame)
    data = frame[[*fraud_model.features, "transaction_id"]]
    ids = [f"s{i}" for i in range(30)]
    dep.log_batch(ids, T0.timestamp() + np.arange(30) * 60.0, data, pred, proba)
    result = dep.log_labels(list(frame["transaction_id"].iloc[:10]), frame[TARGET].iloc[:10])
    assert result.stored == 10 and result.unknown == []
    assert dep.get_accuracy(*DAY).labelled == 10
    before = stored(dep)
    with pytest.raises(InputDataError, match=r"\['s1'\] have a label that is not a class"):
        dep.log_labels(ids[:3], [1, 5, 0])
    with pytest.raises(InputDataError, match="repeats ids"):
        dep.log_labels(["s1", "s1"], [1, 0])
    with pytest.raises(InputDataError, match="2 ids but labels of shape"):
        dep.log_labels(["s1", "s2"], [1])
    assert stored(dep) == before


def test_alert_delay_rule(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    dep.update_alert_delay_settings(delay_seconds=3600, labels_ratio=0.5)
    frame = quarters["2017Q2"].iloc[:100].reset_index(drop=True)
    _, ids, _pred, _proba = log_rows(dep, fraud_model, frame)  # samples until T0 + 99 min
    latest = T0 + pd.Timedelta(minutes=99)
    soon = (latest + timedelta(minutes=30)).to_pydatetime()
    later = (latest + timedelta(minutes=61)).to_pydatetime()

    waiting = dep.get_label_readiness(*DAY, now=soon)
    assert not waiting.ready and "waiting" in waiting.reason
    assert waiting.ready_at == (latest + timedelta(hours=1)).to_pydatetime()
    assert dep.get_label_readiness(*DAY, now=later).ready  # the delay has passed

    dep.log_labels(ids[:49], frame[TARGET].iloc[:49])
    assert not dep.get_label_readiness(*DAY, now=soon).ready  # 49% < 50%
    dep.log_labels(ids[49:50], frame[TARGET].iloc[49:50])
    ready = dep.get_label_readiness(*DAY, now=soon)
    assert ready.ready and ready.labelled_ratio == 0.5  # the ratio is reached before the delay
    accuracy = dep.get_accuracy(*DAY, now=soon)
    assert accuracy.readiness.ready and dep.refresh().accuracy_health != "unknown"
