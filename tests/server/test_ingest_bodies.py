"""predictionLogs bodies read without a pydantic model per row (logs.py): the columnar form
stores what the row form stores, bad bodies are 422s naming the row and field, and requests
that arrive together are spooled with one fsync (group commit)."""

from __future__ import annotations

import json
import time

import httpx
import pandas as pd
import pytest
from server_helpers import serve, small_model, training_frame

from scenarist.deployments import Deployment
from scenarist.server import create_key
from scenarist.server.committer import Committer
from scenarist.server.logs import parse_logs
from scenarist.server.spool import Spool
from scenarist.server.writer import Writer


@pytest.fixture(scope="module")
def running(store):
    url, _ = store
    server = serve(url, {})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def logs_deployment(store) -> Deployment:
    url, data_dir = store
    return Deployment.create(small_model(), "bodies", reference=training_frame(), url=url,
                             data_dir=data_dir / "bodies")


@pytest.fixture(scope="module")
def headers(store, logs_deployment) -> dict[str, str]:
    _, secret = create_key("bodies", ["ingest"], [logs_deployment.id], url=store[0])
    return {"Authorization": f"Bearer {secret}"}


def _export(deployment: Deployment, path, hour: str) -> pd.DataFrame:
    start = pd.Timestamp(hour)
    frame = pd.read_parquet(deployment.export(path, start=start.isoformat(),
                                              end=(start + pd.Timedelta(hours=1)).isoformat()))
    return frame.sort_values("sample_id").reset_index(drop=True)


def test_the_columnar_form_stores_what_the_row_form_stores(running, logs_deployment, headers,
                                                           tmp_path):
    base = f"{running.base_url}/deployments/{logs_deployment.id}/predictionLogs"
    values = [(0.5, -1.0, 1, 0.8, "mobile"), (1.5, 2.0, 0, 0.3, "tablet"),
              (-0.25, 0.0, 1, 0.6, "mobile")]
    rows = {"request_ms": 4.0, "rows": [
        {"sample_id": f"r-{i}", "timestamp": f"2032-03-01T00:0{i}:00Z",
         "features": {"x1": a, "x2": b}, "prediction": p, "probability": q,
         "additional_data": {"device": d}} for i, (a, b, p, q, d) in enumerate(values)]}
    columns = {"request_ms": 4.0, "ids": [f"c-{i}" for i in range(3)],
               "timestamps": [f"2032-03-01T01:0{i}:00Z" for i in range(3)],
               "columns": {"x1": [v[0] for v in values], "x2": [v[1] for v in values]},
               "predictions": [v[2] for v in values], "probabilities": [v[3] for v in values],
               "additional_data": {"device": [v[4] for v in values]}}
    one_time = {"ids": ["t-0", "t-1"], "timestamps": "2032-03-09T00:30:00Z",  # every row
                "columns": {"x1": [0.1, 0.2], "x2": [0.3, 0.4]}, "predictions": [1, 0]}
    with httpx.Client(headers=headers, timeout=30) as client:
        for body in (rows, columns, one_time):
            answer = client.post(base, json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["rows"] == len(body.get("rows") or body["ids"])
    by_rows = _export(logs_deployment, tmp_path / "rows.parquet", "2032-03-01T00:00Z")
    by_columns = _export(logs_deployment, tmp_path / "columns.parquet", "2032-03-01T01:00Z")
    assert by_columns["sample_id"].tolist() == ["c-0", "c-1", "c-2"]
    same = ["x1", "x2", "prediction", "device"]
    pd.testing.assert_frame_equal(by_rows[same], by_columns[same])
    assert (by_columns["timestamp"] - by_rows["timestamp"]).eq(pd.Timedelta(hours=1)).all()
    one = _export(logs_deployment, tmp_path / "one.parquet", "2032-03-09T00:00Z")
    assert one["sample_id"].tolist() == ["t-0", "t-1"]
    assert one["timestamp"].nunique() == 1


def test_nan_from_pythons_json_is_a_missing_value(running, logs_deployment, headers, tmp_path):
    """json.dumps writes NaN for a missing float (the agent sends bodies that way): orjson
    refuses the literal, the standard decoder reads it, and the row is stored with a null."""
    body = json.dumps({"ids": ["n-0"], "timestamps": "2032-04-01T00:10:00Z",
                       "columns": {"x1": [float("nan")], "x2": [1.0]}, "predictions": [1]})
    assert "NaN" in body
    answer = httpx.post(f"{running.base_url}/deployments/{logs_deployment.id}/predictionLogs",
                        content=body, headers={**headers, "Content-Type": "application/json"},
                        timeout=30)
    assert answer.status_code == 200, answer.text
    stored = _export(logs_deployment, tmp_path / "nan.parquet", "2032-04-01T00:00Z")
    assert stored["sample_id"].tolist() == ["n-0"] and stored["x1"].isna().all()


@pytest.mark.parametrize(("body", "message"), [
    ({"rows": [{"sample_id": "a", "timestamp": 0, "features": {"x1": 1, "x2": 2},
                "prediction": 1},
               {"sample_id": "b", "timestamp": "soon", "features": {"x1": 1, "x2": 2},
                "prediction": 1}]},
     "body.rows[1].timestamp: must be ISO 8601 text or epoch seconds, got 'soon'"),
    ({"rows": [{"sample_id": "a", "timestamp": 0, "features": {"x1": 1, "x2": 2},
                "prediction": 1, "score": 3}]},
     "body.rows[0].score: Extra inputs are not permitted"),
    ({"ids": ["a", "b", "c"], "timestamps": 0, "columns": {"x1": [1, 2, 3], "x2": [1, 2]},
      "predictions": [0, 1, 1]},
     "body.columns.x2: has 2 values; ids has 3 (one value per row)"),
    ({"ids": ["a", "b", "c"], "timestamps": [0, 1, "later"],
      "columns": {"x1": [1, 2, 3], "x2": [1, 2, 3]}, "predictions": [0, 1, 1]},
     "body.timestamps: row 2: must be ISO 8601 text or epoch seconds, got 'later'"),
    ({"ids": ["a", 7], "timestamps": 0, "columns": {"x1": [1, 2], "x2": [1, 2]},
      "predictions": [0, 1]},
     "body.ids[1]: Input should be a valid string"),
    ({"ids": ["a", "b"], "timestamps": 0, "columns": {"x1": [1, 2], "x2": [1, 2]},
      "predictions": [0, [1]]},
     "body.predictions[1]: must be one number, string or boolean, not a JSON array"),
    ({"ids": ["a", "b"], "timestamps": 0, "columns": {"x1": [1, 2], "x2": [1, 2]},
      "predictions": [0, 1], "probabilities": [0.5]},
     "body.probabilities: has 1 values; ids has 2 (one value per row)"),
])
def test_bad_bodies_are_422s_naming_row_and_field(running, logs_deployment, headers, body,
                                                  message):
    answer = httpx.post(f"{running.base_url}/deployments/{logs_deployment.id}/predictionLogs",
                        content=json.dumps(body), headers={**headers,
                                                           "Content-Type": "application/json"},
                        timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": f"the request does not fit the endpoint: {message}"}


def test_requests_arriving_together_are_spooled_with_one_fsync(tmp_path):
    """Group commit: what was submitted while the committer was busy is one spool entry
    (one fsync), and every request's future resolves to 'spooled'."""
    spool = Spool(tmp_path / "spool")
    committer = Committer(Writer(None, lambda _id: None, spool), spool_first=True)
    body = {"ids": ["a"], "timestamps": time.time(), "columns": {"x1": [1.0], "x2": [2.0]},
            "predictions": [1]}
    futures = []
    for i in range(50):  # submitted before the thread runs: all pending together
        body["ids"] = [f"g-{i}"]
        futures.append(committer.submit(parse_logs(json.dumps(body).encode()).record("d", 0)))
    committer.start()
    try:
        outcomes = [f.result(30) for f in futures]
    finally:
        committer.stop()
    assert all(o.spooled for o in outcomes)
    assert len(spool) == 1  # one entry, one fsync, for the 50 requests
    entry = spool.peek()
    assert [r.sample_ids[0] for r in entry.item] == [f"g-{i}" for i in range(50)]
    spool.close()
