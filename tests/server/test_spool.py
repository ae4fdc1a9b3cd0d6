"""No lost flush: what the store could not take is spooled (fsync'd), replayed in order, once.

The database goes away for real: `scenarist serve` reaches PostgreSQL through a TCP proxy the
test closes (refusing new connections, cutting the open ones) and opens again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from server_helpers import small_model, start_serve, training_frame
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError
from scenarist.server import create_key
from scenarist.server.spool import Spool, SpoolFull

# -- the spool file alone ------------------------------------------------------------------------


def test_the_spool_survives_a_restart_cuts_a_torn_tail_and_is_bounded(tmp_path):
    spool = Spool(tmp_path, max_bytes=4096)
    for i in range(3):
        spool.append("d1", {"n": i})
    with pytest.raises(ConfigError, match="used by another running server"):
        Spool(tmp_path)
    first = spool.peek()
    assert first is not None and first.item == {"n": 0}
    spool.consume(first)
    spool.close()
    with open(tmp_path / "spool.log", "ab") as log:  # a kill -9 in the middle of an append
        log.write(b"\x10\x00\x00")
    again = Spool(tmp_path, max_bytes=4096)
    assert len(again) == 2 and again.pending_for("d1") == 2
    items = []
    while (entry := again.peek()) is not None:
        items.append(entry.item["n"])
        again.consume(entry)
    assert items == [1, 2] and (tmp_path / "spool.log").stat().st_size == 0
    with pytest.raises(SpoolFull, match="spool is full"):
        again.append("d1", b"x" * 5000)
    again.close()


def test_only_entries_never_handed_to_the_store_skip_the_stored_id_lookup(tmp_path):
    spool = Spool(tmp_path)
    spool.append("d", 1, unattempted=True)
    spool.append("d", 2, unattempted=True)
    spool.append("d", 3)  # spooled after a failed store call
    assert [e.unattempted for e in spool.peek_many(10)] == [True, True, False]
    spool.attempted(spool.peek_many(1)[0])  # a replay of the first failed
    assert [e.unattempted for e in spool.peek_many(10)] == [False, True, False]
    spool.close()
    again = Spool(tmp_path)  # a restart: a killed process may have stored any of them
    assert [e.unattempted for e in again.peek_many(10)] == [False, False, False]
    again.close()


# -- the server, its database cut off ------------------------------------------------------------

@pytest.fixture
def proxied(postgres_url, tmp_path):
    """(direct URL, URL through the proxy, proxy, deployment, ingest key)."""
    direct = make_url(postgres_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
    through = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    deployment = Deployment.create(small_model(), "spooled", reference=training_frame(),
                                   url=postgres_url, data_dir=tmp_path / "data")
    _, secret = create_key("ingest", ["ingest", "read"], [deployment.id], url=postgres_url)
    yield postgres_url, through, proxy, deployment, secret
    proxy.close()


def _row(sample_id: str) -> dict:
    return {"sample_id": sample_id, "timestamp": time.time(),
            "features": {"x1": 0.5, "x2": -0.25}, "prediction": 1, "probability": 0.8}


def _wait_spool_empty(base: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{base}/health", timeout=10).json()
        if health["spooled"] == 0:
            return health
        assert time.monotonic() < deadline, health
        time.sleep(0.2)


def _serve(*args: str) -> tuple[subprocess.Popen, str, list[bytes]]:
    """start_serve, its output read as it comes (a full pipe would block the server)."""
    process, base = start_serve(*args)
    lines: list[bytes] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            del lines[:-200]

    threading.Thread(target=read, daemon=True).start()
    return process, base, lines


def _stop(process, lines: list[bytes]) -> None:
    """Terminate `scenarist serve`; its last output is shown when it does not end in 30 s."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        print(b"".join(lines).decode(errors="replace"))
        raise


def _stored_ids(deployment: Deployment, tmp_path: Path) -> list[str]:
    exported = pd.read_parquet(deployment.export(tmp_path / "stored.parquet",
                                                 start="2020-01-01T00:00Z",
                                                 end="2100-01-01T00:00Z"))
    return exported["sample_id"].tolist()


@pytest.mark.parametrize("ingest", ["commit", "spool"])
def test_four_clients_through_a_database_outage_lose_and_duplicate_nothing(proxied, tmp_path,
                                                                           ingest):
    """commit: requests spool while the store is away; spool: every request is spooled and
    the replay's store calls are cut off mid-way (its entries are then looked up by sample id
    before the retry, though never handed to the store before)."""
    direct, through, proxy, deployment, secret = proxied
    process, base, lines = _serve("--url", through, "--spool-dir", str(tmp_path / "spool"),
                                  "--ingest", ingest)
    accepted: list[str] = []
    refused: list[int] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {secret}"}) as c:
            i = 0
            while not stop.is_set():
                sample_id = f"c{n}-{i}"
                i += 1
                response = c.post(f"{base}/deployments/{deployment.id}/predictionLogs",
                                  json={"rows": [_row(sample_id)], "request_ms": 3.0})
                (accepted.append(sample_id) if response.status_code == 200
                 else refused.append(response.status_code))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)  # traffic with the database up
        proxy.close()
        before = len(accepted)
        deadline = time.monotonic() + 20  # the database away for 20 s, clients posting
        while time.monotonic() < deadline:
            time.sleep(0.5)
        health = httpx.get(f"{base}/health").json()
        assert health["spooled"] > 0 and health["oldest_spooled_age_s"] > 0, health
        assert len(accepted) > before  # accepted while the database was down
        proxy.open()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(60)
        health = _wait_spool_empty(base)
    finally:
        stop.set()
        _stop(process, lines)
    stored = _stored_ids(deployment, tmp_path)
    assert len(stored) == len(set(stored))  # exactly once
    assert set(accepted) <= set(stored), len(set(accepted) - set(stored))
    assert set(refused) <= {503}, refused
    stats = Deployment.get(deployment.id, url=direct).get_service_stats(
        start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert stats.total_predictions == len(stored)


def test_a_spool_left_by_kill_9_is_replayed_on_restart(proxied, tmp_path):
    direct, through, proxy, deployment, secret = proxied
    spool = tmp_path / "spool"
    process, base, lines = _serve("--url", through, "--spool-dir", str(spool))
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        first = httpx.post(f"{base}/deployments/{deployment.id}/predictionLogs", headers=headers,
                           json={"rows": [_row("k-0")]}, timeout=30)
        assert first.status_code == 200 and first.json()["stored"] == "stored", first.text
        proxy.close()
        ids = [f"k-{i}" for i in range(1, 21)]
        for sample_id in ids:
            answer = httpx.post(f"{base}/deployments/{deployment.id}/predictionLogs",
                                headers=headers, json={"rows": [_row(sample_id)]}, timeout=30)
            assert answer.status_code == 200 and answer.json()["stored"] == "spooled", answer.text
        assert httpx.get(f"{base}/health").json()["spooled"] == 20
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    proxy.open()
    process, base, lines = _serve("--url", through, "--spool-dir", str(spool))
    try:
        health = _wait_spool_empty(base)
        assert health["replayed"] == 20, health
    finally:
        _stop(process, lines)
    stored = _stored_ids(deployment, tmp_path)
    assert sorted(stored) == sorted(["k-0", *ids])
    exported = pd.read_parquet(tmp_path / "stored.parquet").sort_values("timestamp")
    assert exported["sample_id"].tolist() == ["k-0", *ids]  # order kept


# -- --ingest spool: 200 once fsync'd, stored behind ---------------------------------------------

def test_ingest_spool_answers_once_spooled_and_stores_everything_behind(store, tmp_path):
    from server_helpers import serve

    url, data_dir = store
    deployment = Deployment.create(small_model(), "spool-first", reference=training_frame(),
                                   url=url, data_dir=data_dir / "spool-first")
    _, secret = create_key("i", ["ingest"], [deployment.id], url=url)
    running = serve(url, {}, ingest="spool", spool_dir=str(tmp_path / "spool"))
    base = f"{running.base_url}/deployments/{deployment.id}"
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        with httpx.Client(headers=headers, timeout=30) as client:
            answers = [client.post(f"{base}/predictionLogs", json={
                "rows": [_row(f"w-{i}")], "request_ms": 2.0}) for i in range(30)]
            assert {a.json()["stored"] for a in answers} == {"spooled"}
            lacking = client.post(f"{base}/predictionLogs", json={"rows": [
                {**_row("bad"), "features": {"x1": 1.0}}]})
            assert lacking.status_code == 422 and "x2" in lacking.json()["detail"]
            stats = client.post(f"{base}/serviceStats", json={"num_predictions": 5,
                                                              "execution_time_ms": 7.0})
            assert stats.status_code == 200, stats.text
        assert running.state.writer.drain(60)
    finally:
        running.stop()
    assert sorted(_stored_ids(deployment, tmp_path)) == sorted(f"w-{i}" for i in range(30))
    found = Deployment.get(deployment.id, url=url).get_service_stats(
        start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert (found.total_predictions, found.total_requests) == (35, 31)


def test_monitoring_flushes_of_served_predictions_are_spooled_while_the_database_is_away(
        proxied, tmp_path):
    from server_helpers import serve

    direct, through, proxy, deployment, _secret = proxied
    _, secret = create_key("p", ["predict"], [deployment.id], url=direct)
    running = serve(through, {deployment.id: small_model()}, flush_seconds=0.05,
                    spool_dir=str(tmp_path / "spool"))
    url = f"{running.base_url}/deployments/{deployment.id}/predictions"
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {secret}"}, timeout=30) as client:
            assert client.post(url, json=[{"x1": 0.0, "x2": 0.0}]).status_code == 200
            proxy.close()
            for i in range(20):
                answer = client.post(url, json=[{"x1": float(i), "x2": 1.0}])
                assert answer.status_code == 200, answer.text
            assert running.state.queue.drain(30)
            stats = running.state.queue.stats()
            assert stats.spooled_runs > 0 and stats.failed_records == 0, stats
            assert running.state.health()["spooled"] > 0
            proxy.open()
            assert running.state.writer.drain(120), running.state.health()
    finally:
        running.stop()
    found = Deployment.get(deployment.id, url=direct).get_service_stats(
        start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert (found.total_predictions, found.total_requests) == (21, 21)
