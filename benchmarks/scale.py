"""Scale: drift of 3M rows × 1,000 numeric columns against a 1M-row reference on one box.

    .venv/bin/python benchmarks/scale.py --data /tmp/scenarist-scale --keep --modes exact
    .venv/bin/python benchmarks/scale.py --rows 1000000 --reference-rows 300000 --columns 300 \
        --modes exact                                            # a tenth of the work

1. Generates, in chunks, float32 Parquet data under --data (default /tmp/scenarist-scale): a
   reference file and the current batch as a directory of --windows daily files. Columns
   c0000 … are normal; the first 10% are shifted by 0.05–0.5 σ in the current batch. Data
   already there with the right shape (rows, columns, files) is reused (~5 min to generate
   the full size); --keep keeps it afterwards, otherwise it is deleted.
2. Evicts the data from the page cache (--cache cold, the default: fsync, then
   posix_fadvise(POSIX_FADV_DONTNEED) on each file) and prints the share of the data's pages
   cached before and after (mincore(2) on a map of each file).
3. Runs the full drift evaluation (`run_streaming_evaluation`: column groups as Prefect tasks,
   within --memory-limit) in a child process, exact and/or from profiles (--modes), and records
   it in a SQLite store with its profiles; prints wall and CPU time, the time split
   (details["streaming"]["seconds"]), load averages and the child's peak RSS, and exits
   non-zero when the peak exceeds memory_limit + RSS_ALLOWANCE_MB.
4. With profiles: records --windows daily evaluations (profiles of a --window-sample-row sample
   of each daily file: a profile's size does not depend on its row count) and times drift over
   all of them from the stored profiles (`EvaluationStore.window_drift`: read, merge, compute).
5. With exact: prints the differences between the exact statistics and the same statistics
   from the profiles of the same batches, and how many verdicts agree.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

STORE = "scale"
DRIFTED_SHARE = 0.1
# peak RSS ≤ memory_limit + this: Python, numpy/pandas/pyarrow/scipy, Prefect's client, the
# reader's row chunks and the store write (README, "Large data"; BENCHMARKS.md, "Scale")
RSS_ALLOWANCE_MB = 850


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=1_000)
    parser.add_argument("--windows", type=int, default=30)
    parser.add_argument("--window-sample-rows", type=int, default=10_000)
    parser.add_argument("--memory-limit", default="2GiB")
    parser.add_argument("--modes", default="profiles,exact",
                        help="comma-separated: exact (the in-memory numbers), profiles")
    parser.add_argument("--data", type=Path, default=Path("/tmp/scenarist-scale"))
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold",
                        help="cold: evict the data from the page cache before each mode")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    try:
        _run(args)
    finally:
        if not args.keep:
            shutil.rmtree(args.data, ignore_errors=True)


def _run(args: argparse.Namespace) -> None:
    print(f"load average at start: {_load()}")
    started = time.perf_counter()
    if _has_data(args):
        print(f"reusing the data in {args.data}")
    else:
        shutil.rmtree(args.data, ignore_errors=True)
        _generate(args)
    files = sorted(args.data.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files) / 2**30
    print(f"data: {args.rows:,} + {args.reference_rows:,} rows × {args.columns:,} float32 "
          f"columns ({size:.1f} GiB Parquet, {len(files)} files) ready in "
          f"{time.perf_counter() - started:.0f} s")
    results = {}
    limit_mb = _bytes(args.memory_limit) / 1e6
    failed = []
    for mode in args.modes.split(","):
        before = _cached_share(files)
        if args.cache == "cold":
            _evict(files)
        print(f"{mode:>8}: page cache held {before:.1%} of the data, {_cached_share(files):.1%} "
              f"at the start ({args.cache}); load average {_load()}")
        command = [sys.executable, __file__, "--child", mode, "--data", str(args.data),
                   "--memory-limit", args.memory_limit, "--windows", str(args.windows),
                   "--window-sample-rows", str(args.window_sample_rows)]
        began = time.perf_counter()
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        if child.returncode != 0:
            raise SystemExit(f"{mode} evaluation failed:\n{child.stderr[-4000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results[mode] = result
        peak, allowed = result["peak_rss_mb"], limit_mb + RSS_ALLOWANCE_MB
        print(f"          full drift evaluation {result['evaluate_seconds']:.1f} s wall, "
              f"{result['cpu_seconds']:.1f} s CPU (process wall {wall:.1f} s incl. Prefect "
              f"start), {result['column_groups']} column groups, drift_share "
              f"{result['drift_share']:.3f}; load average {result['load_before']} before, "
              f"{result['load']} after")
        print(f"          peak RSS {peak:,.0f} MB (before evaluating {result['base_rss_mb']:,.0f}"
              f" MB) ≤ memory_limit {limit_mb:,.0f} MB + {RSS_ALLOWANCE_MB} MB = {allowed:,.0f}"
              f" MB: {'yes' if peak <= allowed else 'NO'}")
        if peak > allowed:
            failed.append(f"{mode}: peak RSS {peak:,.0f} MB > {allowed:,.0f} MB")
        _print_split(result["seconds"])
        if "window" in result:
            w = result["window"]
            print(f"          window drift over {w['evaluations']} stored evaluations × "
                  f"{w['columns']} columns from profiles: median {w['median_ms']:.1f} ms "
                  f"(min {w['min_ms']:.1f}, max {w['max_ms']:.1f}) with the store read; "
                  f"{w['compute_ms']:.1f} ms of it merge + statistics")
        if "differences" in result:
            for stat, diff in result["differences"].items():
                print(f"          exact vs profile {stat:>14}: {diff}")
    print(f"load average at the end: {_load()}")
    if failed:
        raise SystemExit("memory promise broken: " + "; ".join(failed))


def _print_split(seconds: dict[str, float]) -> None:
    """The time split of details["streaming"]["seconds"]."""
    steps = ("read", "read_wait", "sort", "drift", "profile", "quality", "categorical",
             "combine", "prefect_overhead")
    print("          split (s): " + ", ".join(
        f"{step} {seconds[step]:.1f}" for step in steps if step in seconds)
        + f" of {seconds.get('evaluation', float('nan')):.1f} wall")
    threads = sorted(k[5:-1] for k in seconds if k.startswith("busy["))
    print("          compute threads (busy wall / CPU / idle s): " + ", ".join(
        f"{t} {seconds[f'busy[{t}]']:.1f}/{seconds.get(f'cpu[{t}]', float('nan')):.1f}/"
        f"{seconds.get(f'idle[{t}]', float('nan')):.1f}" for t in threads)
        + "; read and read_wait are the reader's wall time, sort/drift/profile/quality CPU")


def _load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def _bytes(text: str) -> int:
    from pydantic import ByteSize, TypeAdapter

    return int(TypeAdapter(ByteSize).validate_python(text))


def _has_data(args: argparse.Namespace) -> bool:
    """Whether --data holds data of this shape (rows, columns, daily files)."""
    import pyarrow.parquet as pq

    reference = args.data / "reference.parquet"
    days = sorted((args.data / "current").glob("day-*.parquet"))
    if not reference.exists() or len(days) != args.windows:
        return False
    try:
        metas = [pq.read_metadata(f) for f in [reference, *days]]
    except OSError:
        return False
    return (all(m.num_columns == args.columns for m in metas)
            and metas[0].num_rows == args.reference_rows
            and sum(m.num_rows for m in metas[1:]) == args.rows)


def _evict(files: list[Path]) -> None:
    """Drop the files' pages from the page cache (written back first)."""
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _cached_share(files: list[Path]) -> float:
    """The share of the files' pages in the page cache (mincore(2) on a map of each file)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    page = os.sysconf("SC_PAGE_SIZE")
    cached = total = 0
    for path in files:
        size = path.stat().st_size
        if size == 0:
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            address = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
            if address in (None, ctypes.c_void_p(-1).value):
                raise OSError(ctypes.get_errno(), f"mmap of {path} failed")
            pages = (size + page - 1) // page
            vector = (ctypes.c_ubyte * pages)()
            if libc.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), f"mincore of {path} failed")
            libc.munmap(address, size)
        finally:
            os.close(fd)
        cached += sum(b & 1 for b in bytes(vector))
        total += pages
    return cached / total if total else 0.0


def _generate(args: argparse.Namespace) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    args.data.mkdir(parents=True, exist_ok=True)
    (args.data / "current").mkdir(exist_ok=True)
    names = [f"c{i:04d}" for i in range(args.columns)]
    shifts = np.zeros(args.columns, dtype=np.float32)
    drifted = int(args.columns * DRIFTED_SHARE)
    shifts[:drifted] = np.linspace(0.05, 0.5, drifted)
    schema = pa.schema([(n, pa.float32()) for n in names])
    rng = np.random.default_rng(2026)
    chunk = max(1, 50_000_000 // args.columns)  # ~200 MB of float32 per chunk

    def write(path: Path, rows: int, shift: np.ndarray) -> None:
        with pq.ParquetWriter(path, schema, compression="none") as writer:
            for start in range(0, rows, chunk):
                n = min(chunk, rows - start)
                block = rng.standard_normal((n, args.columns), dtype=np.float32) + shift
                writer.write_table(pa.Table.from_arrays(list(block.T), schema=schema),
                                   row_group_size=n)

    write(args.data / "reference.parquet", args.reference_rows, np.zeros_like(shifts))
    per_day = np.diff(np.linspace(0, args.rows, args.windows + 1).astype(int))
    for day, rows in enumerate(per_day, start=1):
        write(args.data / "current" / f"day-{day:02d}.parquet", int(rows), shifts)


def _child(args: argparse.Namespace) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from scenarist.flows.column_groups import run_streaming_evaluation
    from scenarist.profiles.streaming import StreamOptions

    mode = args.child
    options = StreamOptions(memory_limit=_bytes(args.memory_limit), exact=mode == "exact")
    server = nullcontext() if os.environ.get("PREFECT_API_URL") else prefect_test_harness(
        server_startup_timeout=120)
    with server:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 * 1.048576
        load_before = _load()
        cpu = time.process_time()
        began = time.perf_counter()
        computed, current, reference = run_streaming_evaluation(
            args.data / "reference.parquet", args.data / "current", options=options)
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 * 1.048576  # kiB → MB
    values = {(v.metric, v.feature): v.value for v in computed.values}
    result = {
        "evaluate_seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak,
        "base_rss_mb": base, "load_before": load_before, "load": _load(),
        "column_groups": computed.details["streaming"]["column_groups"],
        "drift_share": values[("drift_share", None)],
        "seconds": computed.details["streaming"]["seconds"],
    }
    store = _store(args.data, mode)
    store.record("all", computed, model="scale", profiles=(current, reference))
    if mode == "exact":
        result["differences"] = _differences(store, values)
    else:
        result["window"] = _window(args, store, reference)
    print(json.dumps(result))


def _store(data: Path, mode: str):
    from scenarist.stores.evaluation_store import EvaluationStore

    return EvaluationStore.open(STORE, f"sqlite:///{data}/store-{mode}.db")


def _differences(store, exact: dict) -> dict[str, str]:
    """max |exact − from profiles| per statistic, and verdict agreement."""
    drift = store.window_drift(labels=["all"], sketches=True)
    out = {}
    for stat in ("psi", "js_distance", "ks_statistic", "ks_statistic_sketch", "wasserstein"):
        name = "ks_statistic" if stat == "ks_statistic_sketch" else stat
        diffs = [abs(d.stats[stat] - exact[(name, d.feature)]) for d in drift.features]
        text = f"max {max(diffs):.2e}, mean {np.mean(diffs):.2e}"
        if stat == "ks_statistic":
            bound = max(d.stats["ks_statistic_error"] for d in drift.features)
            text += f" (stated bound ≤ {bound:.2e})"
        out[stat] = text
    same = sum(d.drifted == bool(exact[("drifted", d.feature)]) for d in drift.features)
    out["verdicts"] = f"{same} of {len(drift.features)} agree"
    return out


def _window(args: argparse.Namespace, store, reference) -> dict[str, float]:
    import pyarrow.parquet as pq

    from scenarist.metrics.evaluation import ComputedEvaluation
    from scenarist.profiles import profile_frame, window_drift
    from scenarist.stores.profiles import evaluation_profiles, reference_profile

    days = sorted((args.data / "current").glob("*.parquet"))[: args.windows]
    for day in days:
        sample = pq.ParquetFile(day).iter_batches(batch_size=args.window_sample_rows)
        frame = next(sample).to_pandas()
        profile = profile_frame(frame, reference=reference)
        empty = ComputedEvaluation(values=[], row_count=len(frame),
                                   reference_row_count=reference.rows)
        store.record(day.stem, empty, model="scale", profiles=(profile, reference))
    labels = [day.stem for day in days]
    timings = []
    for _ in range(7):
        began = time.perf_counter()
        drift = store.window_drift(labels=labels)
        timings.append((time.perf_counter() - began) * 1000)
    ref = reference_profile(store._engine, store._id)
    windows = evaluation_profiles(store._engine, store._id, labels, ref)
    began = time.perf_counter()
    window_drift(ref, windows)
    compute_ms = (time.perf_counter() - began) * 1000
    return {"evaluations": len(labels), "columns": len(drift.features),
            "median_ms": float(np.median(timings)), "min_ms": min(timings),
            "max_ms": max(timings), "compute_ms": compute_ms}


if __name__ == "__main__":
    main()
