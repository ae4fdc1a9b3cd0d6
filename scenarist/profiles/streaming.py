"""Streaming evaluation of a Parquet batch against a Parquet reference with bounded memory.

    plan = plan_stream("ref.parquet", "s3://bucket/day=2026-11-23/", options=StreamOptions())
    results = [evaluate_group(plan, group) for group in plan.groups]   # anywhere: Dask, threads
    computed, current_profile, reference_profile = combine(plan, results)

A source is a Parquet file or a directory/dataset of them, local or at any fsspec URL
(`s3://`, `gs://`, `az://`, `memory://`, …). The columns are split into column groups sized so
that one group of both batches fits in `memory_limit`; a group is read in row chunks of
`row_chunk` rows straight into one float64 array per column (no DataFrame of the whole batch),
then each column gets exactly the statistics an in-memory evaluation gives it
(`scenarist.metrics.drift.feature_drift` on its values: the same numbers) and its profiles
(`scenarist.profiles.profile`). With `exact=False` the drift statistics come from the profiles
instead (`scenarist.profiles.window`: PSI/JS exact, KS/Wasserstein within their stated error),
which skips the merge of both batches, the costliest step over millions of rows.

Memory: a group holds 8 bytes per value of both batches; each of the `n_jobs` columns computed
at once needs about 7 times its own size in scratch (sorted copies, merge order, CDF gaps).
Categorical columns (strings, booleans, dictionaries) are read whole as pandas categoricals.
What a streamed evaluation has: per-feature drift, drift_share, n_drifted_features, row_count,
missing_share (dataset and per feature), out_of_range_share / unseen_category_share, and the
profiles; it has no model predictions, so no dataset-level domain classifier, prediction drift
or performance.
"""

from __future__ import annotations

import mmap
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from scenarist.errors import InputDataError
from scenarist.metrics import sufficiency
from scenarist.metrics.drift import (
    INTEGER_CARDINALITY_LIMIT,
    FeatureDrift,
    feature_drift,
)
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.multiple_testing import Correction
from scenarist.metrics.values import ColumnKind, MetricValue
from scenarist.profiles.profile import (
    BatchProfile,
    CategoryCounts,
    NumericColumnProfile,
    assemble,
    profile_sorted,
)
from scenarist.profiles.window import window_drift

DEFAULT_MEMORY_LIMIT = 2 * 1024**3
SCRATCH_FACTOR = 7  # bytes of scratch per byte of a column while its statistics are computed
TOP_DRIFTED = 10


@dataclass(frozen=True)
class StreamOptions:
    """How a streaming evaluation runs (see the module docstring)."""

    memory_limit: int = DEFAULT_MEMORY_LIMIT  # bytes for one column group of both batches
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


def plan_stream(
    reference: str | Path,
    current: str | Path,
    *,
    columns: Sequence[str] | None = None,
    options: StreamOptions | None = None,
) -> StreamPlan:
    """Check both sources and split their columns into groups that fit `memory_limit`."""
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
    per_column = 8 * (n_ref + n_cur)
    scratch = SCRATCH_FACTOR * per_column * options.n_jobs
    if per_column + scratch > options.memory_limit:
        need = per_column * (1 + SCRATCH_FACTOR * options.n_jobs)
        raise InputDataError(
            f"one column of both batches ({n_ref:,} + {n_cur:,} rows) needs about "
            f"{need / 2**20:,.0f} MiB with n_jobs={options.n_jobs}; raise memory_limit to at "
            f"least that (it is {options.memory_limit / 2**20:,.0f} MiB) or lower n_jobs"
        )
    size = max(1, int((options.memory_limit - scratch) // per_column))
    names = list(kinds)
    groups = tuple(tuple(names[i : i + size]) for i in range(0, len(names), size))
    integers = frozenset(c for c in kinds if pa.types.is_integer(ref_ds.schema.field(c).type))
    return StreamPlan(str(reference), str(current), n_ref, n_cur, kinds, groups, options,
                      integers)


def evaluate_group(plan: StreamPlan, columns: Sequence[str]) -> GroupResult:
    """Drift, quality and profiles of one column group (runs anywhere the sources are read)."""
    started = time.perf_counter()
    options = plan.options
    numeric = [c for c in columns if plan.kinds[c] == "numeric"]
    categorical = [c for c in columns if plan.kinds[c] == "categorical"]
    ref_values = _read_numeric(plan.reference, numeric, plan.reference_rows, options.row_chunk)
    cur_values = _read_numeric(plan.current, numeric, plan.current_rows, options.row_chunk)

    def one(name: str) -> tuple[FeatureDrift | None, list[MetricValue], int, Any, Any]:
        return _numeric_column(name, ref_values.pop(name), cur_values.pop(name), options,
                               integer=name in plan.integers)

    with ThreadPoolExecutor(max_workers=options.n_jobs) as pool:
        numeric_results = list(pool.map(one, numeric))
    drifts = [r[0] for r in numeric_results if r[0] is not None]
    quality = [v for r in numeric_results for v in r[1]]
    missing_cells = sum(r[2] for r in numeric_results)
    profiled = [(name, r[3], r[4]) for name, r in zip(numeric, numeric_results, strict=True)]
    ref_profiles = [ref for _, ref, _ in profiled if not isinstance(ref, CategoryCounts)]
    cur_profiles = [cur for _, _, cur in profiled if not isinstance(cur, CategoryCounts)]
    ref_categories = {n: ref for n, ref, _ in profiled if isinstance(ref, CategoryCounts)}
    cur_categories = {n: cur for n, _, cur in profiled if isinstance(cur, CategoryCounts)}
    if categorical:
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
    if not options.exact:
        drifts = list(window_drift(
            assemble(plan.reference_rows, ref_profiles, ref_categories),
            [assemble(plan.current_rows, cur_profiles, cur_categories)],
            method=options.method, threshold=options.threshold,
            correction="none",  # `combine` corrects over every column at once
        ).features)
    return GroupResult(drifts, quality, missing_cells, ref_profiles, cur_profiles,
                       ref_categories, cur_categories, time.perf_counter() - started)


def combine(
    plan: StreamPlan, results: Sequence[GroupResult]
) -> tuple[ComputedEvaluation, BatchProfile, BatchProfile]:
    """One evaluation (metrics and details) and both batches' profiles from every group."""
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
            "row_chunk": options.row_chunk, "exact": options.exact,
            "group_seconds": round(sum(r.seconds for r in results), 3),
        },
    }
    computed = ComputedEvaluation(values=values, row_count=plan.current_rows,
                                  reference_row_count=plan.reference_rows, details=details)
    return computed, profiles[0], profiles[1]


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


def _read_numeric(source: str, columns: list[str], rows: int, chunk: int
                  ) -> dict[str, np.ndarray]:
    """Each column as one float64 array (nulls → NaN), filled chunk by chunk."""
    arrays = {name: _released_buffer(rows) for name in columns}
    if not columns:
        return arrays
    position = 0
    try:
        batches = open_parquet(source).to_batches(  # little read-ahead: memory stays bounded
            columns=columns, batch_size=chunk, batch_readahead=2, fragment_readahead=1)
        for batch in batches:
            end = position + batch.num_rows
            if end > rows:
                raise InputDataError(f"{source} changed while it was read (more rows than the "
                                     f"{rows:,} counted); evaluate a batch that is not written to")
            for name, column in zip(columns, batch.columns, strict=True):
                arrays[name][position:end] = pc.cast(column, pa.float64()).to_numpy(
                    zero_copy_only=False)
            position = end
    except pa.ArrowException as exc:
        raise InputDataError(f"cannot read {columns[:5]} from {source}: {exc}") from exc
    if position != rows:
        raise InputDataError(f"{source} changed while it was read ({position:,} rows, "
                             f"{rows:,} counted); evaluate a batch that is not written to")
    return arrays


def _released_buffer(rows: int) -> np.ndarray:
    """An uninitialised float64 array in its own anonymous memory map: unmapped (given back to
    the operating system) as soon as it is garbage, whatever malloc's thresholds, so the column
    groups of a long streaming evaluation do not pile up in the process's heap."""
    if rows == 0:
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(mmap.mmap(-1, rows * 8), dtype=np.float64)


def _read_frame(source: str, columns: list[str]) -> pd.DataFrame:
    try:
        table = open_parquet(source).to_table(columns=columns)
    except pa.ArrowException as exc:
        raise InputDataError(f"cannot read {columns[:5]} from {source}: {exc}") from exc
    return table.to_pandas(strings_to_categorical=True)


# -- one column ----------------------------------------------------------------------------------


def _numeric_column(name: str, ref: np.ndarray, cur: np.ndarray, options: StreamOptions,
                    *, integer: bool = False):
    kind: ColumnKind = "numeric"
    if integer and _distinct_at_most(ref, INTEGER_CARDINALITY_LIMIT):
        kind = "categorical"  # Evidently's rule, as `drift.column_kinds`: few integer values
    quality, cur_missing = _numeric_quality(name, ref, cur, kind)
    ref_sorted, ref_dropped = _finite_sorted(ref)
    cur_sorted, cur_dropped = _finite_sorted(cur)
    del ref, cur
    if len(ref_sorted) == 0 or len(cur_sorted) == 0:
        batch = "reference" if len(ref_sorted) == 0 else "current"
        raise InputDataError(f"column {name!r} has no non-missing values in the {batch} batch; "
                             "drift needs at least one value on each side (drop the column)")
    if kind == "categorical":  # profiled like the in-memory path profiles such a column
        ref_profile: Any = _integer_counts(ref_sorted, ref_dropped)
        cur_profile: Any = _integer_counts(cur_sorted, cur_dropped)
    else:
        ref_profile = profile_sorted(name, ref_sorted, ref_dropped)
        cur_profile = profile_sorted(name, cur_sorted, cur_dropped, ref_profile.edges)
    drift = None
    if options.exact:
        (drift,) = feature_drift(
            pd.DataFrame({name: ref_sorted}, copy=False),
            pd.DataFrame({name: cur_sorted}, copy=False),
            columns=[name], kinds={name: kind}, method=options.method,
            threshold=options.threshold, n_jobs=1,
        )
    return drift, quality, cur_missing, ref_profile, cur_profile


def _integer_counts(values: np.ndarray, missing: int) -> CategoryCounts:
    counts = CategoryCounts.of(pd.Series(values.astype(np.int64)))
    return CategoryCounts(counts.top, counts.other, missing)


def _finite_sorted(values: np.ndarray) -> tuple[np.ndarray, int]:
    """The finite values sorted (in place when all are finite) and how many were dropped."""
    finite = np.isfinite(values)
    if finite.all():
        values.sort()
        return values, 0
    kept = values[finite]
    kept.sort()
    return kept, len(values) - len(kept)


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
