"""HTTP ingest: predictionLogs from 4 concurrent clients, 1-row and 1,000-row bodies.

    python benchmarks/http_ingest.py [--clients 4] [--small 4000] [--large 200] [--url URL]
                                     [--ingest commit|spool]

Creates a deployment (two numeric features, logistic regression) in a temporary SQLite store,
or in the database at --url (PostgreSQL), starts `scenarist serve` as a separate process on
127.0.0.1, and runs `--clients` client processes (httpx, keep-alive), each posting its share
of the requests as fast as answers come back. Rows are stamped with the client's own wall
clock (concurrent producers are never perfectly ordered) and carry the client's request time
(`request_ms`). Prints requests/s, rows/s and rejected (non-200) requests per case, then checks
that the deployment stored every accepted row (after the server's spool, if any, is empty).
Targets (issue 17): ≥ 1,000 requests/s with 1-row bodies, ≥ 100k rows/s with 1,000-row
bodies, 0 rejected.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import numpy as np


def _client(base: str, deployment_id: str, secret: str, tag: str, requests: int,
            rows: int) -> tuple[int, int, float]:
    """(accepted, rejected, seconds) of one client posting `requests` bodies of `rows` rows."""
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    features = rng.normal(size=(rows, 2)).round(4).tolist()
    accepted = rejected = 0
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {secret}"}) as client:
        started = time.perf_counter()
        for i in range(requests):
            now = time.time()
            body = {"request_ms": 2.0, "rows": [
                {"sample_id": f"{tag}-{i}-{j}", "timestamp": now,
                 "features": {"x1": f[0], "x2": f[1]}, "prediction": int(f[0] > f[1]),
                 "probability": 0.5} for j, f in enumerate(features)]}
            answer = client.post(f"{base}/deployments/{deployment_id}/predictionLogs",
                                 json=body)
            if answer.status_code == 200:
                accepted += 1
            else:
                rejected += 1
                if rejected <= 3:
                    print(f"  rejected: {answer.status_code} {answer.text[:200]}",
                          file=sys.stderr)
        return accepted, rejected, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--small", type=int, default=4000, help="1-row requests in all")
    parser.add_argument("--large", type=int, default=200, help="1,000-row requests in all")
    parser.add_argument("--url", help="store database URL (default: a temporary SQLite file)")
    parser.add_argument("--ingest", choices=("commit", "spool"), default="commit",
                        help="scenarist serve --ingest")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    from scenarist.deployments import Deployment
    from scenarist.project.models import model_from_estimator
    from scenarist.server import create_key

    folder = Path(tempfile.mkdtemp(prefix="scenarist-http-ingest-"))
    url = args.url or f"sqlite:///{folder / 'store.db'}"
    rng = np.random.default_rng(1)
    import pandas as pd

    train = pd.DataFrame({"x1": rng.normal(size=500), "x2": rng.normal(size=500)})
    train["y"] = (train.x1 > train.x2).astype(int)
    model = model_from_estimator(LogisticRegression().fit(train[["x1", "x2"]], train["y"]),
                                 target="y", type="binary", name="bench")
    deployment = Deployment.create(model, "http ingest", reference=train, url=url,
                                   data_dir=folder / "data")
    _, secret = create_key("bench", ["ingest", "read"], [deployment.id], url=url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", "--url", url, "--port",
         str(port), "--spool-dir", str(folder / "spool"), "--compact-every", "0",
         "--ingest", args.ingest],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health").raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("scenarist serve did not start") from None
                time.sleep(0.2)
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
              f"{'PostgreSQL' if args.url else 'SQLite'}; {args.clients} client processes; "
              f"--ingest {args.ingest}")
        print(f"{'body':>10} {'requests':>9} {'seconds':>8} {'req/s':>8} {'rows/s':>9} "
              f"{'rejected':>8}")
        accepted_rows = 0
        with ProcessPoolExecutor(args.clients) as pool:
            for rows, total in ((1, args.small), (1000, args.large)):
                share = total // args.clients
                _client(base, deployment.id, secret, f"warm{rows}", 2, rows)
                accepted_rows += 2 * rows
                started = time.perf_counter()
                results = list(pool.map(_client, *zip(*[
                    (base, deployment.id, secret, f"c{rows}-{n}", share, rows)
                    for n in range(args.clients)], strict=True)))
                seconds = time.perf_counter() - started
                accepted = sum(r[0] for r in results)
                rejected = sum(r[1] for r in results)
                accepted_rows += accepted * rows
                print(f"{rows:>6} row {accepted + rejected:>9} {seconds:>8.2f} "
                      f"{(accepted + rejected) / seconds:>8.0f} {accepted * rows / seconds:>9.0f} "
                      f"{rejected:>8}")
        deadline = time.monotonic() + 300
        while httpx.get(f"{base}/health").json()["spooled"]:
            if time.monotonic() > deadline:
                raise SystemExit("the server's spool did not empty within 300 s")
            time.sleep(0.5)
        stored = Deployment.get(deployment.id, url=url).get_service_stats(
            start="2020-01-01T00:00Z", end="2100-01-01T00:00Z").total_predictions
        print(f"stored {stored} rows; accepted {accepted_rows}"
              + ("" if stored == accepted_rows else "  <-- MISMATCH"))
    finally:
        server.terminate()
        server.wait(30)
        if not args.url:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
