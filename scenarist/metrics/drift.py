"""Per-feature drift between a reference batch and a current batch: pure functions over DataFrames.

`feature_drift` computes, for every column, all statistics of its kind (definitions in
`scenarist.metrics.drift_stats`) and a verdict from one of them; `drift_share` is the share of
drifted columns. Results convert to long-form `MetricValue`s with `FeatureDrift.metric_values`.

Missing values. As Evidently does, each column is cleaned per batch: NaN/None (and ±inf in
numeric columns) are dropped, and the sizes below are the sizes after cleaning. A column with
no value left in either batch is an InputDataError.

Column kinds (`column_kinds`, Evidently 0.7's `infer_column_type`, applied to the reference):
    float                          → numeric
    integer (incl. unsigned and nullable Int64)
                                   → categorical if the reference has ≤ 10 distinct values,
                                     else numeric
    bool, category, object, string → categorical
    anything else (datetime, …)    → unsupported: skipped when columns=None, an error if named
Then, as Evidently's test choice does, a numeric column whose two batches together hold at most
5 distinct values is analysed as categorical (its values are the categories) — unless the method
asked for is numeric-only ("ks", "wasserstein").

Methods and verdicts (default thresholds are Evidently's; `threshold` overrides them):
    "ks"             ks_pvalue      drifted when p ≤ 0.05   numeric
    "wasserstein"    wasserstein    drifted when d ≥ 0.1    numeric
    "chi2"           chi2_pvalue    drifted when p < 0.05   categorical
    "z"              z_pvalue       drifted when p < 0.05   categorical, at most 2 categories
    "jensenshannon"  js_distance    drifted when d ≥ 0.1    both
    "psi"            psi            drifted when d ≥ 0.1    both
The comparisons are Evidently's own (note KS uses ≤, chi-square and Z use <).

"auto" is Evidently 0.7's DataDriftPreset default (`_get_default_stattest`), with n_ref the
reference's non-missing count and "distinct values" counted over both batches:
    numeric,     n_ref ≤ 1000 → "ks";   n_ref > 1000 → "wasserstein"
    categorical, n_ref ≤ 1000 → "z" if ≤ 2 distinct values else "chi2";
                 n_ref > 1000 → "jensenshannon"

Known deviations from Evidently: it infers column kinds from the *current* batch when given
DataFrames, this module from the reference; it treats strings with more than 50% distinct
values as text (a domain-classifier test), here they are categorical; unsigned and nullable
integers are "unknown" (skipped) there, integers here; for an explicit "psi"/"jensenshannon" on
a numeric column it bins on a Sturges histogram of both batches, here on reference deciles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple, get_args

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError
from scenarist.metrics.drift_stats import (
    categorical_stats,
    numeric_stats,
    quantile_bins,
    sorted_value_counts,
)
from scenarist.metrics.values import ColumnKind, MetricValue

# Evidently's limits: integer columns with ≤ 10 distinct values are categorical; numeric columns
# with ≤ 5 distinct values get categorical tests; p-value tests up to 1000 reference rows.
INTEGER_CARDINALITY_LIMIT = 10
LOW_CARDINALITY_LIMIT = 5
AUTO_SMALL_REFERENCE = 1000


class _Method(NamedTuple):
    statistic: str
    threshold: float
    kinds: tuple[ColumnKind, ...]
    drifted: Callable[[float, float], bool]


def _p_value_at_most(score: float, threshold: float) -> bool:
    return score <= threshold


def _p_value_below(score: float, threshold: float) -> bool:
    return score < threshold


def _distance_at_least(score: float, threshold: float) -> bool:
    return score >= threshold


METHODS: dict[str, _Method] = {
    "ks": _Method("ks_pvalue", 0.05, ("numeric",), _p_value_at_most),
    "wasserstein": _Method("wasserstein", 0.1, ("numeric",), _distance_at_least),
    "chi2": _Method("chi2_pvalue", 0.05, ("categorical",), _p_value_below),
    "z": _Method("z_pvalue", 0.05, ("categorical",), _p_value_below),
    "jensenshannon": _Method("js_distance", 0.1, ("numeric", "categorical"), _distance_at_least),
    "psi": _Method("psi", 0.1, ("numeric", "categorical"), _distance_at_least),
}
_NUMERIC_ONLY = {name for name, m in METHODS.items() if m.kinds == ("numeric",)}


HISTOGRAM_CATEGORIES = 20  # categories kept by name in a histogram; the rest is "(other)"


@dataclass(frozen=True)
class Histogram:
    """Both batches' counts over the bins the statistics used, for reports.

    Numeric columns: the reference-quantile bins (`edges` are the inner edges; the outer bins
    are open-ended). Categorical columns: the most frequent categories, the rest as "(other)".
    """

    bins: tuple[str, ...]
    reference: tuple[int, ...]
    current: tuple[int, ...]
    edges: tuple[float, ...] | None = None

    @classmethod
    def numeric(cls, edges: np.ndarray, ref: np.ndarray, cur: np.ndarray) -> Histogram:
        bounds = ["-inf", *(f"{e:.4g}" for e in edges), "inf"]
        bins = tuple(f"[{low}, {high})" for low, high in zip(bounds, bounds[1:], strict=False))
        return cls(bins, tuple(map(int, ref)), tuple(map(int, cur)), tuple(map(float, edges)))

    @classmethod
    def categorical(cls, labels: Sequence[object], ref: np.ndarray, cur: np.ndarray) -> Histogram:
        order = np.argsort(-(ref + cur), kind="stable")
        keep, rest = order[:HISTOGRAM_CATEGORIES], order[HISTOGRAM_CATEGORIES:]
        bins = [str(labels[i]) for i in keep]
        ref_counts, cur_counts = [int(ref[i]) for i in keep], [int(cur[i]) for i in keep]
        if len(rest):
            bins.append("(other)")
            ref_counts.append(int(ref[rest].sum()))
            cur_counts.append(int(cur[rest].sum()))
        return cls(tuple(bins), tuple(ref_counts), tuple(cur_counts))

    def as_dict(self) -> dict[str, object]:
        return {"bins": list(self.bins), "reference": list(self.reference),
                "current": list(self.current), "edges": None if self.edges is None
                else list(self.edges)}


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one column: every statistic of its kind and the verdict of one method."""

    feature: str
    kind: ColumnKind  # the kind the column was analysed as (see the module docstring)
    method: str  # the method that gave the verdict
    score: float  # stats[METHODS[method].statistic]
    threshold: float
    drifted: bool
    stats: Mapping[str, float] = field(hash=False)
    histogram: Histogram | None = field(default=None, compare=False, hash=False)
    # the p-value the verdict was taken on after multiple-testing correction (p-value tests
    # only; set by `multiple_testing.correct_drift`)
    adjusted_pvalue: float | None = None

    def metric_values(self) -> list[MetricValue]:
        """Every statistic, `feature_drift` (the score), `adjusted_pvalue` when corrected and
        `drifted` (0/1), long-form."""
        values = [MetricValue(name, value, self.feature) for name, value in self.stats.items()]
        values.append(MetricValue("feature_drift", self.score, self.feature))
        if self.adjusted_pvalue is not None:
            values.append(MetricValue("adjusted_pvalue", self.adjusted_pvalue, self.feature))
        values.append(MetricValue("drifted", float(self.drifted), self.feature))
        return values


def column_kinds(
    reference: pd.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, ColumnKind]:
    """Kind of each column by Evidently 0.7's inference rule, applied to the reference.

    float → numeric; integer → categorical with ≤ 10 distinct reference values, else numeric;
    bool, category, object, string → categorical. Columns of other dtypes (datetime, timedelta,
    complex, …) are skipped when `columns` is None and raise InputDataError when named.
    """
    if columns is None:
        kinds = {c: _dtype_kind(reference[c]) for c in reference.columns}
        return {name: kind for name, kind in kinds.items() if kind is not None}
    _check_columns(columns, reference, "reference")
    kinds = {}
    for name in columns:
        kind = _dtype_kind(reference[name])
        if kind is None:
            raise InputDataError(
                f"column {name!r} has dtype {reference[name].dtype}, which has no drift "
                "statistics; drop it or pass kinds={...} with 'numeric' or 'categorical'"
            )
        kinds[name] = kind
    return kinds


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, ColumnKind] | None = None,
    method: str = "auto",
    threshold: float | None = None,
    n_jobs: int = 2,
) -> list[FeatureDrift]:
    """Drift of each column of `current` against `reference`, in column order.

    `columns` defaults to the reference's columns of a supported dtype; `kinds` overrides
    `column_kinds` for the columns it names; `method` is "auto" or a name in METHODS;
    `threshold` overrides the method's default. Columns are computed on `n_jobs` threads.
    """
    if method != "auto" and method not in METHODS:
        raise InputDataError(f"unknown drift method {method!r}; choose one of {['auto', *METHODS]}")
    if n_jobs < 1:
        raise InputDataError(f"n_jobs must be at least 1, got {n_jobs}")
    overrides = dict(kinds or {})
    for name, kind in overrides.items():
        if kind not in get_args(ColumnKind):
            raise InputDataError(
                f"unknown kind {kind!r} for column {name!r}; choose one of {get_args(ColumnKind)}"
            )
    if columns is None:
        inferred = column_kinds(reference)
        columns = [c for c in reference.columns if c in inferred or c in overrides]
    else:
        columns = list(columns)
        inferred = column_kinds(reference, [c for c in columns if c not in overrides])
    _check_columns(columns, reference, "reference")
    _check_columns(columns, current, "current")
    _check_columns(list(overrides), reference, "reference")
    resolved = {name: overrides.get(name) or inferred[name] for name in columns}

    def one(name: str) -> FeatureDrift:
        return _column_drift(
            name, reference[name], current[name], resolved[name], method, threshold
        )

    if n_jobs == 1 or len(columns) <= 1:
        return [one(name) for name in columns]
    # Categorical columns first: hashing Python objects holds the GIL, so they should overlap
    # with the numeric columns, whose sorts and merges release it, rather than with each other.
    gil_bound_first = sorted(columns, key=lambda name: resolved[name] == "numeric")
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        futures = {name: pool.submit(one, name) for name in gil_bound_first}
        return [futures[name].result() for name in columns]


def drift_share(results: Sequence[FeatureDrift]) -> float:
    """Share of drifted columns in [0, 1]; NaN when there are no columns."""
    if not results:
        return float("nan")
    return sum(r.drifted for r in results) / len(results)


def _column_drift(
    name: str,
    ref: pd.Series,
    cur: pd.Series,
    kind: ColumnKind,
    method: str,
    threshold: float | None,
) -> FeatureDrift:
    if kind == "categorical" and method in _NUMERIC_ONLY:
        raise InputDataError(
            f"method {method!r} needs a numeric column but {name!r} is categorical; choose one "
            f"of {[m for m, spec in METHODS.items() if 'categorical' in spec.kinds]}"
        )
    kind, stats, n_ref, histogram = _column_stats(
        name, ref, cur, kind, keep_numeric=method in _NUMERIC_ONLY
    )
    if method == "auto":
        method = _auto_method(kind, n_ref, "z_pvalue" in stats)
    spec = METHODS[method]
    if spec.statistic not in stats:  # only "z" on a column with more than two categories
        raise InputDataError(
            f"method 'z' needs at most 2 categories but column {name!r} has more; use 'chi2'"
        )
    score = stats[spec.statistic]
    limit = spec.threshold if threshold is None else threshold
    return FeatureDrift(
        feature=name,
        kind=kind,
        method=method,
        score=score,
        threshold=limit,
        drifted=bool(spec.drifted(score, limit)),
        stats=stats,
        histogram=histogram,
    )


def _column_stats(
    name: str, ref: pd.Series, cur: pd.Series, kind: ColumnKind, *, keep_numeric: bool
) -> tuple[ColumnKind, dict[str, float], int, Histogram]:
    """(kind analysed as, statistics, non-missing reference count, histogram) of one column."""
    if kind == "categorical":
        labels, ref_counts, cur_counts = _aligned_value_counts(name, ref, cur)
        return (kind, categorical_stats(ref_counts, cur_counts), int(ref_counts.sum()),
                Histogram.categorical(labels, ref_counts, cur_counts))
    ref_values = _sorted_finite(name, ref, "reference")
    cur_values = _sorted_finite(name, cur, "current")
    if keep_numeric or not _few_distinct(ref_values, cur_values):
        edges, ref_counts, cur_counts = quantile_bins(ref_values, cur_values)
        stats = numeric_stats(ref_values, cur_values, (ref_counts, cur_counts))
        return kind, stats, len(ref_values), Histogram.numeric(edges, ref_counts, cur_counts)
    labels, ref_counts, cur_counts = _aligned_sorted_counts(ref_values, cur_values)
    return ("categorical", categorical_stats(ref_counts, cur_counts), len(ref_values),
            Histogram.categorical([f"{v:g}" for v in labels], ref_counts, cur_counts))


def _auto_method(kind: ColumnKind, n_ref: int, binary: bool) -> str:
    """Evidently 0.7's `_get_default_stattest` (see the module docstring)."""
    if kind == "numeric":
        return "ks" if n_ref <= AUTO_SMALL_REFERENCE else "wasserstein"
    if n_ref <= AUTO_SMALL_REFERENCE:
        return "z" if binary else "chi2"
    return "jensenshannon"


def _dtype_kind(series: pd.Series) -> ColumnKind | None:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric"
    if pd.api.types.is_integer_dtype(dtype):
        return "categorical" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "numeric"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    return None


def _check_columns(columns: Sequence[str], frame: pd.DataFrame, batch: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"column(s) {missing} not in the {batch} batch; its columns are {list(frame.columns)}"
        )


def _sorted_finite(name: str, series: pd.Series, batch: str) -> np.ndarray:
    """The column's finite values as a new sorted float64 array."""
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputDataError(
            f"column {name!r} is analysed as numeric but its {batch} values are not numbers "
            f"(dtype {series.dtype}); pass kinds={{{name!r}: 'categorical'}}"
        ) from exc
    finite = np.isfinite(values)
    if finite.all():
        return np.sort(values)  # a sorted copy: the caller's data is left alone
    values = values[finite]
    if len(values) == 0:
        raise _empty_column(name, batch)
    values.sort()
    return values


def _few_distinct(ref: np.ndarray, cur: np.ndarray) -> bool:
    """Whether two sorted arrays hold at most LOW_CARDINALITY_LIMIT distinct values together."""
    if any(np.count_nonzero(v[1:] != v[:-1]) >= LOW_CARDINALITY_LIMIT for v in (ref, cur)):
        return False
    union = np.union1d(sorted_value_counts(ref)[0], sorted_value_counts(cur)[0])
    return len(union) <= LOW_CARDINALITY_LIMIT


def _aligned_sorted_counts(
    ref: np.ndarray, cur: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (ref_keys, ref_n), (cur_keys, cur_n) = sorted_value_counts(ref), sorted_value_counts(cur)
    union = np.union1d(ref_keys, cur_keys)
    ref_counts = np.zeros(len(union), dtype=np.int64)
    cur_counts = np.zeros(len(union), dtype=np.int64)
    ref_counts[np.searchsorted(union, ref_keys)] = ref_n
    cur_counts[np.searchsorted(union, cur_keys)] = cur_n
    return union, ref_counts, cur_counts


def _aligned_value_counts(
    name: str, ref: pd.Series, cur: pd.Series
) -> tuple[list[object], np.ndarray, np.ndarray]:
    """The union of the categories and each batch's counts over it, in one order."""
    ref_counts = _value_counts(name, ref, "reference")
    cur_counts = _value_counts(name, cur, "current")
    union = ref_counts.index.append(cur_counts.index).unique()
    return (
        list(union),
        ref_counts.reindex(union, fill_value=0).to_numpy(dtype=np.int64),
        cur_counts.reindex(union, fill_value=0).to_numpy(dtype=np.int64),
    )


def _value_counts(name: str, series: pd.Series, batch: str) -> pd.Series:
    """Count of each non-missing value (factorize + bincount: faster than value_counts)."""
    if pd.api.types.is_float_dtype(series.dtype):
        series = series.replace([-np.inf, np.inf], np.nan)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    counts = pd.Series(
        np.bincount(codes + 1, minlength=len(uniques) + 1)[1:],  # code -1 is a missing value
        index=pd.Index(uniques).astype(object),
    )
    counts = counts[counts > 0]
    if counts.empty:
        raise _empty_column(name, batch)
    return counts


def _empty_column(name: str, batch: str) -> InputDataError:
    return InputDataError(
        f"column {name!r} has no non-missing values in the {batch} batch; "
        "drift needs at least one value on each side (drop the column or fix the data)"
    )
