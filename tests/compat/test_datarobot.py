"""scenarist.compat.datarobot: a DataRobot-style monitoring script runs unchanged but for the
import, in process and over HTTP against `scenarist serve`, with the native API's numbers."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from compat_helpers import DAY, log_day, small_model, training_frame

import scenarist.compat.datarobot as dr
from scenarist.compat.backends import NotSupported
from scenarist.deployments import Deployment
from scenarist.errors import NotFoundError


def datarobot_notebook(dr, deployment_id: str) -> dict:
    """Written against the `datarobot` client's documented API (Deployment monitoring)."""
    start_time = datetime(2024, 5, 1)  # naive, UTC: top of the hour, as DataRobot requires
    end_time = datetime(2024, 5, 2)
    six_hours = dr.construct_duration_string(hours=6)

    deployment = dr.Deployment.get(deployment_id=deployment_id)
    service_stats = deployment.get_service_stats(start_time=start_time, end_time=end_time)
    p90 = dr.ServiceStats.get(deployment.id, start_time=start_time, end_time=end_time,
                              execution_time_quantile=0.9)
    of_this_model = dr.ServiceStats.get(deployment.id, model_id=deployment.model["id"],
                                        start_time=start_time, end_time=end_time)
    predictions_over_time = deployment.get_service_stats_over_time(
        metric=dr.SERVICE_STAT_METRIC.TOTAL_PREDICTIONS, start_time=start_time,
        end_time=end_time, bucket_size=six_hours)
    error_rate_over_time = dr.ServiceStatsOverTime.get(
        deployment.id, metric=dr.SERVICE_STAT_METRIC.SERVER_ERROR_RATE,
        start_time=start_time, end_time=end_time, bucket_size=six_hours)
    target_drift = deployment.get_target_drift(start_time=start_time, end_time=end_time)
    feature_drift = dr.FeatureDrift.list(deployment.id, start_time=start_time,
                                         end_time=end_time)
    accuracy = deployment.get_accuracy(start_time=start_time, end_time=end_time)
    auc_over_time = deployment.get_accuracy_over_time(
        metric=dr.ACCURACY_METRIC.AUC, start_time=start_time, end_time=end_time,
        bucket_size=six_hours)
    accuracy_frame = dr.AccuracyOverTime.get_as_dataframe(
        deployment.id, metrics=[dr.ACCURACY_METRIC.AUC, dr.ACCURACY_METRIC.LOGLOSS],
        start_time=start_time, end_time=end_time, bucket_size=six_hours)
    return {
        "label": deployment.label, "model": deployment.model,
        "predictions": service_stats.metrics["totalPredictions"],
        "requests": service_stats["totalRequests"],
        "model_predictions": (of_this_model.model_id, of_this_model["totalPredictions"]),
        "execution_time": service_stats["executionTime"], "p90": p90["executionTime"],
        "error_rate": service_stats["serverErrorRate"],
        "predictions_over_time": list(predictions_over_time.bucket_values.values()),
        "predictions_summary": predictions_over_time.summary["value"],
        "error_rate_over_time": list(error_rate_over_time.bucket_values.values()),
        "target_drift": (target_drift.target_name, target_drift.drift_score,
                         target_drift.sample_size, target_drift.baseline_sample_size),
        "feature_drift": {f.name: (f.drift_score, f.feature_impact) for f in feature_drift},
        "auc": accuracy["AUC"], "accuracy": accuracy.metric_values,
        "baselines": accuracy.metric_baselines,
        "auc_over_time": list(auc_over_time.bucket_values.values()),
        "auc_samples": list(auc_over_time.bucket_sample_sizes.values()),
        "accuracy_frame": accuracy_frame,
        "drift_settings": deployment.get_drift_tracking_settings(),
    }


def _nan_to_none(values) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in values]


@pytest.fixture(params=["in_process", "http"])
def client(request, monitored, monkeypatch):
    """dr.Client() on the store named by SCENARIST_STORE_URL, or on the running server."""
    if request.param == "http":
        served = request.getfixturevalue("served")
        return dr.Client(endpoint=served.base_url, token=served.token)
    monkeypatch.setenv("SCENARIST_STORE_URL", monitored.url)
    return dr.Client()


def test_a_datarobot_script_gets_the_native_numbers(client, monitored):
    result = datarobot_notebook(dr, monitored.deployment_id)
    native = Deployment.get(monitored.deployment_id, url=monitored.url)
    stats = native.get_service_stats(*DAY)
    assert result["label"] == "Small v1"
    assert result["model"]["target_name"] == "y" and result["model"]["target_type"] == "Binary"
    assert result["model"]["id"] == f"{native.id}:v1"
    assert (result["predictions"], result["requests"]) == (300, 11)  # 10 calls + 1 error
    assert result["model_predictions"] == (f"{native.id}:v1", 300)
    assert (result["predictions"], result["requests"]) == (stats.total_predictions,
                                                           stats.total_requests)
    assert result["execution_time"] == stats.median_request_ms
    assert result["p90"] == stats.p90_request_ms and result["p90"] > result["execution_time"]
    assert result["error_rate"] == stats.error_rate == 1 / 11
    six = native.get_service_stats_over_time("total_predictions", "PT6H", *DAY)
    assert result["predictions_over_time"] == six.astype(int).tolist() == [90, 90, 90, 30]
    assert result["predictions_summary"] == 300
    errors = native.get_service_stats_over_time("error_rate", "PT6H", *DAY)
    assert result["error_rate_over_time"] == _nan_to_none(errors.tolist())

    target = native.get_target_drift(*DAY)
    assert result["target_drift"] == ("y", target.psi, 300, 400)
    table = native.get_feature_drift(*DAY)
    assert result["feature_drift"] == {f: (table.loc[f, "psi"], table.loc[f, "importance"])
                                       for f in ("x1", "x2")}
    assert result["feature_drift"]["x1"][0] > result["feature_drift"]["x2"][0]  # x1 shifted

    accuracy = native.get_accuracy(*DAY)
    assert result["auc"] == accuracy.metrics["auc"] and accuracy.labelled == 200
    assert result["accuracy"] == {"LogLoss": accuracy.metrics["logloss"],
                                  "AUC": accuracy.metrics["auc"],
                                  "Accuracy": accuracy.metrics["accuracy"],
                                  "TPR": accuracy.metrics["recall"],
                                  "PPV": accuracy.metrics["precision"],
                                  "F1": accuracy.metrics["f1"]}
    assert result["baselines"]["AUC"] == native.reference_facts["baseline"]["auc"]
    frame = native.get_accuracy_over_time_frame(["auc", "logloss"], "PT6H", *DAY)
    assert result["auc_over_time"] == _nan_to_none(frame["auc"].tolist())
    assert result["auc_samples"] == frame["labelled"].tolist() == [90, 90, 20, 0]
    expected = frame[["auc", "logloss"]].rename(columns={"auc": "AUC", "logloss": "LogLoss"})
    np.testing.assert_array_equal(result["accuracy_frame"].to_numpy(dtype=float),
                                  expected.to_numpy(dtype=float))
    assert list(result["accuracy_frame"].index) == list(frame.index)
    assert result["drift_settings"] == {"target_drift": {"enabled": True},
                                        "feature_drift": {"enabled": True}}


def test_deployment_list_get_and_errors(client, monitored):
    if isinstance(client, dr.Client) and client.endpoint:
        with pytest.raises(NotSupported, match="Deployment.get\\(deployment_id\\)"):
            dr.Deployment.list()
    else:
        assert [d.id for d in dr.Deployment.list(search="small")] == [monitored.deployment_id]
        assert dr.Deployment.list(search="no such") == []
    with pytest.raises(NotFoundError, match="no deployment with id 'nope'"):
        dr.Deployment.get(deployment_id="nope")
    deployment = dr.Deployment.get(monitored.deployment_id)
    with pytest.raises(NotSupported, match="get_service_stats"):
        deployment.get_prediction_server_instances()
    with pytest.raises(NotSupported, match="execution_time_quantile"):
        deployment.get_service_stats(response_time_quantile=0.5, start_time=DAY[0],
                                     end_time=DAY[1])
    with pytest.raises(NotSupported, match="get_feature_drift\\(method=...\\)"):
        deployment.get_feature_drift(metric=dr.DATA_DRIFT_METRIC.HELLINGER)
    with pytest.raises(NotSupported, match="'Gini Norm' is not computed for a binary model"):
        deployment.get_accuracy_over_time(metric=dr.ACCURACY_METRIC.GINI_NORM)
    with pytest.raises(NotSupported, match="'peakLoad' is not recorded"):
        deployment.get_service_stats_over_time(metric=dr.SERVICE_STAT_METRIC.PEAK_LOAD)
    with pytest.raises(Exception, match="not at the top of an hour"):
        deployment.get_service_stats(start_time=datetime(2024, 5, 1, 0, 30))


def test_settings_and_model_replacement_in_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    native = Deployment.create(small_model(), "Replace me", reference=training_frame(), url=url)
    log_day(native, rows=60, labelled=60)
    dr.Client(endpoint=url)
    deployment = dr.Deployment.get(deployment_id=native.id)

    deployment.update_drift_tracking_settings(target_drift_enabled=False)
    assert deployment.get_drift_tracking_settings() == {"target_drift": {"enabled": False},
                                                        "feature_drift": {"enabled": True}}
    assert native.refresh().settings.drift_tracking.target_drift is False

    challenger = small_model(name="challenger", c=0.05)
    status, message, checks = deployment.validate_replacement_model(challenger)
    assert (status, message) == ("passing", "the new model can replace the deployed one")
    assert checks["features"] == {"status": "passing", "message": "same features"}
    deployment.replace_model(challenger, dr.MODEL_REPLACEMENT_REASON.ACCURACY)
    assert deployment.model["id"] == f"{native.id}:v2" and deployment.model["version"] == 2
    history = native.refresh().get_model_history()
    assert history.loc[2, "reason"] == "ACCURACY" and history.loc[2, "model"] == "challenger"
    with pytest.raises(NotSupported, match="no model registry"):
        deployment.validate_replacement_model(new_registered_model_version_id="abc")
    with pytest.raises(NotSupported, match="neither a model object nor a joblib file"):
        deployment.replace_model("5c0a969859b00004ba52e41b", "ACCURACY")


def test_over_http_writes_name_the_in_process_way(served, monitored):
    dr.Client(endpoint=served.base_url, token=served.token)
    deployment = dr.Deployment.get(monitored.deployment_id)
    with pytest.raises(NotSupported, match="not available over HTTP.*Client\\(\\) on the store"):
        deployment.update_drift_tracking_settings(feature_drift_enabled=False)
    with pytest.raises(NotSupported, match="replace_model\\(path\\) over HTTP validates"):
        deployment.validate_replacement_model(small_model())
    with pytest.raises(PermissionError, match="refused the API key"):
        dr.Client(endpoint=served.base_url, token="sck_wrong")
        dr.Deployment.get(monitored.deployment_id)
    with pytest.raises(Exception, match="a token is needed"):
        dr.Client(endpoint=served.base_url)


def test_enums_mirror_datarobot():
    assert dr.ACCURACY_METRIC.AUC == "AUC" and len(dr.ACCURACY_METRIC.ALL) == 25
    assert set(dr.ACCURACY_METRIC.ALL) == {*dr.ACCURACY_METRIC.ALL_CLASSIFICATION,
                                           *dr.ACCURACY_METRIC.ALL_REGRESSION}
    assert dr.SERVICE_STAT_METRIC.ALL[0] == "totalPredictions"
    assert dr.DATA_DRIFT_METRIC.PSI == "psi"
    assert dr.MODEL_REPLACEMENT_REASON.DATA_DRIFT == "DATA_DRIFT"
    assert dr.construct_duration_string(days=1, hours=6) == "P1DT6H"
    assert pd.Timedelta(dr.BUCKET_SIZE.P7D) == pd.Timedelta(days=7)


def test_regression_accuracy_uses_datarobot_names_and_units(tmp_path):
    from sklearn.linear_model import LinearRegression

    from scenarist import model_from_estimator

    frame = training_frame(400, seed=3)
    frame["y"] = 3 * frame["x1"] - frame["x2"] + 10
    estimator = LinearRegression().fit(frame[["x1", "x2"]], frame["y"] + 0.5)
    model = model_from_estimator(estimator, target="y", type="regression", name="reg")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    native = Deployment.create(model, "Regression v1", reference=frame, url=url)
    rows = training_frame(120, seed=4)
    rows["y"] = 3 * rows["x1"] - rows["x2"] + 10
    pred, _ = model.predict(rows)
    ids = [f"r{i}" for i in range(120)]
    native.log_batch(ids, pd.Timestamp(DAY[0]).timestamp() + np.arange(120) * 600.0,
                     rows[["x1", "x2"]], pred)
    native.log_labels(ids, rows["y"])
    dr.Client(endpoint=url)
    deployment = dr.Deployment.get(native.id)
    accuracy = deployment.get_accuracy(start_time=DAY[0], end_time=DAY[1])
    metrics = native.get_accuracy(*DAY).metrics
    assert deployment.model["target_type"] == "Regression"
    assert accuracy["RMSE"] == metrics["rmse"] and accuracy["R Squared"] == metrics["r2"]
    assert accuracy["MAPE"] == pytest.approx(metrics["mape"] * 100)  # percent, as DataRobot
    assert set(accuracy.metrics) == {"RMSE", "MAE", "MAPE", "R Squared"}
    over_time = deployment.get_accuracy_over_time(start_time=DAY[0], end_time=DAY[1],
                                                  bucket_size="PT12H")
    assert over_time.metric == dr.ACCURACY_METRIC.RMSE  # the default for regression
    assert list(over_time.bucket_values.values()) == native.get_accuracy_over_time(
        "rmse", "PT12H", *DAY).tolist()
    assert over_time.summary["value"] == metrics["rmse"]
    with pytest.raises(NotSupported, match="'AUC' is not computed for a regression model"):
        deployment.get_accuracy_over_time(metric=dr.ACCURACY_METRIC.AUC)


def test_replace_model_over_http_swaps_the_served_model(served, monitored):
    dr.Client(endpoint=served.base_url, token=served.admin)
    deployment = dr.Deployment.get(deployment_id=monitored.swapped_id)
    assert deployment.model["version"] == 1
    challenger = str(monitored.folder / "challenger.joblib")  # a file on the server's disk
    deployment.replace_model(challenger, dr.MODEL_REPLACEMENT_REASON.SCORING_SPEED)
    assert deployment.model["id"] == f"{monitored.swapped_id}:v2"
    history = Deployment.get(monitored.swapped_id, url=monitored.url).get_model_history()
    assert history.loc[2, "reason"] == "SCORING_SPEED"
    with pytest.raises(NotSupported, match="path of a joblib file on the server's disk"):
        deployment.replace_model(small_model(), dr.MODEL_REPLACEMENT_REASON.OTHER)
    dr.Client(endpoint=served.base_url, token=served.token)  # read + ingest only
    with pytest.raises(PermissionError, match="refused the API key.*admin"):
        dr.Deployment.get(monitored.swapped_id).replace_model(challenger, "OTHER")
