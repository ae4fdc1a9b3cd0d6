"""Shared pieces of the drop-in client tests: the window, and a day of monitored traffic.

The model and its data are the server tests' (tests/server/server_helpers.py, imported)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import small_model, training_frame  # noqa: E402

from scenarist.deployments import Deployment  # noqa: E402

T0 = pd.Timestamp("2024-05-01T00:00Z")
DAY = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")
__all__ = ["DAY", "T0", "Monitored", "Served", "log_day", "serve_process", "small_model",
           "training_frame"]


@dataclass(frozen=True)
class Monitored:
    url: str
    deployment_id: str  # a day of traffic
    swapped_id: str  # served by the test server with model.joblib; challenger.joblib beside
    folder: Path


@dataclass(frozen=True)
class Served:
    base_url: str
    token: str  # read + ingest, every deployment
    admin: str  # admin, the swapped deployment only


def log_day(deployment: Deployment, rows: int = 300, labelled: int = 200, seed: int = 5
            ) -> None:
    """`rows` predictions of the small model, 4 minutes apart from T0 (one request each 30
    rows), the first `labelled` of them labelled, and one failed request."""
    model = small_model()
    frame = training_frame(rows, seed=seed)
    frame["x1"] += 0.4  # some drift
    pred, proba = model.predict(frame)
    ids = [f"s{i}" for i in range(rows)]
    stamps = T0.timestamp() + np.arange(rows) * 240.0
    for start in range(0, rows, 30):
        part = slice(start, start + 30)
        deployment.log_batch(ids[part], stamps[part], frame[["x1", "x2"]].iloc[part],
                             pred[part], proba[part], request_ms=10.0 + start)
    deployment.log_errors([T0.timestamp() + 600])
    deployment.log_labels(ids[:labelled], frame["y"].iloc[:labelled])


@contextmanager
def serve_process(url: str, *options: str) -> Iterator[str]:
    """`scenarist serve --url url [options]` as a real process on a free port of 127.0.0.1;
    yields its base URL once /health answers, and stops it after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", "--port", str(port),
         "--url", url, *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "scenarist serve did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)
