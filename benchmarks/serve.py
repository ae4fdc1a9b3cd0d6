"""The predictions endpoint: requests/s and p50/p99 latency, monitoring on vs off.

    python benchmarks/serve.py [--requests 1000] [--clients 4] [--rows 1] [--model demo]
                               [--serve-option=--switch-interval-ms=5]

Bounded and loopback only. Creates a deployment in a temporary SQLite store — by default a
logistic regression on the demo's six numeric features (0.3 ms per predict, so the server's own
cost shows); `--model demo` serves the demo's HistGradientBoosting pipeline instead, whose
scikit-learn predict alone takes ~15 ms per single-row call — then starts `scenarist serve` twice
as separate processes on 127.0.0.1, one with monitoring on and one with it off, warms both up,
and measures from this process with httpx keep-alive clients:

    sequential   `--requests` requests to each server, alternating between the two so that
                 machine noise hits both alike: p50, p99 and mean latency
    concurrent   `--clients` threads sending `--requests` requests in all to one server at a
                 time: requests/s

Latency is client-side, request sent to response parsed. With monitoring on, the run ends by
waiting for the queue to drain and checks that every request was logged (none dropped, none
failed). Prints one table and the p50 difference (target: monitoring adds < 1 ms at p50).
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
import threading
import time
from pathlib import Path

import httpx
import joblib
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--model", choices=("logistic", "demo"), default="logistic")
    parser.add_argument("--serve-option", action="append", default=[],
                        help="extra option of scenarist serve, e.g. --serve-option=--port=1"
                        )
    args = parser.parse_args()

    from scenarist.demo.data import (
        FEATURES,
        NUMERIC_FEATURES,
        TARGET,
        generate_quarter,
        train_model,
    )
    from scenarist.deployments import Deployment
    from scenarist.project.models import model_from_estimator
    from scenarist.server import create_key

    folder = Path(tempfile.mkdtemp(prefix="scenarist-serve-bench-"))
    url = f"sqlite:///{folder / 'store.db'}"
    train = generate_quarter("2017Q1", 5_000)
    if args.model == "demo":
        features = list(FEATURES)
        estimator = train_model(train)
    else:
        from sklearn.linear_model import LogisticRegression

        features = list(NUMERIC_FEATURES)
        estimator = LogisticRegression(max_iter=1000).fit(train[features], train[TARGET])
    model = model_from_estimator(estimator, target=TARGET, type="binary", name=args.model)
    deployment = Deployment.create(model, "bench", reference=train[[*features, TARGET]], url=url,
                                   data_dir=folder / "data")
    joblib.dump(estimator, folder / "model.joblib")
    _, secret = create_key("bench", ["predict", "read"], [deployment.id], url=url)
    batch = generate_quarter("2017Q2", 1_000)[features]
    bodies = [batch.iloc[i:i + args.rows].to_dict(orient="records")
              for i in range(0, len(batch) - args.rows, max(args.rows, 1))]

    print(f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.requests} requests of {args.rows} row(s), {args.clients} concurrent clients, "
          f"model {args.model}, serve options {args.serve_option or 'default'}")
    servers = {monitoring: start(folder, url, deployment.id, args, monitoring)
               for monitoring in (True, False)}
    try:
        results = measure(servers, deployment.id, secret, bodies, args)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print("| monitoring | p50 ms | p99 ms | mean ms | requests/s (sequential) | "
          f"requests/s ({args.clients} clients) |")
    print("|---|---|---|---|---|---|")
    for monitoring, r in results.items():
        print(f"| {'on' if monitoring else 'off'} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['mean']:.2f} | {r['seq_rps']:.0f} | {r['rps']:.0f} |")
    delta = results[True]["p50"] - results[False]["p50"]
    print(f"\nmonitoring adds {delta:+.3f} ms at p50 "
          f"({'meets' if delta < 1 else 'misses'} the < 1 ms target)")


def start(folder: Path, url: str, deployment_id: str, args, monitoring: bool
          ) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "scenarist"), "serve", "--url", url,
               "--model", f"{deployment_id}={folder / 'model.joblib'}", "--port", str(port),
               "--monitoring" if monitoring else "--no-monitoring", *args.serve_option]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(base, process)
    return process, base


def measure(servers: dict[bool, tuple[subprocess.Popen, str]], deployment_id: str,
            secret: str, bodies: list, args) -> dict[bool, dict[str, float]]:
    """Sequential requests alternate between the two servers (so machine noise hits both
    alike); then each server alone gets the concurrent load."""
    headers = {"Authorization": f"Bearer {secret}"}
    endpoints = {m: f"{base}/deployments/{deployment_id}/predictions"
                 for m, (_, base) in servers.items()}
    latencies: dict[bool, list[float]] = {True: [], False: []}
    spent = {True: 0.0, False: 0.0}
    with httpx.Client(headers=headers, timeout=30) as client:
        for body in bodies[:200]:  # warm-up
            for endpoint in endpoints.values():
                client.post(endpoint, json=body).raise_for_status()
        for i in range(args.requests):
            for monitoring in ((True, False) if i % 2 else (False, True)):
                t0 = time.perf_counter()
                client.post(endpoints[monitoring], json=bodies[i % len(bodies)]
                            ).raise_for_status()
                latencies[monitoring].append((time.perf_counter() - t0) * 1000)
                spent[monitoring] += time.perf_counter() - t0
    results = {}
    for monitoring, endpoint in endpoints.items():
        values = np.array(latencies[monitoring])
        results[monitoring] = {
            "p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)),
            "mean": float(values.mean()), "seq_rps": args.requests / spent[monitoring],
            "rps": _concurrent(endpoint, headers, bodies, args)}
    _check_monitored(servers[True][1], deployment_id, headers, 200 + 2 * args.requests)
    return results


def _concurrent(endpoint: str, headers: dict, bodies: list, args) -> float:
    share = args.requests // args.clients

    def work(offset: int) -> None:
        with httpx.Client(headers=headers, timeout=30) as client:
            for i in range(share):
                client.post(endpoint, json=bodies[(offset + i) % len(bodies)]
                            ).raise_for_status()

    threads = [threading.Thread(target=work, args=(k * share,)) for k in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return share * args.clients / (time.perf_counter() - started)


def _check_monitored(base: str, deployment_id: str, headers: dict, sent: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        queue = httpx.get(f"{base}/health").json()["queue"]
        done = queue["logged_requests"] + queue["logged_errors"] + queue["failed_records"]
        if done >= queue["queued"]:
            break
        time.sleep(0.2)
    stats = httpx.get(f"{base}/deployments/{deployment_id}/serviceStats", headers=headers).json()
    print(f"monitoring on: {stats['total_requests']} requests logged ({sent} sent), queue "
          f"dropped {queue['dropped']}, failed {queue['failed_records']}, "
          f"flushes {queue['flushes']}")


def _wait(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("scenarist serve exited")
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("scenarist serve did not start within 60 s")


if __name__ == "__main__":
    main()
