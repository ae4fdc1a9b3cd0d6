"""Names and helpers the console tests import (a uniquely named module: `from conftest import`
resolves to whichever conftest.py was imported first in a whole-suite run)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

API_STORE = "api_store"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def scenarist_running(*arguments: str, port: int, env: dict[str, str] | None = None,
                      cwd: Path | None = None) -> Iterator[str]:
    """`scenarist ARGUMENTS…` as a real subprocess listening on 127.0.0.1:`port` (waited for,
    90 s at most); its base URL; terminated on exit."""
    command = [str(Path(sys.executable).parent / "scenarist"), *arguments, "--port", str(port)]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"{' '.join(arguments)} exited with {process.returncode}: "
                            f"{process.stdout.read()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"scenarist {arguments[0]} did not listen within 90 s")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
