"""`scenarist serve --workers N`: each worker claims its own spool folder; 4 clients posting to
2 workers under --ingest spool, the whole server killed with kill -9, restarted: every row
answered 200 is stored exactly once (200 means fsync'd in the spool of the worker that took
it, whichever worker replays it)."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pandas as pd
import pytest
from server_helpers import small_model, start_serve, training_frame

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError
from scenarist.server import create_key
from scenarist.server.workers import claim_spool

START = 300  # seconds: two workers each import the server (slow on a loaded machine)


def test_each_worker_claims_its_own_spool_folder(tmp_path):
    first, one = claim_spool(tmp_path, 2, 1 << 20)
    second, two = claim_spool(tmp_path, 2, 1 << 20)
    assert (one, two) == (0, 1)
    assert {p.name for p in tmp_path.iterdir()} == {"worker-0", "worker-1"}
    with pytest.raises(ConfigError, match="held by a running server"):
        claim_spool(tmp_path, 2, 1 << 20)
    first.append("d", {"n": 1})
    first.close()  # the worker-0 process ended: a new one takes its folder and its entries
    again, number = claim_spool(tmp_path, 2, 1 << 20)
    assert number == 0 and len(again) == 1
    again.close()
    second.close()


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_two_workers_killed_with_kill_9_lose_and_duplicate_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    deployment = Deployment.create(small_model(), "workers", reference=training_frame(),
                                   url=url, data_dir=tmp_path / "data")
    _, secret = create_key("w", ["ingest"], [deployment.id], url=url)
    spool = tmp_path / "spool"
    args = ("--url", url, "--spool-dir", str(spool), "--ingest", "spool", "--workers", "2",
            "--compact-every", "0")
    process, base = start_serve(*args, new_session=True, timeout=START)
    accepted: list[str] = []
    refused: list[int] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {secret}"}) as c:
            i = 0
            while not stop.is_set():
                ids = [f"c{n}-{i}-{j}" for j in range(1 + i % 3)]
                i += 1
                body = ({"ids": ids, "timestamps": time.time(), "request_ms": 1.0,
                         "columns": {"x1": [0.5] * len(ids), "x2": [-0.5] * len(ids)},
                         "predictions": [1] * len(ids)} if i % 2 else
                        {"request_ms": 1.0, "rows": [
                            {"sample_id": s, "timestamp": time.time(), "prediction": 0,
                             "features": {"x1": 0.1, "x2": 0.2}} for s in ids]})
                try:
                    answer = c.post(f"{base}/deployments/{deployment.id}/predictionLogs",
                                    json=body)
                except httpx.TransportError:
                    continue  # killed mid-request: not answered, so not promised
                (accepted.extend(ids) if answer.status_code == 200
                 else refused.append(answer.status_code))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        _wait_for(lambda: all((spool / f"worker-{k}" / "spool.lock").exists()
                              for k in range(2)), START, "both workers claimed a spool")
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(accepted) > 300, 120, "clients got answers")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the parent and both workers, mid-traffic
        process.wait(30)
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not refused, refused
    process, base = start_serve(*args, new_session=True, timeout=START)
    try:
        _wait_for(lambda: all((spool / f"worker-{k}" / "spool.log").stat().st_size == 0
                              for k in range(2)), 300, "both spools replayed")
        healths = [httpx.get(f"{base}/health", timeout=30).json() for _ in range(6)]
        assert not any(h["replay_failed"] for h in healths), healths
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    assert accepted, "no request was answered 200"
    exported = pd.read_parquet(deployment.export(tmp_path / "rows.parquet",
                                                 start="2020-01-01T00:00Z",
                                                 end="2100-01-01T00:00Z"))
    stored = exported["sample_id"].tolist()
    assert len(stored) == len(set(stored))  # exactly once
    assert set(accepted) <= set(stored), len(set(accepted) - set(stored))
    stats = Deployment.get(deployment.id, url=url).get_service_stats(
        start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert stats.total_predictions == len(stored)
