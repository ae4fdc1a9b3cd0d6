"""Model replacement while serving: no failed request, every response names its model."""

from __future__ import annotations

import threading
import time
from collections import Counter

import joblib
import pytest
from server_helpers import serve, small_model, training_frame
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.server import create_key
from scenarist.server.app import VERSION_HEADER

SWAPS = 10
CLIENTS = 4


@pytest.fixture(scope="module")
def running(store, deployment):
    url, _ = store
    server = serve(url, {deployment.id: small_model()}, flush_seconds=0.02)
    yield server
    server.stop()


def test_ten_replacements_under_a_continuous_client_loop(running, deployment, store, client):
    url, _ = store
    _, secret = create_key("swap", ["predict"], [deployment.id], url=url)
    models = [small_model(f"m{i}", c=0.1 * i, seed=i) for i in range(1, SWAPS + 1)]
    endpoint = f"{running.base_url}/deployments/{deployment.id}/predictions"
    done = threading.Event()
    results: list[list[tuple[int, str, int, float]]] = [[] for _ in range(CLIENTS)]
    failures: list[BaseException] = []

    def loop(out: list[tuple[int, str, int, float]]) -> None:
        import httpx

        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {secret}"}) as http:
            for i in range(5_000):  # bounded, whatever happens to the swaps
                if done.is_set():
                    break
                started = time.perf_counter()
                try:
                    response = http.post(endpoint, json=[{"x1": 0.01 * (i % 50), "x2": -0.3}])
                except httpx.HTTPError as exc:
                    failures.append(exc)
                    continue
                body = response.json() if response.status_code == 200 else {}
                assert response.headers.get(VERSION_HEADER) == str(body.get("model_version"))
                out.append((response.status_code, body.get("model"), body.get("model_version"),
                            time.perf_counter() - started))

    threads = [threading.Thread(target=loop, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    for model in models:
        running.state.models.replace(deployment.id, model, "SCHEDULED_REFRESH")
        time.sleep(0.1)
    time.sleep(0.2)
    done.set()
    for thread in threads:
        thread.join(30)

    assert not failures
    responses = [r for rs in results for r in rs]
    assert len(responses) > 100
    assert Counter(r[0] for r in responses) == {200: len(responses)}
    names = {1: "small", **{v + 1: f"m{v}" for v in range(1, SWAPS + 1)}}
    assert all(names[version] == name for _, name, version, _ in responses)
    for own in results:  # one client's requests never go back to an older model
        versions = [version for _, _, version, _ in own]
        assert versions == sorted(versions)
    seen = Counter(version for _, _, version, _ in responses)
    assert seen[SWAPS + 1] > 0 and len(seen) >= SWAPS // 2
    slowest = max(seconds for *_, seconds in responses)
    assert slowest < 2.0, f"a request waited {slowest:.3f}s"

    # every request was monitored, under the model version that served it
    assert running.state.queue.drain(20)
    stats = running.state.queue.stats()
    assert stats.failed_records == 0 and stats.dropped == 0, stats.last_error
    current = Deployment.get(deployment.id, url=url)
    assert current.model_version == SWAPS + 1
    assert current.get_service_stats().total_predictions == len(responses)
    for version, count in seen.items():
        assert current.get_service_stats(model_version=version).total_requests == count


def test_admin_replaces_the_model_over_http(running, deployment, store, client, tmp_path):
    url, _ = store
    _, admin = create_key("admin", ["admin"], [deployment.id], url=url)
    _, ingest = create_key("ingest", ["ingest"], [deployment.id], url=url)
    frame = training_frame(seed=5)
    good = tmp_path / "good.joblib"
    joblib.dump(LogisticRegression(C=3).fit(frame[["x1", "x2"]], frame["y"]), good)
    narrow = tmp_path / "narrow.joblib"
    joblib.dump(LogisticRegression().fit(frame[["x1"]], frame["y"]), narrow)
    endpoint = f"{running.base_url}/deployments/{deployment.id}/model"
    before = Deployment.get(deployment.id, url=url).model_version

    def post(secret: str, **body):
        return client.post(endpoint, json=body, headers={"Authorization": f"Bearer {secret}"})

    assert post(ingest, path=str(good)).status_code == 403
    missing = post(admin, path=str(tmp_path / "nope.joblib"))
    assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]
    refused = post(admin, path=str(narrow))
    assert refused.status_code == 409 and "x2" in refused.json()["detail"]
    replaced = post(admin, path=str(good), reason="DATA_DRIFT", name="retrained")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"model": "retrained", "model_version": before + 1}
    _, predict = create_key("p", ["predict"], [deployment.id], url=url)
    response = client.post(f"{running.base_url}/deployments/{deployment.id}/predictions",
                           json=[{"x1": 1.0, "x2": 0.0}],
                           headers={"Authorization": f"Bearer {predict}"})
    assert response.json()["model"] == "retrained"
    assert response.json()["model_version"] == before + 1
