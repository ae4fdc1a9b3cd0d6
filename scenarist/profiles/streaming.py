"""Streaming evaluation of a Parquet batch against a Parquet reference with bounded memory.

    plan = plan_stream("ref.parquet", "s3://bucket/day=2026-11-23/", options=StreamOptions())
    results = [evaluate_group(plan, group) for group in plan.groups]   # anywhere: Dask, threads
    computed, current_profile, reference_profile = combine(plan, results)

A source is a Parquet file or a directory/dataset of them, local or at any fsspec URL
(`s3://`, `gs://`, `az://`, `memory://`, …). Each numeric column of both batches is read in row
chunks of `row_chunk` rows into one buffer (reference rows, then current rows), float32 when
the Parquet type is float32 (or a float16 or ≤ 16-bit integer, exact in float32) and float64
otherwise; no DataFrame of the whole batch. Then each column gets exactly the statistics an
in-memory evaluation gives it (`scenarist.metrics.drift.feature_drift`, see "Exactness") and
its profiles (`scenarist.profiles.profile`). With `exact=False` the drift statistics come from
the profiles instead (`scenarist.profiles.window`: PSI/JS exact, KS/Wasserstein within their
stated error), which skips the merge of both batches, the costliest step over millions of rows.

Pipeline. A group's task thread reads its numeric columns, a few at a time (1/8 of the buffer
budget per read), and hands each column to a compute pool of `n_jobs` threads as soon as it is
read; the pool sorts it in place and computes its statistics and profiles while the next
columns are read (pyarrow releases the GIL while it reads and decodes, numpy while it sorts).
One read at a time per process (`_READ_LOCK`); with two groups in flight (the default task
runner) the next group is read while the last columns of one are computed.

Memory. `memory_limit` = the column buffers + the scratch of the `n_jobs` columns being
computed. Scratch is SCRATCH_BYTES_PER_VALUE bytes per value of both batches per computing
column (the merge of both sorted batches: its order, the merged values, the CDF counts and
gaps in float64); the rest is the buffer budget, shared by every group this process runs at
once. Buffers are allocated once in anonymous memory maps, reused from column to column and
group to group, and given back to the operating system by `release_buffers()` (called by
`run_streaming_evaluation` when it ends). A column group is what the budget holds at once.
The process's peak RSS is therefore memory_limit + a constant (Python, pyarrow, Prefect, the
reader's row chunks: BENCHMARKS.md, "Scale", states it measured).

Exactness. Every statistic is the in-memory one computed on the same values: float32 columns
are sorted as float32 and every sum, difference, interpolation and CDF gap is taken in float64
from them, so KS D, PSI, Jensen–Shannon, histograms, edges and verdicts are bit-identical to
`feature_drift` on the float64 values and the Wasserstein distance and profile moments differ
from it only by float64 summation order (relative difference < 1e-12, tested against
`feature_drift` and scipy). Numeric columns with ≤ 5 distinct values, integer columns with ≤ 10
and explicitly categorical methods go through `feature_drift` itself.

Categorical columns (strings, booleans, dictionaries) are read whole as pandas categoricals,
outside the buffer budget. What a streamed evaluation has: per-feature drift, drift_share,
n_drifted_features, row_count, missing_share (dataset and per feature), out_of_range_share /
unseen_category_share, and the profiles; it has no model predictions, so no dataset-level
domain classifier, prediction drift or performance. `details.streaming.seconds` splits the
time: reading (I/O and decoding), waiting for buffers, sorting, statistics, profiles, quality,
each compute thread's busy time, and (from `run_streaming_evaluation`) Prefect's overhead.
"""

from __future__ import annotations

import functools
import mmap
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from scenarist.errors import InputDataError
from scenarist.metrics import sufficiency
from scenarist.metrics.drift import (
    _NUMERIC_ONLY,
    INTEGER_CARDINALITY_LIMIT,
    METHODS,
    FeatureDrift,
    Histogram,
    _auto_method,
    _few_distinct,
    feature_drift,
)
from scenarist.metrics.drift_stats import (
    DECILES,
    KS_EXACT_MAX_N,
    WASSERSTEIN_MIN_NORM,
    _ks_pvalue,
    js_distance,
    psi,
)
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.multiple_testing import Correction
from scenarist.metrics.values import ColumnKind, MetricValue
from scenarist.profiles.profile import (
    BatchProfile,
    CategoryCounts,
    NumericColumnProfile,
    assemble,
    count_below,
    profile_sorted,
    sorted_quantiles,
)
from scenarist.profiles.window import window_drift

DEFAULT_MEMORY_LIMIT = 2 * 1024**3
SCRATCH_BYTES_PER_VALUE = 48  # scratch per value of both batches of each column being computed
READ_SHARE = 8  # one read fills at most 1/READ_SHARE of the buffer budget …
READ_MAX_COLUMNS = 16  # … and at most this many columns
READ_AHEAD = 3  # reads whose columns may wait for (or be in) the compute pool
TOP_DRIFTED = 10
_FAST_METHODS = ("auto", "ks", "wasserstein", "psi", "jensenshannon")
_FLOAT32_TYPES = (pa.float16(), pa.float32(), pa.int8(), pa.int16(), pa.uint8(), pa.uint16())


@dataclass(frozen=True)
class StreamOptions:
    """How a streaming evaluation runs (see the module docstring)."""

    memory_limit: int = DEFAULT_MEMORY_LIMIT  # bytes: column buffers + scratch (docstring)
    row_chunk: int = 262_144
    method: str = "auto"
    threshold: float | None = None
    exact: bool = True
    n_jobs: int = 2
    correction: Correction = "benjamini_hochberg"  # of p-value verdicts, as EvaluationOptions
    min_rows: int = sufficiency.DEFAULT_MIN_ROWS  # fewer non-missing values: no drift verdict


@dataclass(frozen=True)
class StreamPlan:
    """What to read: the two sources, their row counts, the columns by kind, the groups."""

    reference: str
    current: str
    reference_rows: int
    current_rows: int
    kinds: dict[str, ColumnKind]
    groups: tuple[tuple[str, ...], ...]
    options: StreamOptions = field(default_factory=StreamOptions)
    integers: frozenset[str] = frozenset()  # integer columns: categorical with ≤ 10 values
    float32: frozenset[str] = frozenset()  # numeric columns read (and sorted) as float32

    @property
    def buffer_budget(self) -> int:
        """Bytes of column buffers: memory_limit less the computing columns' scratch."""
        rows = self.reference_rows + self.current_rows
        return self.options.memory_limit - _scratch(rows, self.options.n_jobs)

    def column_bytes(self, name: str) -> int:
        """Bytes one column of both batches takes in its buffer."""
        return (4 if name in self.float32 else 8) * (self.reference_rows + self.current_rows)


@dataclass(frozen=True)
class GroupResult:
    """Everything one column group gives: drift, quality values and both batches' profiles."""

    drifts: list[FeatureDrift]
    quality: list[MetricValue]
    missing_cells: int
    reference_profiles: list[NumericColumnProfile]
    current_profiles: list[NumericColumnProfile]
    reference_categories: dict[str, CategoryCounts]
    current_categories: dict[str, CategoryCounts]
    seconds: float
    # seconds by step: read, read_wait, categorical (wall); sort, drift, profile, quality (CPU
    # of the compute threads); each compute thread's busy wall and CPU time ("busy[<thread>]",
    # "cpu[<thread>]")
    timings: dict[str, float] = field(default_factory=dict)
    span: tuple[float, float] = (0.0, 0.0)  # time.time() at start and end
    buffer_peak: int = 0  # the most bytes of column buffers this process held so far


def open_parquet(location: str | Path) -> ds.Dataset:
    """A Parquet file or directory, local or at an fsspec URL, as a pyarrow dataset."""
    text = str(location)
    try:
        if "://" in text and not text.startswith("file://"):
            import fsspec
            from pyarrow.fs import FSSpecHandler, PyFileSystem

            fs, path = fsspec.core.url_to_fs(text)
            return ds.dataset(path, format="parquet", filesystem=PyFileSystem(FSSpecHandler(fs)))
        path = text.removeprefix("file://")
        if not Path(path).exists():
            raise InputDataError(f"{text} does not exist; give a Parquet file or a directory "
                                 "of Parquet files (or an fsspec URL such as s3://bucket/path)")
        return ds.dataset(path, format="parquet")
    except (OSError, ValueError, pa.ArrowException, ImportError) as exc:
        if isinstance(exc, InputDataError):
            raise
        raise InputDataError(f"cannot open {text} as Parquet: {type(exc).__name__}: {exc}"
                             ) from exc


def _scratch(rows: int, n_jobs: int) -> int:
    return SCRATCH_BYTES_PER_VALUE * rows * n_jobs


def plan_stream(
    reference: str | Path,
    current: str | Path,
    *,
    columns: Sequence[str] | None = None,
    options: StreamOptions | None = None,
) -> StreamPlan:
    """Check both sources and split their columns into groups that fit the buffer budget."""
    options = options or StreamOptions()
    if options.memory_limit <= 0 or options.row_chunk <= 0 or options.n_jobs < 1:
        raise InputDataError("memory_limit and row_chunk must be positive and n_jobs ≥ 1")
    ref_ds, cur_ds = open_parquet(reference), open_parquet(current)
    kinds = _kinds(ref_ds.schema, columns)
    missing = [c for c in kinds if c not in cur_ds.schema.names]
    if missing:
        raise InputDataError(f"column(s) {missing} of the reference are not in the current "
                             f"batch {current}; its columns are {cur_ds.schema.names[:20]}")
    n_ref, n_cur = ref_ds.count_rows(), cur_ds.count_rows()
    if n_ref == 0 or n_cur == 0:
        raise InputDataError(f"{reference if n_ref == 0 else current} has no rows")
    float32 = frozenset(
        c for c, kind in kinds.items() if kind == "numeric"
        and ref_ds.schema.field(c).type in _FLOAT32_TYPES
        and cur_ds.schema.field(c).type in _FLOAT32_TYPES)
    rows = n_ref + n_cur
    widest = 4 * rows if float32 >= {c for c, k in kinds.items() if k == "numeric"} else 8 * rows
    scratch = _scratch(rows, options.n_jobs)
    if widest + scratch > options.memory_limit:
        raise InputDataError(
            f"one column of both batches ({n_ref:,} + {n_cur:,} rows) needs about "
            f"{(widest + scratch) / 2**20:,.0f} MiB with n_jobs={options.n_jobs}; raise "
            f"memory_limit to at least that (it is {options.memory_limit / 2**20:,.0f} MiB) or "
            "lower n_jobs"
        )
    budget = options.memory_limit - scratch
    groups: list[tuple[str, ...]] = []
    group: list[str] = []
    held = 0
    for name in kinds:  # categorical columns count as 8 bytes a value (read whole, as pandas)
        size = (4 if name in float32 else 8) * rows
        if group and held + size > budget:
            groups.append(tuple(group))
            group, held = [], 0
        group.append(name)
        held += size
    groups.append(tuple(group))
    integers = frozenset(c for c in kinds if pa.types.is_integer(ref_ds.schema.field(c).type))
    return StreamPlan(str(reference), str(current), n_ref, n_cur, kinds, tuple(groups),
                      options, integers, float32)


def evaluate_group(plan: StreamPlan, columns: Sequence[str]) -> GroupResult:
    """Drift, quality and profiles of one column group (runs anywhere the sources are read)."""
    started, began = time.perf_counter(), time.time()
    options = plan.options
    numeric = [c for c in columns if plan.kinds[c] == "numeric"]
    categorical = [c for c in columns if plan.kinds[c] == "categorical"]
    timings: dict[str, float] = {}
    futures = _read_and_compute(plan, numeric, timings)
    numeric_results = [f.result() for f in futures]
    drifts = [r[0] for r in numeric_results if r[0] is not None]
    quality = [v for r in numeric_results for v in r[1]]
    missing_cells = sum(r[2] for r in numeric_results)
    for r in numeric_results:
        for step, seconds in r[5].items():
            timings[step] = timings.get(step, 0.0) + seconds
    profiled = [(name, r[3], r[4]) for name, r in zip(numeric, numeric_results, strict=True)]
    ref_profiles = [ref for _, ref, _ in profiled if not isinstance(ref, CategoryCounts)]
    cur_profiles = [cur for _, _, cur in profiled if not isinstance(cur, CategoryCounts)]
    ref_categories = {n: ref for n, ref, _ in profiled if isinstance(ref, CategoryCounts)}
    cur_categories = {n: cur for n, _, cur in profiled if isinstance(cur, CategoryCounts)}
    if categorical:
        clock = time.perf_counter()
        ref_frame = _read_frame(plan.reference, categorical)
        cur_frame = _read_frame(plan.current, categorical)
        for name in categorical:
            ref_categories[name] = CategoryCounts.of(ref_frame[name])
            cur_categories[name] = CategoryCounts.of(cur_frame[name])
            quality += _categorical_quality(name, ref_frame[name], cur_frame[name])
            missing_cells += int(cur_frame[name].isna().sum())
        if options.exact:
            drifts += feature_drift(ref_frame, cur_frame, columns=categorical,
                                    kinds=dict.fromkeys(categorical, "categorical"),
                                    method=options.method, threshold=options.threshold, n_jobs=1)
        timings["categorical"] = time.perf_counter() - clock
    if not options.exact:
        drifts = list(window_drift(
            assemble(plan.reference_rows, ref_profiles, ref_categories),
            [assemble(plan.current_rows, cur_profiles, cur_categories)],
            method=options.method, threshold=options.threshold,
            correction="none",  # `combine` corrects over every column at once
        ).features)
    return GroupResult(drifts, quality, missing_cells, ref_profiles, cur_profiles,
                       ref_categories, cur_categories, time.perf_counter() - started,
                       timings, (began, time.time()), _buffers(plan.buffer_budget).peak)


def combine(
    plan: StreamPlan, results: Sequence[GroupResult]
) -> tuple[ComputedEvaluation, BatchProfile, BatchProfile]:
    """One evaluation (metrics and details) and both batches' profiles from every group."""
    clock = time.perf_counter()
    order = {name: i for i, name in enumerate(plan.kinds)}
    drifts = sorted((d for r in results for d in r.drifts), key=lambda d: order[d.feature])
    profiles = [
        assemble(rows, sorted((p for r in results for p in getattr(r, side)),
                              key=lambda p: order[p.name]),
                 {name: c for r in results for name, c in getattr(r, categories).items()})
        for rows, side, categories in (
            (plan.current_rows, "current_profiles", "current_categories"),
            (plan.reference_rows, "reference_profiles", "reference_categories"),
        )
    ]
    # min_rows and the correction over every column, as in memory (metrics/sufficiency.py)
    counts = {d.feature: (_non_missing(profiles[0], d.feature),
                          _non_missing(profiles[1], d.feature)) for d in drifts}
    reasons: dict[str, str] = {}
    drifts, values = sufficiency.guard_drift(drifts, counts, plan.options.min_rows,
                                             plan.options.correction, reasons)
    values += [
        MetricValue("row_count", float(plan.current_rows)),
        MetricValue("missing_share", sum(r.missing_cells for r in results)
                    / (plan.current_rows * len(plan.kinds))),
    ]
    values += sorted((v for r in results for v in r.quality), key=lambda v: order[v.feature])
    options = plan.options
    ranked = sorted((d for d in drifts if d.drifted), key=lambda d: _strength(d), reverse=True)
    seconds: dict[str, Any] = {}
    for r in results:
        for step, value in r.timings.items():
            seconds[step] = seconds.get(step, 0.0) + value
    seconds = {step: round(value, 3) for step, value in sorted(seconds.items())}
    seconds["combine"] = round(time.perf_counter() - clock, 3)
    details: dict[str, Any] = {
        "labels": "absent",
        "features": list(plan.kinds),
        "column_kinds": {d.feature: d.kind for d in drifts},
        "drift_methods": {d.feature: d.method for d in drifts},
        "drift_thresholds": {d.feature: d.threshold for d in drifts},
        "drifted_features": [d.feature for d in drifts if d.drifted],
        "histograms": {d.feature: d.histogram.as_dict() for d in drifts if d.histogram},
        "top_drifted_features": [d.feature for d in ranked][:TOP_DRIFTED],
        "options": {"drift_method": options.method, "drift_threshold": options.threshold,
                    "correction": options.correction, "min_rows": options.min_rows},
        sufficiency.DETAILS_KEY: reasons,
        "streaming": {
            "reference": plan.reference, "current": plan.current,
            "column_groups": len(plan.groups), "memory_limit": options.memory_limit,
            "buffer_budget": plan.buffer_budget, "float32_columns": len(plan.float32),
            "buffer_peak": max((r.buffer_peak for r in results), default=0),
            "row_chunk": options.row_chunk, "exact": options.exact, "n_jobs": options.n_jobs,
            "group_seconds": round(sum(r.seconds for r in results), 3),
            "spans": [list(r.span) for r in results],
            "seconds": seconds,
        },
    }
    computed = ComputedEvaluation(values=values, row_count=plan.current_rows,
                                  reference_row_count=plan.reference_rows, details=details)
    return computed, profiles[0], profiles[1]


# -- buffers and threads -------------------------------------------------------------------------


class _Buffers:
    """Column buffers within a byte budget, reused: `take` waits while the budget is held."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held = 0
        self.peak = 0  # the most bytes held at once
        self._free: dict[tuple[str, int], list[np.ndarray]] = {}
        self._changed = threading.Condition()

    def take(self, dtype: np.dtype, size: int) -> np.ndarray:
        key = (np.dtype(dtype).str, size)
        nbytes = np.dtype(dtype).itemsize * size
        with self._changed:
            while True:
                if self._free.get(key):
                    return self._free[key].pop()
                if self._held + nbytes <= self.capacity:
                    self._held += nbytes
                    self.peak = max(self.peak, self._held)
                    return _released_buffer(size, dtype)
                other = next((k for k, arrays in self._free.items() if arrays), None)
                if other is not None:  # buffers of another shape are free: give one back
                    self._held -= self._free[other].pop().nbytes
                    continue
                self._changed.wait()

    def give(self, array: np.ndarray) -> None:
        with self._changed:
            self._free.setdefault((array.dtype.str, len(array)), []).append(array)
            self._changed.notify_all()

    def release(self) -> None:
        """Give every free buffer back to the operating system."""
        with self._changed:
            for arrays in self._free.values():
                self._held -= sum(a.nbytes for a in arrays)
                arrays.clear()
            self._changed.notify_all()


_BUFFERS_LOCK = threading.Lock()
_BUFFERS: dict[int, _Buffers] = {}
_READ_LOCK = threading.Lock()  # one read at a time per process: reads overlap computing only


def _buffers(capacity: int) -> _Buffers:
    with _BUFFERS_LOCK:
        if capacity not in _BUFFERS:
            for other in _BUFFERS.values():
                other.release()
            _BUFFERS.clear()
            _BUFFERS[capacity] = _Buffers(capacity)
        return _BUFFERS[capacity]


def release_buffers() -> None:
    """Give this process's free column buffers and the compute threads' scratch back to the
    operating system (call it when no group is being evaluated)."""
    with _BUFFERS_LOCK:
        for buffers in _BUFFERS.values():
            buffers.release()
    with _SCRATCH_LOCK:
        _SCRATCH.clear()


@functools.cache
def _compute_pool(n_jobs: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="scenarist-compute")


def _read_and_compute(plan: StreamPlan, numeric: list[str], timings: dict[str, float]
                      ) -> list[Future]:
    """Read the numeric columns a few at a time; each goes to the compute pool once read. The
    reader stays at most READ_AHEAD reads ahead of the computing, so buffers are reused."""
    if not numeric:
        return []
    buffers = _buffers(plan.buffer_budget)
    pool = _compute_pool(plan.options.n_jobs)
    rows = plan.reference_rows + plan.current_rows
    per_read = max(1, min(READ_MAX_COLUMNS, plan.buffer_budget
                          // (READ_SHARE * max(plan.column_bytes(c) for c in numeric))))
    futures: list[Future] = []
    taken: list[np.ndarray] = []
    try:
        with _READ_LOCK:
            clock = time.perf_counter()
            sources = _parquet_files(plan.reference), _parquet_files(plan.current)
            timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
            for start in range(0, len(numeric), per_read):
                names = numeric[start : start + per_read]
                clock = time.perf_counter()
                pending = [f for f in futures if not f.done()]
                while len(pending) > (READ_AHEAD - 1) * per_read:
                    wait(pending, return_when=FIRST_COMPLETED)
                    pending = [f for f in pending if not f.done()]
                taken = [buffers.take(np.float32 if n in plan.float32 else np.float64, rows)
                         for n in names]
                timings["read_wait"] = timings.get("read_wait", 0.0) + (
                    time.perf_counter() - clock)
                clock = time.perf_counter()
                _read_numeric(sources[0], plan.reference, names, taken, 0, plan.reference_rows,
                              plan.options.row_chunk)
                _read_numeric(sources[1], plan.current, names, taken, plan.reference_rows,
                              plan.current_rows, plan.options.row_chunk)
                timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
                for name, buffer in zip(names, taken, strict=True):
                    futures.append(pool.submit(_compute_column, plan, name, buffer, buffers))
                taken = []
    except BaseException:
        for buffer in taken:
            buffers.give(buffer)
        for future in futures:
            future.cancel()
        for future in futures:  # running ones give their buffers back before we re-raise
            if not future.cancelled():
                future.exception()
        raise
    return futures


def _compute_column(plan: StreamPlan, name: str, buffer: np.ndarray, buffers: _Buffers):
    """_numeric_column on a buffer (reference rows, then current rows), which it gives back."""
    try:
        return _numeric_column(name, buffer, plan.reference_rows, plan.options,
                               integer=name in plan.integers)
    finally:
        buffers.give(buffer)


# -- reading -------------------------------------------------------------------------------------


def _kinds(schema: pa.Schema, columns: Sequence[str] | None) -> dict[str, ColumnKind]:
    if columns is not None:
        unknown = [c for c in columns if c not in schema.names]
        if unknown:
            raise InputDataError(f"column(s) {unknown} are not in the reference; its columns "
                                 f"are {schema.names[:20]}")
    kinds: dict[str, ColumnKind] = {}
    for name in columns if columns is not None else schema.names:
        kind = _arrow_kind(schema.field(name).type)
        if kind is None:
            if columns is not None:
                raise InputDataError(f"column {name!r} has type {schema.field(name).type}, which "
                                     "has no drift statistics; leave it out of `features`")
            continue
        kinds[name] = kind
    if not kinds:
        raise InputDataError("the reference has no numeric or categorical column to evaluate")
    return kinds


def _arrow_kind(dtype: pa.DataType) -> ColumnKind | None:
    if pa.types.is_floating(dtype) or pa.types.is_integer(dtype) or pa.types.is_decimal(dtype):
        return "numeric"
    if (pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
            or pa.types.is_boolean(dtype) or pa.types.is_dictionary(dtype)):
        return "categorical"
    return None


def _parquet_files(source: str) -> list[pq.ParquetFile]:
    """The source's Parquet files, opened once (their footers parsed once) for every read."""
    dataset = open_parquet(source)
    # pre-buffering (coalesced reads ahead) pays for the latency of object storage; on a local
    # disk it costs ~5 times the CPU of plain reads (page-cache and kernel read-ahead do it)
    remote = not isinstance(dataset.filesystem, pafs.LocalFileSystem)
    try:
        return [pq.ParquetFile(path, filesystem=dataset.filesystem, pre_buffer=remote)
                for path in dataset.files]
    except (OSError, pa.ArrowException) as exc:
        raise InputDataError(f"cannot open the Parquet files of {source}: {exc}") from exc


def _read_numeric(files: list[pq.ParquetFile], source: str, columns: list[str],
                  buffers: list[np.ndarray], offset: int, rows: int, chunk: int) -> None:
    """Fill buffers[i][offset : offset + rows] with column i (nulls → NaN): file by file, a row
    group at a time (in row chunks of `chunk` rows when a row group is larger than 4 chunks)."""
    position = 0
    try:
        for parquet in files:
            for group in range(parquet.num_row_groups):
                if parquet.metadata.row_group(group).num_rows > 4 * chunk:
                    parts: Any = parquet.iter_batches(batch_size=chunk, row_groups=[group],
                                                      columns=columns, use_threads=True)
                else:
                    parts = [parquet.read_row_group(group, columns=columns, use_threads=True)]
                for part in parts:
                    end = position + part.num_rows
                    if end > rows:
                        raise InputDataError(
                            f"{source} changed while it was read (more rows than the {rows:,} "
                            "counted); evaluate a batch that is not written to")
                    for buffer, column in zip(buffers, part.columns, strict=True):
                        _fill(buffer, offset + position, column)
                    position = end
    except (OSError, pa.ArrowException) as exc:
        raise InputDataError(f"cannot read {columns[:5]} from {source}: {exc}") from exc
    if position != rows:
        raise InputDataError(f"{source} changed while it was read ({position:,} rows, "
                             f"{rows:,} counted); evaluate a batch that is not written to")


def _fill(buffer: np.ndarray, start: int, column: pa.Array | pa.ChunkedArray) -> None:
    """Copy a column's values into buffer[start:], without an intermediate copy when they
    already have the buffer's type and no nulls."""
    target = pa.from_numpy_dtype(buffer.dtype)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if chunk.type == target and chunk.null_count == 0:
            values = chunk.to_numpy(zero_copy_only=True)
        else:
            values = pc.cast(chunk, target).to_numpy(zero_copy_only=False)
        buffer[start : start + len(values)] = values
        start += len(values)


def _released_buffer(size: int, dtype: Any = np.float64) -> np.ndarray:
    """An uninitialised array in its own anonymous memory map: unmapped (given back to the
    operating system) as soon as it is garbage, whatever malloc's thresholds."""
    if size == 0:
        return np.empty(0, dtype=dtype)
    memory = mmap.mmap(-1, size * np.dtype(dtype).itemsize)
    if hasattr(mmap, "MADV_HUGEPAGE"):  # fewer page faults and TLB misses while sorting
        memory.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(memory, dtype=dtype)


def _read_frame(source: str, columns: list[str]) -> pd.DataFrame:
    try:
        table = open_parquet(source).to_table(columns=columns)
    except pa.ArrowException as exc:
        raise InputDataError(f"cannot read {columns[:5]} from {source}: {exc}") from exc
    return table.to_pandas(strings_to_categorical=True)


# -- one column ----------------------------------------------------------------------------------


def _numeric_column(name: str, buffer: np.ndarray, reference_rows: int,
                    options: StreamOptions, *, integer: bool = False):
    """(drift, quality, current missing, reference profile, current profile, seconds by step)
    of one column from its buffer: reference values, then current values (sorted in place)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    clock = cpu = time.thread_time()  # steps in this thread's CPU seconds (others' load aside)
    ref, cur = buffer[:reference_rows], buffer[reference_rows:]
    kind: ColumnKind = "numeric"
    if integer and _distinct_at_most(ref, INTEGER_CARDINALITY_LIMIT):
        kind = "categorical"  # Evidently's rule, as `drift.column_kinds`: few integer values
    ref.sort()  # in place: NaN last, ±inf at the ends
    cur.sort()
    clock = _lap(timings, "sort", clock)
    finite = _all_finite(ref) and _all_finite(cur)
    if finite:
        ref_sorted, ref_dropped, cur_sorted, cur_dropped = ref, 0, cur, 0
        joined: np.ndarray | None = buffer  # both sorted runs, side by side
    else:  # NaN or ±inf: quality from every value, statistics from the finite ones (copies)
        quality, cur_missing = _numeric_quality(name, ref, cur, kind)
        ref_sorted, cur_sorted = ref[np.isfinite(ref)], cur[np.isfinite(cur)]  # still sorted
        ref_dropped, cur_dropped = len(ref) - len(ref_sorted), len(cur) - len(cur_sorted)
        joined = None
    del ref, cur
    if len(ref_sorted) == 0 or len(cur_sorted) == 0:
        batch = "reference" if len(ref_sorted) == 0 else "current"
        raise InputDataError(f"column {name!r} has no non-missing values in the {batch} batch; "
                             "drift needs at least one value on each side (drop the column)")
    if finite:
        quality, cur_missing = _sorted_quality(name, ref_sorted, cur_sorted, kind)
    clock = _lap(timings, "quality", clock)
    if kind == "categorical":  # profiled like the in-memory path profiles such a column
        ref_profile: Any = _integer_counts(ref_sorted, ref_dropped)
        cur_profile: Any = _integer_counts(cur_sorted, cur_dropped)
        reference_std = float("nan")
    else:
        ref_profile = profile_sorted(name, ref_sorted, ref_dropped)
        cur_profile = profile_sorted(name, cur_sorted, cur_dropped, ref_profile.edges)
        reference_std = float(np.sqrt(ref_profile.m2 / ref_profile.count))
    clock = _lap(timings, "profile", clock)
    drift = None
    if options.exact:
        drift = _drift(name, ref_sorted, cur_sorted, joined, kind, options, reference_std)
        clock = _lap(timings, "drift", clock)
    thread = threading.current_thread().name
    timings[f"busy[{thread}]"] = time.perf_counter() - began
    timings[f"cpu[{thread}]"] = time.thread_time() - cpu
    return drift, quality, cur_missing, ref_profile, cur_profile, timings


def _all_finite(sorted_values: np.ndarray) -> bool:
    """Whether a sorted array holds no NaN and no ±inf (they sort to its ends)."""
    return len(sorted_values) == 0 or bool(
        np.isfinite(sorted_values[0]) and np.isfinite(sorted_values[-1]))


def _lap(timings: dict[str, float], step: str, since: float) -> float:
    now = time.thread_time()
    timings[step] = timings.get(step, 0.0) + now - since
    return now


def _drift(name: str, ref: np.ndarray, cur: np.ndarray, joined: np.ndarray | None,
           kind: ColumnKind, options: StreamOptions, reference_std: float) -> FeatureDrift:
    """`feature_drift` of one column from its sorted finite values (see "Exactness");
    `reference_std`: the reference's population standard deviation (from its profile)."""
    method = options.method
    if (kind != "numeric" or method not in _FAST_METHODS
            or (method not in _NUMERIC_ONLY and _few_distinct(ref, cur))):
        (drift,) = feature_drift(  # the rare cases: as in memory, on float64 copies
            pd.DataFrame({name: ref.astype(np.float64)}, copy=False),
            pd.DataFrame({name: cur.astype(np.float64)}, copy=False),
            columns=[name], kinds={name: kind}, method=method,
            threshold=options.threshold, n_jobs=1,
        )
        return drift
    edges = np.unique(sorted_quantiles(ref, DECILES))  # drift_stats.quantile_bins
    ref_counts = np.diff(np.r_[0, count_below(ref, edges), len(ref)])
    cur_counts = np.diff(np.r_[0, count_below(cur, edges), len(cur)])
    if joined is None:
        joined = np.concatenate([ref, cur])
    ks_statistic, wasserstein_raw = _ecdf_gaps(joined, len(ref))
    small = max(len(ref), len(cur)) <= KS_EXACT_MAX_N  # scipy's exact test: on float64
    stats = {  # drift_stats.numeric_stats, key for key
        "ks_statistic": ks_statistic,
        "ks_pvalue": _ks_pvalue(ks_statistic, ref.astype(np.float64) if small else ref,
                                cur.astype(np.float64) if small else cur),
        "wasserstein": wasserstein_raw / max(reference_std, WASSERSTEIN_MIN_NORM),
        "psi": psi(ref_counts, cur_counts),
        "js_distance": js_distance(ref_counts, cur_counts),
    }
    if method == "auto":
        method = _auto_method("numeric", len(ref), False)
    spec = METHODS[method]
    score = stats[spec.statistic]
    limit = spec.threshold if options.threshold is None else options.threshold
    return FeatureDrift(feature=name, kind="numeric", method=method, score=score,
                        threshold=limit, drifted=bool(spec.drifted(score, limit)), stats=stats,
                        histogram=Histogram.numeric(edges, ref_counts, cur_counts))


def _ecdf_gaps(joined: np.ndarray, n_ref: int) -> tuple[float, float]:
    """(KS D, raw Wasserstein-1) of [sorted reference | sorted current], as
    `drift_stats._ecdf_gaps` computes them (one stable merge of the two sorted runs), with the
    steps between merged values taken in float64: D bit-identical for float32 values. Every
    array but the merge order lives in this thread's scratch (no page faults per column)."""
    n = len(joined)
    n_cur = n - n_ref
    scratch = _scratch_arrays()
    count_type = np.int32 if n < 2**31 else np.int64
    order = np.argsort(joined, kind="stable")  # two sorted runs: one timsort merge, O(n)
    merged = np.take(joined, order, out=scratch.get("merged", joined.dtype, n))
    flags = scratch.get("flags", np.bool_, n)
    ref_le = np.cumsum(np.less(order, n_ref, out=flags), dtype=count_type,
                       out=scratch.get("ref_le", count_type, n))  # #ref ≤ merged[k]
    del order
    cur_le = np.subtract(scratch.positions(count_type, n), ref_le,
                         out=scratch.get("cur_le", count_type, n))
    last_of_value = flags
    np.not_equal(merged[1:], merged[:-1], out=last_of_value[:-1])
    last_of_value[-1] = True
    if not last_of_value.all():  # ties: each value's last position, where counts are ≤ v
        merged, ref_le, cur_le = merged[last_of_value], ref_le[last_of_value], cur_le[last_of_value]
    size = len(merged)
    gaps = np.divide(ref_le, n_ref, out=scratch.get("gaps", np.float64, n)[:size])
    gaps -= np.divide(cur_le, n_cur, out=scratch.get("steps", np.float64, n)[:size])
    np.abs(gaps, out=gaps)
    steps = np.subtract(merged[1:], merged[:-1], dtype=np.float64,
                        out=scratch.get("steps", np.float64, n)[: size - 1])
    # Σ gap·step as scipy's wasserstein_distance sums it (multiply, pairwise sum), not np.dot:
    # OpenBLAS would run it on a second thread that then spins, costing the other core
    return float(gaps.max()), float(np.multiply(gaps[:-1], steps, out=steps).sum())


class _Scratch:
    """One compute thread's scratch arrays, kept from column to column (no page faults)."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, dtype: Any, size: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        array = self._arrays.get(name)
        if array is None or array.nbytes < size * dtype.itemsize:
            self._arrays.pop(name, None)  # the old map is unmapped first
            array = self._arrays[name] = _released_buffer(size * dtype.itemsize, np.uint8)
        return array[: size * dtype.itemsize].view(dtype)

    def positions(self, dtype: Any, size: int) -> np.ndarray:
        """1, 2, … size (kept: the same for every column of a plan)."""
        array = self.get("positions", dtype, size)
        if array[-1] != size or array[0] != 1:
            array[:] = np.arange(1, size + 1, dtype=dtype)
        return array


_SCRATCH_LOCK = threading.Lock()
_SCRATCH: dict[int, _Scratch] = {}


def _scratch_arrays() -> _Scratch:
    with _SCRATCH_LOCK:
        return _SCRATCH.setdefault(threading.get_ident(), _Scratch())


def _sorted_quality(name: str, ref: np.ndarray, cur: np.ndarray, kind: ColumnKind
                    ) -> tuple[list[MetricValue], int]:
    """`_numeric_quality` of two sorted all-finite batches, by binary search."""
    values = [MetricValue("missing_share", 0.0, name)]
    if kind == "categorical":
        keys = np.unique(ref)
        at = np.minimum(np.searchsorted(keys, cur), len(keys) - 1)
        share = float(np.mean(keys[at] != cur))
        return [*values, MetricValue("unseen_category_share", share, name)], 0
    outside = int(np.searchsorted(cur, ref[0], side="left")) + (
        len(cur) - int(np.searchsorted(cur, ref[-1], side="right")))
    values.append(MetricValue("out_of_range_share", outside / len(cur), name))
    return values, 0


def _integer_counts(values: np.ndarray, missing: int) -> CategoryCounts:
    counts = CategoryCounts.of(pd.Series(values.astype(np.int64)))
    return CategoryCounts(counts.top, counts.other, missing)


def _distinct_at_most(values: np.ndarray, limit: int) -> bool:
    present = values[~np.isnan(values)]
    return len(np.unique(present[: 100 * limit])) <= limit and len(np.unique(present)) <= limit


def _numeric_quality(name: str, ref: np.ndarray, cur: np.ndarray, kind: ColumnKind
                     ) -> tuple[list[MetricValue], int]:
    """missing_share and out_of_range_share (unseen_category_share for an integer column
    analysed as categorical) exactly as `metrics.quality` defines them."""
    cur_missing = int(np.isnan(cur).sum())
    values = [MetricValue("missing_share", cur_missing / len(cur), name)]
    ref_present = ref[~np.isnan(ref)]
    cur_present = cur[~np.isnan(cur)]
    if kind == "categorical":
        unseen = ~np.isin(cur_present, np.unique(ref_present))
        share = float(unseen.mean()) if len(cur_present) else float("nan")
        return [*values, MetricValue("unseen_category_share", share, name)], cur_missing
    if len(ref_present) and len(cur_present):
        low, high = ref_present.min(), ref_present.max()
        share = float(np.mean((cur_present < low) | (cur_present > high)))
    else:
        share = float("nan")
    values.append(MetricValue("out_of_range_share", share, name))
    return values, cur_missing


def _categorical_quality(name: str, ref: pd.Series, cur: pd.Series) -> list[MetricValue]:
    present = cur.dropna()
    unseen = ~present.astype(object).isin(ref.dropna().astype(object).unique())
    return [
        MetricValue("missing_share", float(cur.isna().mean()), name),
        MetricValue("unseen_category_share",
                    float(unseen.mean()) if len(present) else float("nan"), name),
    ]


def _non_missing(profile: BatchProfile, column: str) -> int:
    if column in profile.categorical:
        return profile.categorical[column].count
    return int(profile.count[profile.numeric.index(column)])


def _strength(drift: FeatureDrift) -> float:
    """How strongly a feature drifted, comparable within one method: p-values invert."""
    return -drift.score if drift.method in ("ks", "chi2", "z") else drift.score
