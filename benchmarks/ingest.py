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

3. Small calls (`--sections small`): per-call time of `log_batch` with 1, 10 and 100 rows
   (`--small-features` features, one request time), median of `--small-calls` calls after 10
   warm-up calls, each size into a fresh deployment; wall clock and client CPU
   (`time.process_time`) per call.
4. Drift after compaction (`--sections drift`): `get_feature_drift` over 20,000 rows (~9 hours)
   logged as 2,000 calls of 10 rows and compacted (`Deployment.compact`), against the same rows
   logged in one call; median of 3 queries each. Also the query before compaction.
5. A simulated day (`--sections day`, SQLite only): one flush per second for `--day-seconds`
   seconds (86,400: a day), each a real 1-row `log_batch` call (validation, prediction row,
   rollups, its rows kept inline in its file record, one commit), after 6 earlier days logged
   as one 3,600-row call per hour (Parquet files); then `compact` (timed) must leave ≤ 24 files
   per batch for the day, and a 7-day `get_feature_drift` (timed: the first call, then the
   median of 3) must stay under 2 s.

Every section prints the load average (`os.getloadavg()`) at its start and end: figures taken
on a busy machine are not comparable with quiet ones.

PostgreSQL runs in a schema of its own, dropped at the end; SQLite in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
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


def loads() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def bench_small(name: str, url: str, data_dir: Path, args) -> dict[str, float]:
    """Median ms per log_batch call of 1, 10 and 100 rows."""
    features = [f"f{i:02d}" for i in range(args.small_features)]
    model, reference = make_model(features)
    result: dict[str, float | str] = {"small_load_start": loads()}
    for rows in (1, 10, 100):
        dep = Deployment.create(model, f"small {name} {rows}", reference=reference, url=url,
                                data_dir=data_dir)
        calls = args.small_calls + 10
        ids, ts, data, pred, proba = make_rows(rows * calls, features, 0, START, 3600 * 4, rows)
        times, cpu = [], []
        for call in range(calls):
            part = slice(call * rows, (call + 1) * rows)
            frame = data.iloc[part].reset_index(drop=True)
            started, started_cpu = time.perf_counter(), time.process_time()
            dep.log_batch(ids[part], ts[part], frame, pred[part], proba[part], request_ms=5.0)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        result[f"call_ms_{rows}"] = statistics.median(times[10:]) * 1000
        result[f"cpu_ms_{rows}"] = statistics.median(cpu[10:]) * 1000
    result["small_load_end"] = loads()
    return result


def bench_drift(name: str, url: str, data_dir: Path, args) -> dict[str, float]:
    """Drift over 20,000 rows: 2,000 calls of 10 (before/after compaction) vs one call."""
    features = [f"f{i:02d}" for i in range(args.small_features)]
    model, reference = make_model(features)
    ids, ts, data, pred, proba = make_rows(20_000, features, 0, START, 9 * 3600, 7)
    end = pd.Timestamp(START + 10 * 3600, unit="s", tz="UTC")
    window = (end - pd.Timedelta(hours=10), end)

    def query(dep: Deployment) -> float:
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            dep.get_feature_drift(*window)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)

    load_start = loads()
    one = Deployment.create(model, f"drift one {name}", reference=reference, url=url,
                            data_dir=data_dir)
    one.log_batch(ids, ts, data, pred, proba, request_ms=5.0)
    many = Deployment.create(model, f"drift many {name}", reference=reference, url=url,
                             data_dir=data_dir)
    started = time.perf_counter()
    for call in range(2_000):
        part = slice(call * 10, call * 10 + 10)
        many.log_batch(ids[part], ts[part], data.iloc[part].reset_index(drop=True), pred[part],
                       proba[part], request_ms=5.0)
    logged = time.perf_counter() - started
    before = query(many)
    started = time.perf_counter()
    compacted = many.compact(older_than=0)
    compact_s = time.perf_counter() - started
    files = len(many.files.listed(0, 2 ** 31 - 1, None))
    return {"one_call_s": query(one), "many_before_s": before, "many_after_s": query(many),
            "many_log_s": logged, "compact_s": compact_s, "files_after": files,
            "files_before": compacted.files_retired, "drift_load_start": load_start,
            "drift_load_end": loads()}


def bench_day(url: str, data_dir: Path, args) -> dict[str, float]:
    """A simulated day of one flush per second, then compaction and a 7-day drift query."""
    features = [f"f{i:02d}" for i in range(args.small_features)]
    model, reference = make_model(features)
    load_start = loads()
    dep = Deployment.create(model, "day", reference=reference, url=url, data_dir=data_dir)
    day_end = (time.time() // 3600 - 1) * 3600  # the simulated day ends an hour ago
    day_start = day_end - args.day_seconds
    earlier = day_start - 6 * 86_400
    for hour in range(6 * 24):  # 6 earlier days, one 3,600-row call (a Parquet file) per hour
        ids, ts, data, pred, proba = make_rows(3_600, features, hour * 3_600,
                                               earlier + hour * 3_600, 3_600, hour)
        dep.log_batch(ids, ts, data, pred, proba, request_ms=5.0)
    n = args.day_seconds
    ids, _, data, pred, proba = make_rows(n, features, 10 ** 9, 0, 1, 99)
    ts = day_start + np.arange(n, dtype=np.float64)
    columns = {f: data[f].to_numpy() for f in features}
    times = np.empty(n)
    started = time.perf_counter()
    for second in range(n):  # one flush per second: a 1-row frame, as a server's flush gives
        part = slice(second, second + 1)
        frame = pd.DataFrame({f: values[part] for f, values in columns.items()})
        began = time.perf_counter()
        dep.log_batch(ids[part], ts[part], frame, pred[part], proba[part], request_ms=5.0)
        times[second] = time.perf_counter() - began
        if args.progress and second and second % 10_000 == 0:
            print(f"  {second:,} calls, {time.perf_counter() - started:.0f} s, load {loads()}",
                  flush=True)
    write_s = time.perf_counter() - started
    load_written = loads()
    files = dep.files
    live_before = len(files.listed(int(day_start // 3600), int(day_end // 3600), None))
    started = time.perf_counter()
    compacted = dep.compact(older_than=0)
    compact_s = time.perf_counter() - started
    listed = files.listed(int(day_start // 3600), int(day_end // 3600), None)
    per_batch = max(Counter(r.batch for r in listed).values(), default=0)
    window = (pd.Timestamp(day_end - 7 * 86_400, unit="s", tz="UTC").ceil("h"),
              pd.Timestamp(day_end, unit="s", tz="UTC"))
    all_files = len(files.listed(int(window[0].timestamp() // 3600),
                                 int(day_end // 3600), None))
    drifts, cpu = [], []
    for _ in range(4):  # the first call, then 3 more (median)
        started, started_cpu = time.perf_counter(), time.process_time()
        dep.get_feature_drift(*window)
        drifts.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    rows = dep.get_service_stats(*window).total_predictions
    return {"calls": n, "write_s": write_s, "call_ms_median": float(np.median(times)) * 1000,
            "call_ms_p99": float(np.quantile(times, 0.99)) * 1000,
            "compact_s": compact_s, "day_records_before": live_before,
            "merged_from": compacted.files_retired, "day_files": len(listed),
            "day_files_per_batch": per_batch, "files_7d": all_files,
            "drift_7d_first_s": drifts[0], "drift_7d_s": statistics.median(drifts[1:]),
            "drift_7d_cpu_s": statistics.median(cpu[1:]),
            "rows_7d": rows, "day_load_start": load_start, "day_load_written": load_written,
            "day_load_end": loads()}


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
    parser.add_argument("--sections", nargs="+", default=["large", "small", "drift", "day"])
    parser.add_argument("--small-features", type=int, default=10)
    parser.add_argument("--small-calls", type=int, default=200)
    parser.add_argument("--day-seconds", type=int, default=86_400)
    parser.add_argument("--progress", action="store_true",
                        help="print the day's progress every 10,000 calls")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "sqlite" in args.backends:
            results["sqlite"] = run_sections("sqlite", f"sqlite:///{folder / 'store.db'}",
                                             folder / "sqlite-data", args)
        if "postgresql" in args.backends:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            base = make_url(args.postgres).set(drivername="postgresql+psycopg")
            admin = create_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = base.update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                results["postgresql"] = run_sections(
                    "postgresql", url.render_as_string(hide_password=False),
                    folder / "pg-data", args)
            finally:
                dispose_all()
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        report(results, args)  # before the temp folder's cleanup (86,400 files take a while)
    return 0


def run_sections(name: str, url: str, data_dir: Path, args) -> dict[str, float]:
    result: dict[str, float] = {}
    if "large" in args.sections:
        result.update(bench_backend(name, url, data_dir, args))
    if "small" in args.sections:
        result.update(bench_small(name, url, data_dir, args))
    if "drift" in args.sections:
        result.update(bench_drift(name, url, data_dir, args))
    if "day" in args.sections and name == "sqlite":
        result.update(bench_day(url, data_dir, args))
    return result


def report(results: dict[str, dict[str, float]], args) -> None:
    if "large" in args.sections:
        print(f"log_batch: {args.rows:,} rows x {args.features} features; query: "
              f"{args.query_rows:,} predictions over 7 days")
        print("| backend | log_batch s (median) | rows/s (median) | rows/s (best) | query-set "
              "load rows/s (no Parquet) | over_time total_predictions ms | over_time "
              "p90_request_ms ms |")
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['ingest_s']:.2f} | {r['rows_per_s']:,.0f} | "
                  f"{r['best_rows_per_s']:,.0f} | {r['load_rows_per_s']:,.0f} | "
                  f"{r['query_ms']:.1f} | {r['query_p90_ms']:.1f} |")
    if "small" in args.sections:
        print(f"\nsmall log_batch calls ({args.small_features} features; median of "
              f"{args.small_calls} calls)")
        print("| backend | 1 row ms | 10 rows ms | 100 rows ms | client CPU ms: 1 / 10 / 100 "
              "| load average (1/5/15 min) start -> end |")
        print("|---|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['call_ms_1']:.1f} | {r['call_ms_10']:.1f} | "
                  f"{r['call_ms_100']:.1f} | {r['cpu_ms_1']:.1f} / {r['cpu_ms_10']:.1f} / "
                  f"{r['cpu_ms_100']:.1f} | {r['small_load_start']} -> "
                  f"{r['small_load_end']} |")
    if "drift" in args.sections:
        print("\nget_feature_drift over 20,000 rows (~9 h): 1 call vs 2,000 calls of 10")
        print("| backend | 1 call s | 2,000 calls s (records) | compact s | compacted s (files) "
              "| compacted / 1 call | logging 2,000 calls s | load start -> end |")
        print("|---|---|---|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['one_call_s']:.3f} | {r['many_before_s']:.3f} "
                  f"({r['files_before']:.0f}) | {r['compact_s']:.2f} | {r['many_after_s']:.3f} "
                  f"({r['files_after']:.0f}) | {r['many_after_s'] / r['one_call_s']:.2f}x | "
                  f"{r['many_log_s']:.1f} | {r['drift_load_start']} -> "
                  f"{r['drift_load_end']} |")
    if "day" in args.sections and "sqlite" in results:
        r = results["sqlite"]
        print(f"\nsimulated day (SQLite): {r['calls']:,.0f} one-row log_batch calls in "
              f"{r['write_s']:.0f} s (median {r['call_ms_median']:.1f} ms, p99 "
              f"{r['call_ms_p99']:.1f} ms a call); compact {r['compact_s']:.1f} s: "
              f"{r['merged_from']:,.0f} records/files merged, {r['day_records_before']:,.0f} -> "
              f"{r['day_files']:.0f} files for the day (at most {r['day_files_per_batch']:.0f} "
              f"per batch); 7-day get_feature_drift over {r['rows_7d']:,.0f} rows in "
              f"{r['files_7d']:.0f} files: {r['drift_7d_first_s']:.2f} s first call, "
              f"{r['drift_7d_s']:.2f} s median of 3 after (client CPU {r['drift_7d_cpu_s']:.2f} s, "
              f"on up to 2 threads); load {r['day_load_start']} (start) "
              f"-> {r['day_load_written']} (written) -> {r['day_load_end']} (end)")


if __name__ == "__main__":
    sys.exit(main())
