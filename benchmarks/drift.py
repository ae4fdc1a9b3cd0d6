"""Per-feature drift: scenarist's `feature_drift` against Evidently 0.7's DataDriftPreset.

    python benchmarks/drift.py [--rows 100000 1000000] [--seed 0]

For each row count, generates a reference and a current batch of that many rows × 25 columns
(20 numeric, 5 categorical; `num_00` and `cat_0` shifted, some columns with missing values),
then runs each engine in its own spawned process on the same data: wall time of the call, and
peak RSS during the call minus the RSS right after data generation (the peak is reset with
/proc/self/clear_refs before the call, so data generation's own peak does not count). Prints
both engines' figures, the ratios and whether every per-column verdict (and the drift share)
agrees. Both engines use their defaults ("auto" method; scenarist on 2 threads).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import platform
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC = 20
N_CATEGORICAL = 5
SHIFTED = ("num_00", "cat_0")


def make_batches(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current batch; only the columns in SHIFTED change distribution."""
    rng = np.random.default_rng(seed)
    categories = [[f"c{k}" for k in range(3 + 2 * i)] for i in range(N_CATEGORICAL)]

    def batch(shifted: bool) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for i in range(N_NUMERIC):
            shift = 0.25 if shifted and f"num_{i:02d}" in SHIFTED else 0.0
            kind = i % 4
            if kind == 0:
                values = rng.normal(shift, 1.0, rows)
            elif kind == 1:
                values = rng.lognormal(shift, 0.5, rows)
            elif kind == 2:
                values = rng.exponential(1.0 + shift, rows)
            else:
                values = rng.poisson(50 + 10 * shift, rows)  # integers, many distinct: numeric
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


def _worker(engine: str, rows: int, seed: int, results: Any) -> None:
    if engine == "scenarist":
        import scenarist.metrics.drift  # noqa: F401  (imports are not part of the run)
    else:
        import evidently.presets  # noqa: F401
    reference, current = make_batches(rows, seed)
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


def _measure(engine: str, rows: int, seed: int) -> dict:
    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_worker, args=(engine, rows, seed, results))
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
    args = parser.parse_args()

    print(
        f"# drift benchmark: {N_NUMERIC} numeric + {N_CATEGORICAL} categorical columns, "
        f"shifted {list(SHIFTED)}; python {platform.python_version()}, "
        f"{mp.cpu_count()} cores"
    )
    header = (
        "| rows | engine | time s | peak − data MB | peak RSS MB | speed × | memory × "
        "| verdicts agree | drift share |"
    )
    print(header)
    print("|---" * 9 + "|")
    for rows in args.rows:
        ours = _measure("scenarist", rows, args.seed)
        theirs = _measure("evidently", rows, args.seed)
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
