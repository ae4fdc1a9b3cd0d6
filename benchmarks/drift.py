"""Per-feature drift: scenarist's `feature_drift` against Evidently 0.7's DataDriftPreset.

    python benchmarks/drift.py [--rows 100000 1000000] [--seed 0] [--tied] [--per-column]

For each row count, generates a reference and a current batch of that many rows × 25 columns
(20 numeric, 5 categorical; `num_00` and `cat_0` shifted, some columns with missing values),
then runs each engine in its own spawned process on the same data: wall time of the call, and
peak RSS during the call minus the RSS right after data generation (the peak is reset with
/proc/self/clear_refs before the call, so data generation's own peak does not count). Prints
both engines' figures, the ratios and whether every per-column verdict (and the drift share)
agrees. Both engines use their defaults ("auto" method; scenarist on 2 threads).

`--tied`: every numeric column holds integers with many ties (the float columns rounded to
tenths of their scale and scaled by 10, ~60–400 distinct values) and each one drifts a little
(0.005–0.03 σ, `num_00` still 0.25 σ), as production data does: KS distances where scipy's
Kolmogorov distribution is slowest. `--per-column`: scenarist only, one column at a time on one
thread, printing each column's wall time (slowest first) instead of comparing with Evidently.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import platform
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC = 20
N_CATEGORICAL = 5
SHIFTED = ("num_00", "cat_0")


def make_batches(rows: int, seed: int, tied: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current batch; only the columns in SHIFTED change distribution (with
    `tied`, integer columns that all drift a little; see the module docstring)."""
    rng = np.random.default_rng(seed)
    categories = [[f"c{k}" for k in range(3 + 2 * i)] for i in range(N_CATEGORICAL)]

    def batch(shifted: bool) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for i in range(N_NUMERIC):
            shift = 0.25 if shifted and f"num_{i:02d}" in SHIFTED else 0.0
            if tied and shifted and not shift:
                shift = 0.005 + 0.025 * i / N_NUMERIC
            kind = i % 4
            if kind == 0:
                values = rng.normal(shift, 1.0, rows)
            elif kind == 1:
                values = rng.lognormal(shift, 0.5, rows)
            elif kind == 2:
                values = rng.exponential(1.0 + shift, rows)
            else:
                values = rng.poisson(50 + 10 * shift, rows)  # integers, many distinct: numeric
            if tied and kind != 3:
                values = np.round(values * 10).astype(np.int64)  # ties: ~60–400 distinct
            columns[f"num_{i:02d}"] = values
        for i, levels in enumerate(categories):
            p = np.linspace(1.0, 2.0, len(levels))
            if shifted and f"cat_{i}" in SHIFTED:
                p = p[::-1] ** 2
            columns[f"cat_{i}"] = rng.choice(np.array(levels, dtype=object), rows, p=p / p.sum())
        frame = pd.DataFrame(columns)
        frame.loc[rng.random(rows) < 0.05, "num_01"] = np.nan
        frame.loc[rng.random(rows) < 0.05, "cat_1"] = None
        return frame

    return batch(False), batch(True)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # resets the peak RSS (VmHWM, ru_maxrss) to the current RSS
        return True
    except OSError:
        return False


def _per_column(rows: int, seed: int, tied: bool) -> list[tuple[str, str, float, float]]:
    """(column, method, wall s, CPU s) of each column alone on one thread, most CPU first.

    The CPU time of the process is what the column costs; on a loaded machine the wall time
    also counts the time other processes held the cores."""
    from scenarist.metrics.drift import feature_drift

    reference, current = make_batches(rows, seed, tied)
    timings = []
    for column in reference.columns:
        start, cpu = time.perf_counter(), time.process_time()
        [result] = feature_drift(reference[[column]], current[[column]], n_jobs=1)
        timings.append((column, result.method, time.perf_counter() - start,
                        time.process_time() - cpu))
    return sorted(timings, key=lambda t: -t[3])


def _run_scenarist(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[dict, float]:
    from scenarist.metrics.drift import drift_share, feature_drift

    results = feature_drift(reference, current)
    return {r.feature: (r.method, r.drifted) for r in results}, drift_share(results)


EVIDENTLY_METHOD = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "chi-square p_value": "chi2",
    "Z-test p_value": "z",
    "Jensen-Shannon distance": "jensenshannon",
}


def _run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> Any:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return Report([DataDriftPreset()], include_tests=True).run(current, reference)


def _evidently_verdicts(snapshot: Any) -> tuple[dict, float]:
    result = snapshot.dict()
    share = next(
        m["value"]["share"]
        for m in result["metrics"]
        if m["config"]["type"].endswith("DriftedColumnsCount")
    )
    verdicts = {}
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith("ValueDrift"):
            verdicts[params["column"]] = (
                EVIDENTLY_METHOD[params["method"]],
                test["status"].value == "FAIL",
            )
    return verdicts, share


def _worker(engine: str, rows: int, seed: int, tied: bool, results: Any) -> None:
    if engine == "scenarist":
        import scenarist.metrics.drift  # noqa: F401  (imports are not part of the run)
    else:
        import evidently.presets  # noqa: F401
    reference, current = make_batches(rows, seed, tied)
    gc.collect()
    baseline = _rss_mb()
    peak_was_reset = _reset_peak()
    start = time.perf_counter()
    if engine == "scenarist":
        verdicts, share = _run_scenarist(reference, current)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    else:
        snapshot = _run_evidently(reference, current)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        verdicts, share = _evidently_verdicts(snapshot)
    results.put(
        {
            "seconds": seconds,
            "baseline_mb": baseline,
            "peak_mb": peak,
            "peak_was_reset": peak_was_reset,
            "verdicts": verdicts,
            "share": share,
        }
    )


def _measure(engine: str, rows: int, seed: int, tied: bool) -> dict:
    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_worker, args=(engine, rows, seed, tied, results))
    process.start()
    outcome = results.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{engine} worker exited with {process.exitcode}")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tied", action="store_true", help="Integer columns with many ties.")
    parser.add_argument("--per-column", action="store_true",
                        help="scenarist only: each column's time alone, on one thread.")
    args = parser.parse_args()

    print(
        f"# drift benchmark: {N_NUMERIC} numeric + {N_CATEGORICAL} categorical columns, "
        f"shifted {list(SHIFTED)}{', tied integers, all drifting a little' if args.tied else ''}"
        f"; python {platform.python_version()}, {mp.cpu_count()} cores"
    )
    if args.per_column:
        for rows in args.rows:
            import scenarist.metrics.drift  # noqa: F401  (imports are not part of the run)

            timings = _per_column(rows, args.seed, args.tied)
            print(f"{rows:,} rows: CPU {sum(t[3] for t in timings):.2f} s in all, at most "
                  f"{timings[0][3]:.3f} s ({timings[0][0]}); wall {sum(t[2] for t in timings):.2f}"
                  f" s, at most {max(t[2] for t in timings):.3f} s; load average "
                  f"{os.getloadavg()[0]:.1f}")
            print("| rows | column | method | wall s | CPU s |")
            print("|---|---|---|---|---|")
            for column, method, seconds, cpu in timings:
                print(f"| {rows:,} | {column} | {method} | {seconds:.3f} | {cpu:.3f} |")
        return
    header = (
        "| rows | engine | time s | peak − data MB | peak RSS MB | speed × | memory × "
        "| verdicts agree | drift share |"
    )
    print(header)
    print("|---" * 9 + "|")
    for rows in args.rows:
        ours = _measure("scenarist", rows, args.seed, args.tied)
        theirs = _measure("evidently", rows, args.seed, args.tied)
        agree = ours["verdicts"] == theirs["verdicts"] and ours["share"] == theirs["share"]
        disagreements = {
            column: (ours["verdicts"].get(column), verdict)
            for column, verdict in theirs["verdicts"].items()
            if ours["verdicts"].get(column) != verdict
        }
        ours_mb = ours["peak_mb"] - ours["baseline_mb"]
        theirs_mb = theirs["peak_mb"] - theirs["baseline_mb"]
        speed = theirs["seconds"] / ours["seconds"]
        memory = theirs_mb / ours_mb
        for name, run, ratios in (
            ("scenarist", ours, f"{speed:.1f} | {memory:.1f}"),
            ("evidently", theirs, "— | —"),
        ):
            print(
                f"| {rows:,} | {name} | {run['seconds']:.2f} "
                f"| {run['peak_mb'] - run['baseline_mb']:,.0f} | {run['peak_mb']:,.0f} "
                f"| {ratios} | {'yes' if agree else 'NO'} | {run['share']:.2f} |"
            )
        if disagreements:
            print(f"disagreements at {rows:,} rows (scenarist, evidently): {disagreements}")
        if not (ours["peak_was_reset"] and theirs["peak_was_reset"]):
            print("note: /proc/self/clear_refs unavailable, peaks include data generation")


if __name__ == "__main__":
    main()
