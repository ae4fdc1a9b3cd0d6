"""Server time of every console page on a large store and a deployment with many predictions.

    python benchmarks/console.py [--evaluations 1000] [--features 50] [--predictions 400000]
                                 [--runs 7] [--dir DIR] [--pages what-if ...]

Builds, in a temporary folder (or DIR, reused when it already holds the data):
- the fraud example project (300 rows per quarter) whose store `the_MES` gets `--evaluations`
  evaluations × `--features` features of generated metrics, written with
  `EvaluationStore.record` (dataset-level metrics with 95% intervals, six per-feature metrics,
  stored histograms), and the results of its two checks on every evaluation;
- a deployment with `--predictions` logged predictions (`Deployment.log_batch`, 30 days) and
  labels for a tenth of them.
Then renders every console page `--runs` times with a TestClient and prints the median and
minimum server time per page (measured inside the app, around the route) against the 300 ms
target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import numpy as np

TARGET_MS = 300.0
DATASET_METRICS = ("data_drift", "drift_share", "auc", "accuracy", "f1", "logloss",
                   "prediction_drift", "missing_share")
PER_FEATURE = ("feature_drift", "drifted", "ks_pvalue", "wasserstein", "drift_model_importance",
               "missing_share")


def build_store(root: Path, evaluations: int, features: int) -> None:
    from scenarist.checks.registry import evaluate_check
    from scenarist.metrics.evaluation import ComputedEvaluation
    from scenarist.metrics.values import MetricValue
    from scenarist.operations.build import open_store
    from scenarist.operations.checking import store_engine
    from scenarist.project.config import load_project
    from scenarist.stores.check_results import record_results

    project = load_project(root)
    store = open_store(project, "the_MES")
    rng = np.random.default_rng(0)
    names = [f"feature_{i:02d}" for i in range(features)]
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    results = []
    for number in range(evaluations):
        values = []
        for metric in DATASET_METRICS:
            value = float(rng.uniform(0.0, 1.0))
            values += [MetricValue(metric, value), MetricValue(f"{metric}.lower", value * 0.9),
                       MetricValue(f"{metric}.upper", min(1.0, value * 1.1))]
        for name in names:
            drift = float(rng.uniform(0.0, 0.3))
            values += [MetricValue("feature_drift", drift, feature=name),
                       MetricValue("drifted", float(drift > 0.1), feature=name),
                       MetricValue("ks_pvalue", float(rng.uniform()), feature=name),
                       MetricValue("wasserstein", drift, feature=name),
                       MetricValue("drift_model_importance", float(rng.uniform()), feature=name),
                       MetricValue("missing_share", 0.0, feature=name)]
        details = {"drift_methods": dict.fromkeys(names, "wasserstein"),
                   "column_kinds": dict.fromkeys(names, "numeric"),
                   "drift_thresholds": dict.fromkeys(names, 0.1),
                   "histograms": {n: {"bins": [f"b{i}" for i in range(10)],
                                      "reference": [100] * 10,
                                      "current": rng.integers(50, 150, 10).tolist()}
                                  for n in names}}
        label = f"E{number:04d}"
        moment = start + timedelta(days=number)
        evaluation = store.record(label, ComputedEvaluation(values, 10_000, 10_000, details),
                                  model="fraud_model", time_range=(moment, moment))
        results += [evaluate_check(name, spec, evaluation) for name, spec in
                    project.checks.items() if spec.store == "the_MES"]
    record_results(store_engine(project, "the_MES"), results, store="the_MES")


def build_deployment(url: str, data_dir: Path, predictions: int) -> str:
    from scenarist.demo.data import TARGET, generate_quarter, train_model
    from scenarist.deployments import Deployment
    from scenarist.project.models import model_from_estimator

    train = generate_quarter("2017Q1", 2_000)
    model = model_from_estimator(train_model(train), target=TARGET, type="binary",
                                 name="fraud_model")
    deployment = Deployment.create(model, "Fraud (benchmark)", reference=train, url=url,
                                   data_dir=data_dir)
    chunk = 200_000
    rows = generate_quarter("2017Q4", chunk)
    features = rows[list(model.features)]
    labels, probabilities = model.predict(rows)
    now = datetime.now(timezone.utc).timestamp()
    for first in range(0, predictions, chunk):
        size = min(chunk, predictions - first)
        ids = [f"p{first + i}" for i in range(size)]
        stamps = now - 30 * 86400 + (first + np.arange(size)) * (30 * 86400 / predictions)
        deployment.log_batch(ids, stamps, features.iloc[:size], labels[:size],
                             probabilities[:size])
        deployment.log_labels(ids[::10], rows[TARGET].to_numpy()[:size:10])
    return deployment.id


def pages(deployment_id: str, latest: str) -> dict[str, str]:
    check = quote("data drift < 0.45")
    return {
        "/": "/", "/stores": "/stores", "/stores/{store}": "/stores/the_MES",
        "/stores/{store}/evaluations/{label}": f"/stores/the_MES/evaluations/{latest}",
        "/checks": "/checks", "/checks/{check}": f"/checks/{check}",
        "/checks/{check} what-if": f"/checks/{check}?whatif=1&soft_max=0.2&hard_max=0.9",
        "/runs": "/runs", "/scenarios": "/scenarios", "/alerts": "/alerts",
        "/deployments": "/deployments", "/deployments/{id}": f"/deployments/{deployment_id}",
    }


def measure(project: Path, url: str, deployment_id: str, runs: int,
            only: list[str] | None = None) -> None:
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    app = create_console(project, deployments_url=url)
    timings: list[float] = []

    @app.middleware("http")
    async def timed(request, call_next):
        began = time.perf_counter()
        response = await call_next(request)
        timings.append((time.perf_counter() - began) * 1000)
        return response

    client = TestClient(app)
    from scenarist.operations.build import open_store
    from scenarist.project.config import load_project

    latest = open_store(load_project(project), "the_MES").labels()[-1]
    print(f"{'page':40} {'median ms':>10} {'min ms':>8}  vs {TARGET_MS:.0f} ms")
    for name, path in pages(deployment_id, latest).items():
        if only and not any(word in name for word in only):
            continue
        status = client.get(path).status_code  # warm-up (imports, caches)
        samples = []
        for _ in range(runs):
            timings.clear()
            client.get(path)
            samples.append(timings[-1])
        median = statistics.median(samples)
        verdict = "ok" if median < TARGET_MS else "SLOW"
        print(f"{name:40} {median:10.1f} {min(samples):8.1f}  {verdict}"
              + ("" if status == 200 else f" (HTTP {status})"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=1_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--predictions", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--pages", nargs="*", default=None,
                        help="only the pages whose name contains one of these (e.g. what-if)")
    args = parser.parse_args()

    from scenarist.demo.project import write_example

    folder = args.dir or Path(tempfile.mkdtemp(prefix="scenarist-console-bench-"))
    project = folder / "project"
    url = f"sqlite:///{folder / 'deployments.db'}"
    marker = folder / "deployment-id"
    if not marker.exists():
        began = time.perf_counter()
        write_example(project, rows=300)
        build_store(project, args.evaluations, args.features)
        print(f"store: {args.evaluations} evaluations × {args.features} features written in "
              f"{time.perf_counter() - began:.0f} s", file=sys.stderr)
        began = time.perf_counter()
        marker.write_text(build_deployment(url, folder / "data", args.predictions))
        print(f"deployment: {args.predictions:,} predictions logged in "
              f"{time.perf_counter() - began:.0f} s", file=sys.stderr)
    measure(project, url, marker.read_text(), args.runs, args.pages)


if __name__ == "__main__":
    main()
