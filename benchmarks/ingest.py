"""Deployment ingest and query speed on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--features 20]
        [--query-rows 10000000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

1. `log_batch` of `--rows` rows × `--features` float features (string sample ids, binary
   predictions with probabilities, one request time) into a fresh deployment: rows/s of the
   whole call (validation, Parquet partitions, prediction rows, rollups, commit); median and
   best of `--repeat` runs, each into a new deployment.
2. `get_service_stats_over_time` over 7 days, hourly, on a deployment holding `--query-rows`
   logged predictions. These are logged with `log_batch` in calls of 1M rows spread over the 7
   days, without feature data collection (the query reads rollups only, and 10M × 20 features
   of Parquet would only cost disk). Median of 20 runs after one warm-up.

PostgreSQL runs in a schema of its own, dropped at the end; SQLite in a temp folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator
from scenarist.stores.database import dispose_all

START = pd.Timestamp("2024-05-01T00:00Z").timestamp()
WEEK = 7 * 24 * 3600


def make_model(features: list[str]):
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2_000, len(features))), columns=features)
    y = (x.iloc[:, 0] + rng.normal(size=2_000) > 0).astype(int)
    estimator = LogisticRegression().fit(x, y)
    return model_from_estimator(estimator, target="y", type="binary", name="bench"), x


def make_rows(n: int, features: list[str], offset: int, t0: float, span: float, seed: int):
    rng = np.random.default_rng(seed)
    # column by column, as pd.read_parquet / pd.read_csv / a dict of arrays give them: a frame
    # made from one row-major 2-D array has strided columns and costs the Parquet step ~1 s more
    data = pd.DataFrame({f: rng.normal(size=n) for f in features})
    ids = np.char.add("req-", np.arange(offset, offset + n).astype(str)).astype(object)
    ts = t0 + np.sort(rng.random(n)) * span
    proba = rng.random(n)
    return ids, ts, data, (proba > 0.5).astype(int), proba


def bench_backend(name: str, url: str, data_dir: Path, args) -> dict[str, float]:
    features = [f"f{i:02d}" for i in range(args.features)]
    model, reference = make_model(features)
    ids, ts, data, pred, proba = make_rows(args.rows, features, 0, START, 3600 * 24, 1)
    times = []
    for attempt in range(args.repeat):  # a fresh deployment each time, same rows
        dep = Deployment.create(model, f"ingest {name} {attempt}", reference=reference,
                                url=url, data_dir=data_dir)
        started = time.perf_counter()
        dep.log_batch(ids, ts, data, pred, proba, request_ms=250.0)
        times.append(time.perf_counter() - started)
    ingest = statistics.median(times)
    rate = args.rows / ingest
    best = args.rows / min(times)

    query_dep = Deployment.create(model, f"query {name}", url=url, data_dir=data_dir)
    query_dep.update_predictions_data_collection_settings(enabled=False)
    calls = max(1, args.query_rows // 1_000_000)
    per_call = args.query_rows // calls
    load = 0.0
    for call in range(calls):
        ids, ts, data, pred, proba = make_rows(per_call, features, call * per_call,
                                               START + call * WEEK / calls, WEEK / calls, call)
        load_started = time.perf_counter()
        query_dep.log_batch(ids, ts, data, pred, proba, request_ms=rng_ms(call))
        load += time.perf_counter() - load_started
    end = pd.Timestamp(START + WEEK, unit="s", tz="UTC")
    start = end - pd.Timedelta(days=7)
    series = query_dep.get_service_stats_over_time("total_predictions", "PT1H", start, end)
    assert int(series.sum()) == calls * per_call, series.sum()
    timings = []
    for _ in range(20):
        t = time.perf_counter()
        query_dep.get_service_stats_over_time("total_predictions", "PT1H", start, end)
        timings.append(time.perf_counter() - t)
    p90 = []
    for _ in range(5):
        t = time.perf_counter()
        query_dep.get_service_stats_over_time("p90_request_ms", "PT1H", start, end)
        p90.append(time.perf_counter() - t)
    return {"ingest_s": ingest, "rows_per_s": rate, "best_rows_per_s": best, "load_s": load,
            "load_rows_per_s": calls * per_call / load,
            "query_ms": statistics.median(timings) * 1000,
            "query_p90_ms": statistics.median(p90) * 1000}


def rng_ms(call: int) -> float:
    return 50.0 + 10 * call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--query-rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3, help="log_batch runs (median, best)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "sqlite" in args.backends:
            results["sqlite"] = bench_backend("sqlite", f"sqlite:///{folder / 'store.db'}",
                                              folder / "sqlite-data", args)
        if "postgresql" in args.backends:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            base = make_url(args.postgres).set(drivername="postgresql+psycopg")
            admin = create_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = base.update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                results["postgresql"] = bench_backend(
                    "postgresql", url.render_as_string(hide_password=False),
                    folder / "pg-data", args)
            finally:
                dispose_all()
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(f"log_batch: {args.rows:,} rows x {args.features} features; query: "
          f"{args.query_rows:,} predictions over 7 days")
    print("| backend | log_batch s (median) | rows/s (median) | rows/s (best) | query-set load "
          "rows/s (no Parquet) | over_time total_predictions ms | over_time p90_request_ms ms |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['ingest_s']:.2f} | {r['rows_per_s']:,.0f} | "
              f"{r['best_rows_per_s']:,.0f} | "
              f"{r['load_rows_per_s']:,.0f} | {r['query_ms']:.1f} | {r['query_p90_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
