"""HTTP ingest: predictionLogs from 4 concurrent clients, 1-row and 1,000-row bodies.

    python benchmarks/http_ingest.py [--clients 4] [--small 4000] [--large 200]
                                     [--ingest spool|commit] [--workers 1]
                                     [--forms rows,columns] [--health N] [--url URL]

Creates a deployment (two numeric features, logistic regression) in a temporary SQLite store,
or in the database at --url (PostgreSQL), starts `scenarist serve` as a separate process on
127.0.0.1 (`--ingest`, `--workers`), and measures it with `--clients` concurrent clients.

"4 concurrent clients" means 4 client processes, each with one keep-alive HTTP/1.1 connection
(the standard library's http.client: the cheapest client, so the 2 cores go to the server)
and one request in flight at a time: a client posts, waits for the answer, posts the next. Each
body is encoded just before it is sent (orjson) with the client's wall clock as every row's
timestamp — concurrent producers are never perfectly ordered — and carries `request_ms`.

Cases, each run for both body forms of `--forms` (rows: {"rows": [{…}, …]}; columns:
{"ids": […], "columns": {…}, …}):

    health   GET /health from the same clients: the HTTP floor of this machine right now
             (the reference the ingest figures are compared with in the same run)
    1 row    `--small` requests in all
    1000 row `--large` requests in all

For each: requests/s and rows/s while posting, rejected (non-200) requests, then the seconds
until the server's spools (every worker's spool.log) are empty — with `--ingest spool` the
answer comes once the rows are fsync'd in the spool, and they are stored behind — and `stored
rows/s`, the rows over the time until they were all stored. The run ends by checking that the
deployment stored every accepted row exactly once (service stats total = accepted rows; sample
ids are unique per request, so a row stored twice would be refused or over-counted). Prints the
load average before and after. Targets (issue 17): ≥ 1,000 requests/s with 1-row bodies,
≥ 100k rows/s with 1,000-row bodies, 0 rejected.
"""

from __future__ import annotations

import argparse
import http.client
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
import orjson


def _body(form: str, tag: str, i: int, rows: int, features: np.ndarray) -> bytes:
    now = time.time()
    if form == "columns":
        return orjson.dumps({
            "ids": [f"{tag}-{i}-{j}" for j in range(rows)], "timestamps": [now] * rows,
            "columns": {"x1": features[:, 0].tolist(), "x2": features[:, 1].tolist()},
            "predictions": (features[:, 0] > features[:, 1]).astype(int).tolist(),
            "probabilities": [0.5] * rows, "request_ms": 2.0})
    return orjson.dumps({"request_ms": 2.0, "rows": [
        {"sample_id": f"{tag}-{i}-{j}", "timestamp": now, "features": {"x1": a, "x2": b},
         "prediction": int(a > b), "probability": 0.5}
        for j, (a, b) in enumerate(features.tolist())]})


def _client(port: int, path: str, secret: str, tag: str, requests: int, rows: int,
            form: str) -> tuple[int, int, float]:
    """(accepted, rejected, seconds) of one client sending `requests` requests; rows 0 is
    GET `path`, else POST of `rows`-row predictionLogs bodies."""
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    features = rng.normal(size=(max(rows, 1), 2)).round(4)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    accepted = rejected = 0
    started = time.perf_counter()
    try:
        for i in range(requests):
            if rows:
                conn.request("POST", path, _body(form, tag, i, rows, features), headers)
            else:
                conn.request("GET", path)
            answer = conn.getresponse()
            text = answer.read()
            if answer.status == 200:
                accepted += 1
            else:
                rejected += 1
                if rejected <= 3:
                    print(f"  rejected: {answer.status} {text[:200]!r}", file=sys.stderr)
    finally:
        conn.close()
    return accepted, rejected, time.perf_counter() - started


def _spooled(spool: Path) -> int:
    """Bytes pending in the server's spools (every worker's: /health answers for one worker;
    a spool log is truncated to 0 once all of it is stored)."""
    return sum(log.stat().st_size for log in spool.rglob("spool.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--small", type=int, default=4000, help="1-row requests per form")
    parser.add_argument("--large", type=int, default=200, help="1,000-row requests per form")
    parser.add_argument("--health", type=int, help="GET /health requests (default --small)")
    parser.add_argument("--url", help="store database URL (default: a temporary SQLite file)")
    parser.add_argument("--ingest", choices=("commit", "spool"), default="spool",
                        help="scenarist serve --ingest")
    parser.add_argument("--workers", type=int, default=1, help="scenarist serve --workers")
    parser.add_argument("--forms", default="rows,columns",
                        help="body forms to measure, comma-separated: rows, columns")
    args = parser.parse_args()
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    if not set(forms) <= {"rows", "columns"}:
        raise SystemExit(f"--forms {args.forms!r}: use rows and/or columns")

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from scenarist.deployments import Deployment
    from scenarist.project.models import model_from_estimator
    from scenarist.server import create_key

    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="scenarist-http-ingest-"))
    url = args.url or f"sqlite:///{folder / 'store.db'}"
    rng = np.random.default_rng(1)
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
    path = f"/deployments/{deployment.id}/predictionLogs"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", "--url", url, "--port",
         str(port), "--spool-dir", str(folder / "spool"), "--compact-every", "0",
         "--ingest", args.ingest,
         *(["--workers", str(args.workers)] if args.workers != 1 else [])],
        stdout=subprocess.DEVNULL, stderr=open(folder / "serve.log", "wb"))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health").raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    log = (folder / "serve.log").read_text()[-2000:]
                    raise SystemExit(f"scenarist serve did not start:\n{log}") from None
                time.sleep(0.2)
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
              f"{'PostgreSQL' if args.url else 'SQLite'}; {args.clients} client processes "
              f"(one keep-alive connection each); scenarist serve --ingest {args.ingest} "
              f"--workers {args.workers}")
        print("load average before: " + " ".join(f"{x:.2f}" for x in load_before))
        print(f"{'case':>16} {'requests':>9} {'seconds':>8} {'req/s':>8} {'rows/s':>9} "
              f"{'rejected':>8} {'drain s':>8} {'stored rows/s':>14}")
        accepted_rows = 0
        health = args.small if args.health is None else args.health
        cases = [("health", 0, health, "-")] + [
            (f"{rows} row {form}", rows, total, form)
            for rows, total in ((1, args.small), (1000, args.large)) for form in forms]
        with ProcessPoolExecutor(args.clients) as pool:
            for name, rows, total, form in cases:
                share = total // args.clients
                target = path if rows else "/health"
                warm = list(pool.map(_client, *zip(*[  # connections, imports, first calls
                    (port, target, secret, f"warm-{name}-{n}", 2, rows, form)
                    for n in range(args.clients)], strict=True)))
                accepted_rows += sum(w[0] for w in warm) * rows
                started = time.perf_counter()
                results = list(pool.map(_client, *zip(*[
                    (port, target, secret, f"{name}-{n}", share, rows, form)
                    for n in range(args.clients)], strict=True)))
                seconds = time.perf_counter() - started
                accepted = sum(r[0] for r in results)
                rejected = sum(r[1] for r in results)
                accepted_rows += accepted * rows
                drained = time.perf_counter()
                while rows and _spooled(folder / "spool"):
                    if time.perf_counter() - drained > 600:
                        raise SystemExit("the server's spool did not empty within 600 s")
                    time.sleep(0.05)
                drain = time.perf_counter() - drained
                stored = (f"{accepted * rows / (seconds + drain):>14.0f}" if rows
                          else f"{'-':>14}")
                print(f"{name:>16} {accepted + rejected:>9} {seconds:>8.2f} "
                      f"{(accepted + rejected) / seconds:>8.0f} "
                      f"{accepted * rows / seconds:>9.0f} {rejected:>8} "
                      f"{drain if rows else 0:>8.2f} {stored}", flush=True)
        stored = Deployment.get(deployment.id, url=url).get_service_stats(
            start="2020-01-01T00:00Z", end="2100-01-01T00:00Z").total_predictions
        print(f"stored {stored} rows; accepted {accepted_rows}"
              + ("" if stored == accepted_rows else "  <-- MISMATCH"))
        print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        server.terminate()
        server.wait(30)
        if not args.url:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
