"""Hostile and careless bodies: never a 500, one error shape, the connection stays usable.

Issue 16: deeply nested JSON (item 4), all-null numeric features (item 6), malformed and
invalid bodies on every JSON endpoint (item 7).
"""

from __future__ import annotations

import http.client
import json

import pandas as pd
import pytest
from server_helpers import serve, small_model, training_frame
from sklearn.ensemble import HistGradientBoostingClassifier

from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator
from scenarist.server import create_key

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON_ENDPOINTS = ["predictions", "predictionLogs", "actuals", "monitoringBatches", "model"]


def nan_tolerant_model():
    frame = training_frame()
    estimator = HistGradientBoostingClassifier(max_iter=20).fit(frame[["x1", "x2"]], frame["y"])
    return model_from_estimator(estimator, target="y", type="binary", name="tolerant")


@pytest.fixture(scope="module")
def tolerant(store) -> Deployment:
    url, data_dir = store
    return Deployment.create(nan_tolerant_model(), "Tolerant", reference=training_frame(),
                             url=url, data_dir=data_dir)


@pytest.fixture(scope="module")
def running(store, deployment, tolerant):
    url, _ = store
    server = serve(url, {deployment.id: small_model(), tolerant.id: nan_tolerant_model()},
                   flush_seconds=0.01)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def secret(store, deployment, tolerant) -> str:
    return create_key("errors", ["admin"], [deployment.id, tolerant.id], url=store[0])[1]


def post(conn: http.client.HTTPConnection, path: str, body: bytes, secret: str,
         content_type: str = "application/json") -> tuple[int, dict, dict]:
    conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {secret}",
                                                  "Content-Type": content_type})
    response = conn.getresponse()
    return response.status, json.loads(response.read()), dict(response.getheaders())


def test_deeply_nested_json_is_a_400_and_the_connection_stays_open(running, deployment,
                                                                   secret):
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        for endpoint in JSON_ENDPOINTS:
            status, body, headers = post(conn, f"/deployments/{deployment.id}/{endpoint}", DEEP,
                                         secret)
            assert status == 400, (endpoint, status, body)
            assert body == {"detail": "the body is not valid JSON: its arrays or objects are "
                            "nested too deeply"}, (endpoint, body)
            assert headers.get("connection", "").lower() != "close", endpoint
            local = conn.sock.getsockname()
            status, body, _ = post(conn, f"/deployments/{deployment.id}/predictions",
                                   b'[{"x1": 1.0, "x2": 2.0}]', secret)
            assert status == 200, body
            assert conn.sock.getsockname() == local, f"{endpoint}: the connection was dropped"
    finally:
        conn.close()


@pytest.mark.parametrize("endpoint", ["predictionLogs", "actuals", "monitoringBatches", "model"])
def test_malformed_json_is_a_readable_400(running, deployment, secret, endpoint):
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        status, body, _ = post(conn, f"/deployments/{deployment.id}/{endpoint}",
                               b'{"rows": [}', secret)
    finally:
        conn.close()
    assert status == 400, body
    assert body == {"detail": "the body is not valid JSON: Expecting value: line 1 column 11 "
                    "(char 10)"}


@pytest.mark.parametrize(("method", "endpoint", "body", "message"), [
    ("POST", "predictionLogs", {"rows": [{"sample_id": "a", "timestamp": 0, "features": {}}]},
     "the request does not fit the endpoint: body.rows[0].prediction: Field required"),
    ("POST", "predictionLogs", {"rows": []},
     "the request does not fit the endpoint: body.rows: List should have at least 1 item "
     "after validation, not 0"),
    ("POST", "actuals", {"data": [{"association_id": "a", "actual_value": 1, "x": 2}]},
     "the request does not fit the endpoint: body.data[0].x: Extra inputs are not permitted"),
    ("POST", "monitoringBatches", [1, 2],
     "the request does not fit the endpoint: body: Input should be a valid dictionary or "
     "object to extract fields from"),
    ("POST", "predictionLogs", {"rows": [{"sample_id": "a", "timestamp": 0, "prediction": {},
                                          "features": {"x1": 1.0, "x2": 2.0}}]},
     "the request does not fit the endpoint: body.rows[0].prediction: must be one number, "
     "string or boolean, not a JSON object"),
    ("POST", "actuals", {"data": [{"association_id": "a", "actual_value": [[[1]]]}]},
     "the request does not fit the endpoint: body.data[0].actual_value: must be one number, "
     "string or boolean, not a JSON array"),
    ("GET", "serviceStats?model_version=first", None,
     "the request does not fit the endpoint: query.model_version: Input should be a valid "
     "integer, unable to parse string as an integer"),
])
def test_invalid_fields_are_a_readable_422(running, deployment, secret, method, endpoint, body,
                                           message):
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        conn.request(method, f"/deployments/{deployment.id}/{endpoint}",
                     body=None if body is None else json.dumps(body),
                     headers={"Authorization": f"Bearer {secret}",
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 422, answer
    assert answer == {"detail": message}


def test_an_all_null_numeric_feature_reaches_monitoring(running, tolerant, secret, tmp_path):
    """A prediction answered 200 whose numeric feature is null in every row is logged, not
    lost at the flush (issue 16 item 6)."""
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        status, body, headers = post(conn, f"/deployments/{tolerant.id}/predictions",
                                     b'[{"x1": 0.5, "x2": null}, {"x1": -1.0, "x2": null}]',
                                     secret)
        assert status == 200, body
        assert headers["x-scenarist-monitoring"] == "queued"
        queue = running.state.queue
        assert queue.drain(30)
        stats = queue.stats()
        assert stats.failed_records == 0, stats.last_error
        logged = {"rows": [{"sample_id": "log-null", "timestamp": "2031-06-01T00:00:00Z",
                            "features": {"x1": 1.0, "x2": None}, "prediction": 1,
                            "probability": 0.6}]}
        status, answer, _ = post(conn, f"/deployments/{tolerant.id}/predictionLogs",
                                 json.dumps(logged).encode(), secret)
        assert status == 200, answer
    finally:
        conn.close()
    served_ids = [row["sample_id"] for row in body["data"]]
    exported = pd.read_parquet(tolerant.export(tmp_path / "rows.parquet"))
    assert set(served_ids) <= set(exported["sample_id"])
    assert exported.loc[exported["sample_id"].isin(served_ids), "x2"].isna().all()
    logs = pd.read_parquet(tolerant.export(tmp_path / "logs.parquet", start="2031-06-01T00:00Z",
                                           end="2031-06-01T01:00Z"))
    assert logs["sample_id"].tolist() == ["log-null"] and logs["x2"].isna().all()
