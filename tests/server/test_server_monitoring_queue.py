"""The monitoring queue alone: bounded, overflow counted, failures counted; monitoring off."""

from __future__ import annotations

import functools
import threading

from server_helpers import serve, small_model

from scenarist.server.app import MONITORING_HEADER
from scenarist.server.monitoring import MonitoringQueue, Record


def _record(ts: float) -> Record:
    return Record("nope", 1, small_model_info(), ts, 1.0)


@functools.cache
def small_model_info():
    from scenarist.deployments.model_info import ModelInfo

    return ModelInfo.from_model(small_model(), None)


def test_a_full_queue_drops_and_counts_without_blocking(store):
    url, _ = store
    queue = MonitoringQueue(url, lambda _id: threading.Lock(), capacity=2)
    assert [queue.put(_record) for _ in range(5)] == [True, True, False, False, False]
    stats = queue.stats()
    assert (stats.queued, stats.dropped, stats.pending) == (2, 3, 2)


def test_a_failed_flush_is_counted_and_the_worker_goes_on(store):
    url, _ = store
    queue = MonitoringQueue(url, lambda _id: threading.Lock(), capacity=10, flush_seconds=0)
    queue.start()
    queue.put(_record)
    assert queue.drain(10)
    queue.stop()
    stats = queue.stats()
    assert stats.failed_records == 1
    assert "no deployment with id 'nope'" in stats.last_error


def test_timestamps_never_go_back(store):
    url, _ = store
    queue = MonitoringQueue(url, lambda _id: threading.Lock(), capacity=100)
    stamps: list[float] = []
    for _ in range(50):
        queue.put(lambda ts: (stamps.append(ts), _record(ts))[1])
    assert stamps == sorted(stamps)


def test_monitoring_off_records_nothing(store, deployment, client):
    from scenarist.server import create_key

    url, _ = store
    server = serve(url, {deployment.id: small_model()}, monitoring=False)
    try:
        _, secret = create_key("p", ["predict"], [deployment.id], url=url)
        response = client.post(f"{server.base_url}/deployments/{deployment.id}/predictions",
                               json=[{"x1": 1.0, "x2": 2.0}],
                               headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200 and response.headers[MONITORING_HEADER] == "off"
        assert server.state.queue.stats().queued == 0
        assert deployment.get_service_stats().total_requests == 0
    finally:
        server.stop()
