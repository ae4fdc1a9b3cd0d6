"""scenarist.compat.deepchecks: a Deepchecks-style production-data script runs unchanged but for
the import, in process and over HTTP against `scenarist serve`, with the native API's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from compat_helpers import DAY, T0, small_model, training_frame

from scenarist.compat.backends import NotSupported
from scenarist.compat.deepchecks import DeepchecksClient
from scenarist.deployments import Deployment
from scenarist.errors import NotFoundError

ROWS = 250


def production(rows: int = ROWS, seed: int = 9) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows one minute apart from T0 (x1 shifted), with the model's predictions and probas."""
    frame = training_frame(rows, seed=seed)
    frame["x1"] += 0.3
    frame.index = [f"p{i}" for i in range(rows)]  # Deepchecks guides use the index as ids
    frame["timestamp"] = T0.timestamp() + np.arange(rows) * 60.0
    pred, proba = small_model().predict(frame[["x1", "x2"]])
    return frame, pred, np.c_[1 - proba, proba]


def create_version(host: str) -> str:
    """The model version, created in process (what the Deepchecks setup guide does)."""
    reference = training_frame().rename(columns={"y": "label"})
    pred, proba = small_model().predict(reference[["x1", "x2"]])
    dc_client = DeepchecksClient(host=host)
    model = dc_client.get_or_create_model(name="fraud", task_type="binary",
                                          alerts_delay_seconds=3600)
    version = model.version("v1", reference_dataset=reference, reference_predictions=pred,
                            reference_probas=np.c_[1 - proba, proba], model_classes=[0, 1])
    return version.deployment_id


def deepchecks_script(DeepchecksClient, host, token, **version_options) -> list[int]:  # noqa: N803
    """Written against deepchecks_client's "Sending Tabular Production Data" guide; returns
    the predictions the store had at each step (read with the native API by the caller)."""
    prod_data, predictions, probas = production()
    dc_client = DeepchecksClient(host=host, token=token)
    model_version = dc_client.get_model_version("fraud", "v1", **version_options)
    batch = prod_data.iloc[:-1]
    model_version.log_batch(
        sample_ids=batch.index, data=batch.drop(["timestamp", "y"], axis=1),
        timestamps=batch["timestamp"], predictions=predictions[:-1],
        prediction_probas=probas[:-1], samples_per_send=100)
    seen = [model_version]
    values = prod_data.iloc[-1].to_dict()
    sample_timestamp, label = values.pop("timestamp"), values.pop("y")
    model_version.log_sample(sample_id=prod_data.index[-1], values=values,
                             timestamp=sample_timestamp, prediction=predictions[-1],
                             prediction_proba=probas[-1])
    model_version.send()
    model = dc_client.get_or_create_model("fraud")
    model.log_batch_labels(prod_data.index[:150], prod_data["y"].iloc[:150])
    model.log_label(prod_data.index[-1], label)  # a late label, after the rows were sent
    model.send()
    return seen


@pytest.fixture(params=["in_process", "http"])
def mode(request):
    return request.param


def test_a_deepchecks_script_logs_what_the_native_api_reads(mode, tmp_path_factory, request):
    if mode == "http":
        served, monitored = request.getfixturevalue("served"), request.getfixturevalue(
            "monitored")
        url = monitored.url
        deployment_id = create_version(url)
        host, token, options = served.base_url, served.token, {"deployment_id": deployment_id}
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('dc') / 'store.db'}"
        deployment_id = create_version(url)
        host, token, options = url, None, {}
    deepchecks_script(DeepchecksClient, host, token, **options)

    compat = Deployment.get(deployment_id, url=url)
    assert compat.label == "fraud / v1" and compat.model.type == "binary"
    assert compat.settings.alert_delay.delay_seconds == 3600
    stats = compat.get_service_stats(*DAY)
    # 249 rows with samples_per_send=100: two calls at once, 49 + the sample at send()
    assert (stats.total_predictions, stats.total_requests) == (ROWS, 3)

    # the same rows logged with the native API into a twin deployment give the same numbers
    twin = Deployment.create(small_model(), "twin", reference=training_frame(), url=url)
    prod_data, predictions, probas = production()
    twin.log_batch(list(prod_data.index), prod_data["timestamp"],
                   prod_data[["x1", "x2"]], predictions, probas)
    twin.log_labels([*prod_data.index[:150], prod_data.index[-1]],
                    [*prod_data["y"].iloc[:150], prod_data["y"].iloc[-1]])
    assert compat.get_accuracy(*DAY).metrics == twin.get_accuracy(*DAY).metrics
    assert compat.get_accuracy(*DAY).labelled == 151
    assert compat.get_target_drift(*DAY).psi == twin.get_target_drift(*DAY).psi
    pd.testing.assert_frame_equal(compat.get_feature_drift(*DAY).drop(columns="importance"),
                                  twin.get_feature_drift(*DAY).drop(columns="importance"))


def test_rows_wait_for_send_and_flush_at_samples_per_send(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    deployment = Deployment.get(create_version(url), url=url)
    version = DeepchecksClient(host=url).get_model_version("fraud", "v1")
    prod_data, predictions, probas = production(rows=30)
    features = prod_data[["x1", "x2"]]
    version.log_batch(prod_data.index[:12], features.iloc[:12], prod_data["timestamp"][:12],
                      predictions[:12], probas[:12], samples_per_send=5)
    assert version.pending == 2 and deployment.get_service_stats(*DAY).total_predictions == 10
    version.log_batch(prod_data.index[12:], features.iloc[12:], prod_data["timestamp"][12:],
                      predictions[12:], probas[12:], labels=prod_data["y"].iloc[12:])
    assert version.pending == 20  # the default samples_per_send (10,000) is not reached
    version.send()
    assert version.pending == 0
    accuracy = deployment.get_accuracy(*DAY)
    assert (accuracy.predictions, accuracy.labelled) == (30, 18)  # labels sent with the rows


def test_labels_nobody_knows_and_unsupported_calls(tmp_path, served, monitored):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    create_version(url)
    dc_client = DeepchecksClient(host=url)
    model = dc_client.get_or_create_model("fraud")
    model.log_label("never-logged", 1)
    with pytest.raises(NotFoundError, match="no version of model 'fraud' has sample id.*"
                       "never-logged.*log their predictions first"):
        model.send()
    with pytest.raises(NotSupported, match="tabular binary, multiclass, regression"):
        dc_client.get_or_create_model("pics", task_type="vision_classification")
    with pytest.raises(NotSupported, match="scenarist.Deployment.get\\(id\\).delete\\(\\)"):
        dc_client.delete_model("fraud")
    remote = DeepchecksClient(host=served.base_url, token=served.token)
    with pytest.raises(NotSupported, match="create the version in process.*deployment_id="):
        remote.get_model_version("fraud", "v1")
    unnamed = remote.get_or_create_model("fraud")
    unnamed.log_label("p1", 1)
    with pytest.raises(NotFoundError, match=r"no version to label; name its versions first: "
                       r"get_model_version\(model, version, deployment_id=...\)"):
        unnamed.send()
    with pytest.raises(Exception, match="no version 'v2' yet.*task_type="):
        dc_client.get_or_create_model("fraud").version("v2")
