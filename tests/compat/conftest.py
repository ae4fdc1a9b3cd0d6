"""Fixtures of the drop-in client tests: a store with a monitored deployment, and a real
`scenarist serve` process on it (127.0.0.1, a free port) with an API key."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from compat_helpers import Monitored, Served, log_day, small_model, training_frame

from scenarist.deployments import Deployment
from scenarist.server.keys import create_key


@pytest.fixture(scope="session")
def monitored(tmp_path_factory) -> Monitored:
    folder = tmp_path_factory.mktemp("compat-store")
    url = f"sqlite:///{folder / 'store.db'}"
    deployment = Deployment.create(small_model(), "Small v1", reference=training_frame(),
                                   url=url)
    log_day(deployment)
    return Monitored(url, deployment.id)


@pytest.fixture(scope="session")
def served(monitored) -> Served:
    """`scenarist serve --url <the store>` as a real process, and a read + ingest key."""
    _key, token = create_key("compat", ["read", "ingest"], ["*"], url=monitored.url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", "--port", str(port),
         "--url", monitored.url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "scenarist serve did not start"
            time.sleep(0.1)
        yield Served(base, token)
    finally:
        process.terminate()
        process.wait(10)
