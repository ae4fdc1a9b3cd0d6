"""Deployment settings seen by the server: association ids, prediction warnings, refreshes."""

from __future__ import annotations

import time

import pytest
from server_helpers import serve, small_model, training_frame

from scenarist.server import create_key


@pytest.fixture(scope="module")
def configured(deployment):
    deployment.update_association_id_settings(column_names=["txn"],
                                              required_in_prediction_requests=True)
    deployment.update_prediction_warning_settings(enabled=True, lower=0.05, upper=0.95)
    return deployment


@pytest.fixture(scope="module")
def running(store, configured):
    url, _ = store
    server = serve(url, {configured.id: small_model()}, flush_seconds=0.01,
                   settings_refresh_seconds=0.2)
    yield server
    server.stop()


def test_association_ids_required_and_joined_to_actuals(running, configured, store, client):
    url, _ = store
    _, secret = create_key("all", ["predict", "ingest", "read"], [configured.id], url=url)
    headers = {"Authorization": f"Bearer {secret}"}
    base = f"{running.base_url}/deployments/{configured.id}"
    absent = client.post(f"{base}/predictions", json=[{"x1": 0.0, "x2": 0.0}], headers=headers)
    assert absent.status_code == 422 and "['txn'] are required" in absent.json()["detail"]
    blank = client.post(f"{base}/predictions", json=[{"x1": 0.0, "x2": 0.0, "txn": "a"},
                                                     {"x1": 1.0, "x2": 0.0, "txn": None}],
                        headers=headers)
    assert blank.status_code == 422 and "row(s) 1 have no association id" in blank.text

    frame = training_frame(40, seed=11)
    rows = [{"x1": float(r.x1), "x2": float(r.x2), "txn": f"t{i}"}
            for i, r in enumerate(frame.itertuples())]
    served = client.post(f"{base}/predictions", json=rows, headers=headers)
    assert served.status_code == 200, served.text
    flags = [r["prediction_warning"] for r in served.json()["data"]]
    probabilities = [r["prediction_values"][0]["value"] for r in served.json()["data"]]
    assert flags == [p < 0.05 or p > 0.95 for p in probabilities] and any(flags)
    assert running.state.queue.drain(10)
    labelled = client.post(f"{base}/actuals", headers=headers, json={"data": [
        {"association_id": f"t{i}", "actual_value": int(y)} for i, y in enumerate(frame["y"])]})
    assert labelled.json()["stored"] == 40 and labelled.json()["unknown"] == []
    accuracy = client.get(f"{base}/accuracy", headers=headers).json()
    assert accuracy["labelled"] == 40 and accuracy["metrics"]["accuracy"] > 0.7
    stats = client.get(f"{base}/serviceStats", headers=headers).json()
    assert stats["errors"] == 2 and stats["total_predictions"] == 40


def test_settings_changed_elsewhere_reach_the_server(running, configured, store, client):
    url, _ = store
    _, secret = create_key("p", ["predict"], [configured.id], url=url)
    configured.update_prediction_warning_settings(enabled=False)
    deadline = time.monotonic() + 5
    while running.state.models.get(configured.id).warning_bounds is not None:
        assert time.monotonic() < deadline, "the settings were not refreshed"
        time.sleep(0.05)
    response = client.post(f"{running.base_url}/deployments/{configured.id}/predictions",
                           json=[{"x1": 9.0, "x2": -9.0, "txn": "far"}],
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["data"][0]["prediction_warning"] is False


def test_a_deleted_deployment_serves_no_more(running, configured, store, client):
    url, _ = store
    _, secret = create_key("p2", ["predict"], [configured.id], url=url)
    configured.delete()
    deadline = time.monotonic() + 5
    while running.state.models.get(configured.id).deployment.status == "active":
        assert time.monotonic() < deadline, "the deletion was not seen"
        time.sleep(0.05)
    response = client.post(f"{running.base_url}/deployments/{configured.id}/predictions",
                           json=[{"x1": 1.0, "x2": 0.0, "txn": "late"}],
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409 and "is deleted" in response.json()["detail"]
