"""Shared pieces of the server tests: a small model, a deployment, a real uvicorn server.

The server runs for real on 127.0.0.1 (a random free port) in a thread; tests talk to it with
httpx. One store per test module and backend keeps the suite fast. `start_serve` runs
`scenarist serve` as a real process instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.project.models import LoadedModel, model_from_estimator
from scenarist.server import ServerOptions, create_app

FEATURES = ["x1", "x2"]


def training_frame(n: int = 400, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (2 * x1 - x2 + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y})


def small_model(name: str = "small", c: float = 1.0, seed: int = 2) -> LoadedModel:
    frame = training_frame(seed=seed)
    estimator = LogisticRegression(C=c).fit(frame[FEATURES], frame["y"])
    return model_from_estimator(estimator, target="y", type="binary", name=name)


class RunningServer:
    """uvicorn serving `app` on 127.0.0.1 in a thread, until `stop()`."""

    def __init__(self, app: FastAPI):
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                                     access_log=False))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()

    @property
    def state(self):
        return self.app.state.server


def serve(url: str, deployments: dict[str, LoadedModel], **options) -> RunningServer:
    app = create_app(url, ServerOptions(**options))
    for deployment_id, model in deployments.items():
        app.state.server.models.serve(Deployment.get(deployment_id, url=url), model)
    return RunningServer(app).start()


def start_serve(*args: str, new_session: bool = False, timeout: float = 60
                ) -> tuple[subprocess.Popen, str]:
    """`scenarist serve ARGS --port <free port>` as a process, once /health answers:
    (process, base URL). The caller terminates it. `new_session`: its own process group
    (kill it with os.killpg, workers included)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=new_session)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"scenarist serve exited: {process.stdout.read().decode()}")
        if time.monotonic() > deadline:
            if new_session:
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
            raise RuntimeError(f"scenarist serve did not start within {timeout:g} s")
        time.sleep(0.1)
