"""Every endpoint of the server, for real over HTTP: success, each 4xx path, auth scopes."""

from __future__ import annotations

import hashlib
import re

import httpx
import pandas as pd
import pytest
from server_helpers import small_model, training_frame
from sqlalchemy import select

from scenarist.deployments import Deployment
from scenarist.server import create_key, revoke_key
from scenarist.server.app import BATCH_HEADER, MONITORING_HEADER, VERSION_HEADER
from scenarist.stores.database import connect
from scenarist.stores.server_tables import api_keys

ROWS = [{"x1": 0.5, "x2": -1.0}, {"x1": -2.0, "x2": 1.0}, {"x1": 0.1, "x2": 0.2}]
CSV = "x1,x2\n0.5,-1.0\n-2.0,1.0\n0.1,0.2\n"


@pytest.fixture(scope="module")
def running(store, deployment):
    from server_helpers import serve

    url, _ = store
    server = serve(url, {deployment.id: small_model()}, key_cache_seconds=0,
                   max_body_bytes=20_000, flush_seconds=0.01)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys(store, deployment) -> dict[str, str]:
    url, _ = store
    other = Deployment.create(small_model("other"), "Other", url=url,
                              data_dir=store[1])
    made = {scope: create_key(f"{scope}-key", [scope], [deployment.id], url=url)[1]
            for scope in ("predict", "ingest", "read", "admin")}
    made["everything"] = create_key("all", ["predict", "ingest", "read"], ["*"], url=url)[1]
    made["other"] = create_key("other", ["predict", "read"], [other.id], url=url)[1]
    return made


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def predict(client, running, deployment, keys, **kwargs) -> httpx.Response:
    kwargs.setdefault("headers", {})
    kwargs["headers"] = {**auth(keys["predict"]), **kwargs["headers"]}
    return client.post(f"{running.base_url}/deployments/{deployment.id}/predictions", **kwargs)


def test_health_needs_no_key(client, running):
    response = client.get(f"{running.base_url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["served_deployments"] == 1
    assert body["queue"]["dropped"] == 0


def test_json_and_csv_predictions_agree_with_the_model(client, running, deployment, keys):
    by_json = predict(client, running, deployment, keys, json=ROWS)
    by_csv = predict(client, running, deployment, keys, content=CSV,
                     headers={"Content-Type": "text/csv"})
    assert by_json.status_code == by_csv.status_code == 200, by_json.text
    assert by_json.headers[VERSION_HEADER] == "1"
    assert by_json.headers[MONITORING_HEADER] == "queued"
    body = by_json.json()
    assert body["model"] == "small" and body["model_version"] == 1
    expected, proba = small_model().predict(pd.DataFrame(ROWS))
    assert [r["prediction"] for r in body["data"]] == expected.tolist()
    for row, p in zip(body["data"], proba, strict=True):
        values = {v["label"]: v["value"] for v in row["prediction_values"]}
        assert values[1] == pytest.approx(p) and values[0] == pytest.approx(1 - p)
        assert row["prediction_warning"] is False
    assert [r["prediction"] for r in by_csv.json()["data"]] == expected.tolist()
    assert len({r["sample_id"] for r in body["data"] + by_csv.json()["data"]}) == 6


def test_predictions_are_monitored_off_the_request_path(client, running, deployment, keys):
    assert running.state.queue.drain(10)
    before = client.get(f"{running.base_url}/deployments/{deployment.id}/serviceStats",
                        headers=auth(keys["read"])).json()
    for _ in range(5):
        assert predict(client, running, deployment, keys, json=ROWS[:1]).status_code == 200
    assert predict(client, running, deployment, keys, json=ROWS).status_code == 200
    assert running.state.queue.drain(10)
    after = client.get(f"{running.base_url}/deployments/{deployment.id}/serviceStats",
                       headers=auth(keys["read"])).json()
    assert after["total_predictions"] - before["total_predictions"] == 5 + 3
    assert after["total_requests"] - before["total_requests"] == 6
    assert after["mean_request_ms"] > 0
    stats = running.state.queue.stats()
    assert stats.failed_records == 0, stats.last_error


def test_failed_prediction_requests_count_as_errors(client, running, deployment, keys):
    assert running.state.queue.drain(10)
    before = Deployment.get(deployment.id, url=running.state.url).get_service_stats().errors
    assert predict(client, running, deployment, keys, json=[{"x1": 1.0}]).status_code == 422
    assert running.state.queue.drain(10)
    after = Deployment.get(deployment.id, url=running.state.url).get_service_stats().errors
    assert after == before + 1


@pytest.mark.parametrize(("kwargs", "status", "message"), [
    ({"content": b"[{\"x1\": 1", "headers": {"Content-Type": "application/json"}}, 400,
     "not valid JSON"),
    ({"json": {"x1": 1.0, "x2": 2.0}}, 400, "array of objects"),
    ({"json": []}, 400, "no rows"),
    ({"content": "x1,x2\n1,2,3,4\n", "headers": {"Content-Type": "text/csv"}}, 400,
     "not valid CSV"),
    ({"content": "", "headers": {"Content-Type": "text/csv"}}, 400, "empty"),
    ({"content": "x1=1", "headers": {"Content-Type": "text/plain"}}, 415, "text/plain"),
    ({"json": [{"x1": 1.0}]}, 422, r"missing feature\(s\) \['x2'\]"),
    ({"json": [{"x1": 1.0, "x2": 2.0, "x3": 0}]}, 422, r"unknown column\(s\) \['x3'\]"),
    ({"json": [{"x1": "a lot", "x2": 2.0}]}, 422, r"wrong value type in column\(s\) x1 "
     r"\(string, expected number\)"),
    ({"json": [{"x1": 1.0, "x2": 2.0}] * 1000}, 413, "limit is 20000"),
])
def test_bad_bodies_get_a_clear_4xx(client, running, deployment, keys, kwargs, status, message):
    response = predict(client, running, deployment, keys, **kwargs)
    assert response.status_code == status, response.text
    assert re.search(message, response.json()["detail"]), response.json()["detail"]


def test_keys_and_scopes(client, running, deployment, keys, store):
    base = f"{running.base_url}/deployments/{deployment.id}"
    no_key = client.post(f"{base}/predictions", json=ROWS)
    assert no_key.status_code == 401 and no_key.headers["WWW-Authenticate"] == "Bearer"
    assert client.post(f"{base}/predictions", json=ROWS,
                       headers=auth("sck_nope_nope")).status_code == 401
    assert client.post(f"{base}/predictions", json=ROWS,
                       headers={"Authorization": "Basic abc"}).status_code == 401
    denied = {
        ("post", "predictions", "read"), ("post", "predictions", "ingest"),
        ("get", "serviceStats", "predict"), ("get", "accuracy", "ingest"),
        ("post", "monitoringBatches", "read"), ("post", "actuals", "predict"),
        ("post", "predictionLogs", "read"), ("post", "model", "ingest"),
    }
    for method, path, scope in denied:
        response = client.request(method.upper(), f"{base}/{path}", json={},
                                  headers=auth(keys[scope]))
        assert response.status_code == 403, (method, path, scope, response.text)
        needed = "'admin'" if path == "model" else "'"
        assert f"lacks the {needed}" in response.json()["detail"]
    wrong_deployment = client.post(f"{base}/predictions", json=ROWS, headers=auth(keys["other"]))
    assert wrong_deployment.status_code == 403
    assert "may not touch deployment" in wrong_deployment.json()["detail"]
    # admin may do everything on its deployment; a '*' key reaches any deployment
    assert client.post(f"{base}/predictions", json=ROWS,
                       headers=auth(keys["admin"])).status_code == 200
    assert client.post(f"{base}/predictions", json=ROWS,
                       headers=auth(keys["everything"])).status_code == 200
    unknown = client.post(f"{running.base_url}/deployments/nope/predictions", json=ROWS,
                          headers=auth(keys["everything"]))
    assert unknown.status_code == 404 and "not served" in unknown.json()["detail"]
    unknown = client.get(f"{running.base_url}/deployments/nope/serviceStats",
                         headers=auth(keys["everything"]))
    assert unknown.status_code == 404 and "no deployment with id 'nope'" in unknown.text


def test_keys_are_hashed_at_rest_and_revocable(client, running, deployment, store):
    url, _ = store
    key, secret = create_key("temporary", ["read"], [deployment.id], url=url)
    with connect(url).connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key.id)).one()
    assert secret not in str(tuple(row))
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    stats = f"{running.base_url}/deployments/{deployment.id}/serviceStats"
    assert client.get(stats, headers=auth(secret)).status_code == 200
    revoke_key(key.id, url=url)
    response = client.get(stats, headers=auth(secret))
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_monitoring_batches(client, running, deployment, keys):
    base = f"{running.base_url}/deployments/{deployment.id}"
    created = client.post(f"{base}/monitoringBatches", json={"name": "week 1"},
                          headers=auth(keys["ingest"]))
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    assert client.post(f"{base}/monitoringBatches", json={"name": "week 1"},
                       headers=auth(keys["ingest"])).status_code == 409
    assert client.post(f"{base}/monitoringBatches", json={"nom": "x"},
                       headers=auth(keys["ingest"])).status_code == 422
    response = predict(client, running, deployment, keys, json=ROWS,
                       headers={BATCH_HEADER: batch_id})
    assert response.status_code == 200
    by_name = predict(client, running, deployment, keys, json=ROWS[:1],
                      headers={BATCH_HEADER: "week 1"})
    assert by_name.status_code == 200
    missing = predict(client, running, deployment, keys, json=ROWS,
                      headers={BATCH_HEADER: "no such batch"})
    assert missing.status_code == 404 and "no monitoring batch" in missing.json()["detail"]
    assert running.state.queue.drain(10)
    stats = client.get(f"{base}/serviceStats", params={"batch": batch_id},
                       headers=auth(keys["read"])).json()
    assert stats["total_predictions"] == 4 and stats["total_requests"] == 2


def test_prediction_logs_actuals_accuracy_and_drift(client, running, deployment, keys):
    base = f"{running.base_url}/deployments/{deployment.id}"
    frame = training_frame(60, seed=7)
    model = small_model()
    predictions, proba = model.predict(frame)
    rows = [{"sample_id": f"ext-{i}", "timestamp": "2030-01-01T00:00:00+00:00",
             "features": {"x1": float(r.x1), "x2": float(r.x2)},
             "prediction": int(p), "probability": float(q)}
            for i, (r, p, q) in enumerate(zip(frame.itertuples(), predictions, proba,
                                              strict=True))]
    logged = client.post(f"{base}/predictionLogs", json={"rows": rows, "request_ms": 12.5},
                         headers=auth(keys["ingest"]))
    assert logged.status_code == 200, logged.text
    assert logged.json()["rows"] == 60
    again = client.post(f"{base}/predictionLogs", json={"rows": rows[:2]},
                        headers=auth(keys["ingest"]))
    assert again.status_code == 422 and "logged before" in again.json()["detail"]
    bad = client.post(f"{base}/predictionLogs", json={"rows": [{**rows[0], "sample_id": "z",
                                                               "features": {"x1": 1.0}}]},
                      headers=auth(keys["ingest"]))
    assert bad.status_code == 422 and "missing feature" in bad.json()["detail"]
    assert client.post(f"{base}/predictionLogs", json={"rows": []},
                       headers=auth(keys["ingest"])).status_code == 422

    actuals = [{"association_id": f"ext-{i}", "actual_value": int(y)}
               for i, y in enumerate(frame["y"])]
    stored = client.post(f"{base}/actuals",
                         json={"data": [*actuals, {"association_id": "ghost",
                                                   "actual_value": 1}]},
                         headers=auth(keys["ingest"]))
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"stored": 60, "corrected": 0, "unknown": ["ghost"]}
    wrong = client.post(f"{base}/actuals", json={"data": [{"association_id": "ext-1",
                                                           "actual_value": 7}]},
                        headers=auth(keys["ingest"]))
    assert wrong.status_code == 422

    window = {"start": "2029-12-31T00:00:00+00:00", "end": "2030-01-02T00:00:00+00:00"}
    accuracy = client.get(f"{base}/accuracy", params=window, headers=auth(keys["read"]))
    assert accuracy.status_code == 200, accuracy.text
    body = accuracy.json()
    assert body["labelled"] == 60
    assert body["metrics"]["accuracy"] == pytest.approx(
        float((predictions == frame["y"].to_numpy()).mean()))
    drift = client.get(f"{base}/featureDrift", params=window, headers=auth(keys["read"]))
    assert drift.status_code == 200, drift.text
    assert {f["feature"] for f in drift.json()["features"]} == {"x1", "x2"}
    target = client.get(f"{base}/targetDrift", params=window, headers=auth(keys["read"]))
    assert target.status_code == 200 and target.json()["rows"] == 60
    stats = client.get(f"{base}/serviceStats", params=window, headers=auth(keys["read"]))
    assert stats.json()["total_predictions"] == 60
    assert stats.json()["mean_request_ms"] == pytest.approx(12.5)
    bad_window = client.get(f"{base}/serviceStats", params={"start": "yesterday-ish"},
                            headers=auth(keys["read"]))
    assert 400 <= bad_window.status_code < 500


def test_prediction_logs_keep_additional_data(client, running, deployment, keys, tmp_path):
    base = f"{running.base_url}/deployments/{deployment.id}"
    rows = [{"sample_id": f"add-{i}", "timestamp": "2031-01-01T00:00:00+00:00",
             "features": {"x1": float(i), "x2": 0.5}, "prediction": 1, "probability": 0.7,
             "additional_data": {"device": device}}
            for i, device in enumerate(["mobile", "tablet", "mobile"])]
    logged = client.post(f"{base}/predictionLogs", json={"rows": rows},
                         headers=auth(keys["ingest"]))
    assert logged.status_code == 200, logged.text
    assert logged.json()["secondary_missing"] == {}
    exported = pd.read_parquet(deployment.export(tmp_path / "rows.parquet",
                                                 start="2031-01-01T00:00Z",
                                                 end="2031-01-01T01:00Z"))
    assert exported["device"].tolist() == ["mobile", "tablet", "mobile"]
