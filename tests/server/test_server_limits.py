"""Bodies are bounded: no key → 401 before any body byte is read; a chunked body stops being
read at the limit (413). Issue 16 item 5, against `scenarist serve` as a real process."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import small_model, start_serve

from scenarist.server import ServerOptions, create_app, create_key

GIGABYTE = 2**30
ENDPOINTS = ["predictions", "predictionLogs", "actuals", "monitoringBatches", "model"]
BLOCK = b"[" + b"0," * (2**15 - 1) + b"0"  # 64 KiB of JSON-ish bytes, reused: never 1 GB


@pytest.fixture(scope="module")
def server(store, deployment) -> Iterator[tuple[int, int]]:
    """(port, pid) of `scenarist serve` over the store (ingest endpoints only, 10 MB limit)."""
    url, _ = store
    process, base = start_serve("--url", url, "--max-body-mb", "10")
    try:
        yield int(base.rsplit(":", 1)[1]), process.pid
    finally:
        process.terminate()
        process.wait(10)


def memory_kb(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines)
            if k in ("VmRSS", "VmHWM")}


def chunked_post(port: int, path: str, headers: dict[str, str], total: int
                 ) -> tuple[int, bytes, int]:
    """POST `total` bytes as a chunked body generated on the fly; stops sending once the
    server answers (or resets the connection). (status, response, bytes sent)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    piece = b"%x\r\n" % len(BLOCK) + BLOCK + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     f"application/json\r\nTransfer-Encoding: chunked\r\n{head}\r\n".encode())
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(piece)
                sent += len(BLOCK)
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: its answer is read below
        response = b""
        try:
            while chunk := sock.recv(65536):
                response += chunk
        except ConnectionResetError:
            pass
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0
    return status, response, sent


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "valid-key"])
def test_a_gigabyte_chunked_body_is_never_buffered(server, store, deployment, with_key):
    port, pid = server
    headers = {}
    if with_key:
        secret = create_key("limits", ["ingest"], [deployment.id], url=store[0])[1]
        headers["Authorization"] = f"Bearer {secret}"
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = memory_kb(pid)
    started = time.monotonic()
    status, response, sent = chunked_post(port, f"/deployments/{deployment.id}/predictionLogs",
                                          headers, GIGABYTE)
    elapsed = time.monotonic() - started
    after = memory_kb(pid)
    growth_mb = (after["VmHWM"] - before["VmRSS"]) / 1024
    expected = 413 if with_key else 401
    assert status == expected, response[:500]
    assert (b"the limit is 10485760" if with_key else b"send an API key") in response
    assert growth_mb < 50, f"server RSS grew {growth_mb:.0f} MB for a chunked body"
    assert sent < GIGABYTE / 8, f"the client could send {sent} bytes: the server kept reading"
    print(f"{'valid key' if with_key else 'no key'}: {status} after {sent / 2**20:.1f} MB sent,"
          f" {elapsed:.2f} s, server peak RSS growth {growth_mb:.1f} MB")


def call_asgi(app, path: str, headers: dict[str, str]) -> tuple[dict, int]:
    """POST `path` to the ASGI app with an endless chunked body of 100-byte messages:
    (the response start message, how many body messages the app received)."""
    received = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 80),
             "headers": [(b"transfer-encoding", b"chunked"),
                         (b"content-type", b"application/json"),
                         *((k.lower().encode(), v.encode()) for k, v in headers.items())]}
    asyncio.run(app(scope, receive, send))
    return sent[0], received


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_key_is_checked_before_one_body_byte_is_received(store, deployment, endpoint):
    app = create_app(store[0], ServerOptions(max_body_bytes=1_000))
    path = f"/deployments/{deployment.id}/{endpoint}"
    start, received = call_asgi(app, path, {})
    assert (start["status"], received) == (401, 0)
    assert (b"connection", b"close") in start["headers"]
    reader = create_key("reader", ["read"], [deployment.id], url=store[0])[1]
    start, received = call_asgi(app, path, {"Authorization": f"Bearer {reader}"})
    assert (start["status"], received) == (403, 0)


def test_a_chunked_body_is_read_up_to_the_limit_only(store, deployment):
    app = create_app(store[0], ServerOptions(max_body_bytes=1_000))
    app.state.server.models.serve(deployment, small_model())
    secret = create_key("admin", ["admin"], [deployment.id], url=store[0])[1]
    for endpoint in ENDPOINTS:
        start, received = call_asgi(app, f"/deployments/{deployment.id}/{endpoint}",
                                    {"Authorization": f"Bearer {secret}"})
        assert (start["status"], received) == (413, 11), endpoint  # 1,100 bytes > 1,000
        assert (b"connection", b"close") in start["headers"]
