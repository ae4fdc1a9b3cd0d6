"""Mergeable per-column profiles of a batch: what drift over any window of batches needs.

    reference = profile_frame(reference_df)                    # edges come from the reference
    day = profile_frame(current_df, reference=reference)       # same edges, same columns
    week = merge_profiles([day1, day2, ...])                   # counts add, sketches merge

A `BatchProfile` holds, for every numeric column,
    count, missing        non-missing and missing (NaN, None, ±inf) values
    minimum, maximum      of the non-missing values
    mean, m2              mean and Σ(x − mean)², merged with Chan's parallel formula
    edges                 FINE_BINS − 1 inner edges, the reference's quantiles at 1%, 2%, … 99%
                          (numpy's "linear" method; the deciles exactly as drift_stats computes
                          them, so its 10 quantile bins are unions of 10 fine bins)
    counts                values in each of the FINE_BINS bins [e_i, e_i+1), the outer ones open
    sums                  the sum of the values in each bin (so ∫F dx over a bin is exact)
    sketch                an Apache DataSketches KLL sketch (k = KLL_K) of the values
and for every categorical column the TOP_K most frequent categories with their counts, the
count of the others, and the missing count.

Counts, minima, maxima and moments merge exactly; KLL sketches merge with the sketch's own
guarantee (normalized rank error `rank_error()`, ≈1.33% at k = 200, with 99% confidence). Top-K
categories are exact while every merged profile kept all its categories (≤ TOP_K distinct);
beyond that a category dropped from one profile is counted under "other" there.
Profiles are merged only when made against the same reference edges (`edges_digest`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import datasketches
import numpy as np
import pandas as pd

from scenarist.errors import InputDataError
from scenarist.metrics.drift_stats import DECILES

FINE_BINS = 100
KLL_K = 200
TOP_K = 50
FORMAT_VERSION = 1


def fine_probabilities() -> np.ndarray:
    """The quantile levels of the fine edges: 0.01 … 0.99, with the deciles computed exactly as
    `drift_stats.quantile_bins` computes them (so decile edges are bit-identical)."""
    probs = np.linspace(0.0, 1.0, FINE_BINS + 1)[1:-1]
    probs[FINE_BINS // 10 - 1 :: FINE_BINS // 10] = DECILES
    return probs


def fine_edges(sorted_reference: np.ndarray) -> np.ndarray:
    """The FINE_BINS − 1 inner edges of a column from its sorted finite reference values."""
    return sorted_quantiles(sorted_reference, fine_probabilities())


def sorted_quantiles(values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """np.quantile(values.astype(float64), probs) (method "linear") of a sorted array, float32
    or float64, without copying or re-partitioning it: the two neighbours of each quantile are
    taken as float64 and interpolated with numpy's own `_lerp` operations, so the result is
    bit-identical to np.quantile of the float64 values."""
    virtual = (len(values) - 1) * np.asarray(probs, dtype=np.float64)
    lower = np.minimum(np.floor(virtual), len(values) - 1)
    upper = np.minimum(lower + 1, len(values) - 1)
    gamma = virtual - lower
    below = values[lower.astype(np.intp)].astype(np.float64)
    above = values[upper.astype(np.intp)].astype(np.float64)
    step = above - below
    return np.where(gamma >= 0.5, above - step * (1 - gamma), below + step * gamma)


def count_below(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many of the sorted values are < each float64 edge, for float32 or float64 values,
    without converting the values (numpy would copy a float32 array to float64 to compare it
    with float64 edges): a float32 x is < e exactly when x < the smallest float32 ≥ e."""
    edges = np.asarray(edges, dtype=np.float64)
    if sorted_values.dtype == np.float32:
        with np.errstate(over="ignore"):
            rounded = edges.astype(np.float32)
        short = rounded.astype(np.float64) < edges
        rounded[short] = np.nextafter(rounded[short], np.float32(np.inf))
        return np.searchsorted(sorted_values, rounded, side="left")
    return np.searchsorted(sorted_values, edges.astype(sorted_values.dtype), side="left")


def rank_error() -> float:
    """The KLL sketches' normalized rank error for one rank/CDF query (99% confidence)."""
    return float(datasketches.kll_doubles_sketch.get_normalized_rank_error(KLL_K, False))


@dataclass(frozen=True)
class CategoryCounts:
    """A categorical column's profile: the TOP_K most frequent categories and the rest."""

    top: Mapping[str, int]
    other: int
    missing: int

    @property
    def count(self) -> int:
        return int(sum(self.top.values())) + self.other

    @classmethod
    def of(cls, series: pd.Series) -> CategoryCounts:
        counts = series.astype("object").where(series.notna()).value_counts(dropna=True)
        counts.index = counts.index.map(str)
        counts = counts.groupby(level=0).sum()
        return cls._top(dict(counts.items()), 0, int(series.isna().sum()))

    @classmethod
    def merge(cls, parts: Sequence[CategoryCounts]) -> CategoryCounts:
        total: dict[str, int] = {}
        for part in parts:
            for name, n in part.top.items():
                total[name] = total.get(name, 0) + int(n)
        return cls._top(total, sum(p.other for p in parts), sum(p.missing for p in parts))

    @classmethod
    def _top(cls, counts: dict[str, int], other: int, missing: int) -> CategoryCounts:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = dict((name, int(n)) for name, n in ranked[:TOP_K])
        return cls(kept, other + sum(int(n) for _, n in ranked[TOP_K:]), missing)


@dataclass(frozen=True)
class BatchProfile:
    """Profiles of every profiled column of one batch (see the module docstring).

    Numeric columns are stored column-wise: row i of each array belongs to `numeric[i]`."""

    rows: int
    numeric: tuple[str, ...]
    count: np.ndarray
    missing: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    edges: np.ndarray  # (len(numeric), FINE_BINS - 1)
    counts: np.ndarray  # (len(numeric), FINE_BINS)
    sums: np.ndarray  # (len(numeric), FINE_BINS)
    sketches: tuple[bytes, ...] = field(repr=False)
    categorical: Mapping[str, CategoryCounts] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @functools.cached_property
    def edges_digest(self) -> str:
        """A digest of the columns and their edges: profiles merge only when it is equal."""
        digest = hashlib.sha256(json.dumps([self.numeric, sorted(self.categorical)]).encode())
        digest.update(np.ascontiguousarray(self.edges, dtype=np.float64).tobytes())
        return digest.hexdigest()[:16]

    def sketch(self, column: str) -> datasketches.kll_doubles_sketch:
        """The KLL sketch of a numeric column."""
        return datasketches.kll_doubles_sketch.deserialize(self.sketches[self._index(column)])

    def quantiles(self, column: str, probs: Sequence[float]) -> list[float]:
        """Approximate quantiles of a numeric column from its sketch (rank error `rank_error()`)."""
        return list(self.sketch(column).get_quantiles(list(probs)))

    def std(self) -> np.ndarray:
        """Population standard deviation of each numeric column (NaN when it has no value)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.m2 / self.count)

    def _index(self, column: str) -> int:
        try:
            return self.numeric.index(column)
        except ValueError:
            raise InputDataError(
                f"column {column!r} has no numeric profile; numeric columns: {list(self.numeric)}"
            ) from None

    # -- serialization -------------------------------------------------------------------------

    def to_bytes(self, *, with_sketches: bool = True, with_edges: bool = True
                 ) -> tuple[bytes, bytes]:
        """(summary, sketches) as bytes; `from_bytes` reads them back. `with_edges=False`
        leaves out the edges (an evaluation's are its reference's: pass them back)."""
        counts = self.counts
        if counts.size and counts.max() < 2**31:
            counts = counts.astype(np.int32)  # half the bytes a window drift reads
        arrays = {"count": self.count, "missing": self.missing, "minimum": self.minimum,
                  "maximum": self.maximum, "mean": self.mean, "m2": self.m2,
                  "counts": counts, "sums": self.sums}
        if with_edges:
            arrays["edges"] = self.edges
        header = {
            "version": FORMAT_VERSION,
            "rows": self.rows,
            "numeric": list(self.numeric),
            "categorical": {
                name: {"top": dict(c.top), "other": c.other, "missing": c.missing}
                for name, c in self.categorical.items()
            },
            "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        }
        encoded = json.dumps(header).encode()
        parts = [len(encoded).to_bytes(8, "little"), encoded]
        parts += [np.ascontiguousarray(a).tobytes() for a in arrays.values()]
        sketches = b""
        if with_sketches:
            lengths = np.array([len(s) for s in self.sketches], dtype=np.int64)
            sketches = lengths.tobytes() + b"".join(self.sketches)
        return b"".join(parts), sketches

    @classmethod
    def from_bytes(cls, summary: bytes, sketches: bytes = b"", *,
                   edges: np.ndarray | None = None, digest: str | None = None) -> BatchProfile:
        """A profile from `to_bytes`' output; `edges` (and their known `digest`) when it was
        written without them."""
        size = int.from_bytes(summary[:8], "little")
        header = json.loads(summary[8 : 8 + size])
        if header.get("version") != FORMAT_VERSION:
            raise InputDataError(f"profile format {header.get('version')} is not supported")
        arrays, offset = {}, 8 + size
        for name, dtype, shape in header["arrays"]:
            count = int(np.prod(shape))
            arrays[name] = np.frombuffer(summary, dtype=dtype, count=count,
                                         offset=offset).reshape(shape)
            offset += count * np.dtype(dtype).itemsize
        if "edges" not in arrays and edges is None:
            raise InputDataError("this profile was stored without its edges; pass the "
                                 "reference's edges")
        numeric = tuple(header["numeric"])
        blobs: tuple[bytes, ...] = ()
        if sketches:
            lengths = np.frombuffer(sketches[: 8 * len(numeric)], dtype=np.int64)
            ends = 8 * len(numeric) + np.cumsum(lengths)
            blobs = tuple(sketches[end - n : end] for n, end in zip(lengths, ends, strict=True))
        profile = cls(
            rows=int(header["rows"]), numeric=numeric,
            count=arrays["count"], missing=arrays["missing"], minimum=arrays["minimum"],
            maximum=arrays["maximum"], mean=arrays["mean"], m2=arrays["m2"],
            edges=arrays["edges"] if "edges" in arrays else edges,
            counts=arrays["counts"].astype(np.int64), sums=arrays["sums"], sketches=blobs,
            categorical={
                name: CategoryCounts(c["top"], int(c["other"]), int(c["missing"]))
                for name, c in header["categorical"].items()
            },
        )
        if digest is not None:
            profile.__dict__["edges_digest"] = digest  # known: skip hashing the edges again
        return profile


@dataclass
class NumericColumnProfile:
    """One numeric column's profile, as `profile_sorted` builds it (assembled into a batch)."""

    name: str
    count: int
    missing: int
    minimum: float
    maximum: float
    mean: float
    m2: float
    edges: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    sketch: bytes


def profile_sorted(
    name: str, sorted_values: np.ndarray, missing: int, edges: np.ndarray | None = None
) -> NumericColumnProfile:
    """The profile of one numeric column from its sorted finite values, float64 or float32
    (float32 is read as it is and every sum is taken in float64: the same profile as of the
    values converted to float64, to the last bits of the float64 sums).

    `edges`: the reference's fine edges; None makes this the reference (edges from its values).
    """
    if edges is None:
        if len(sorted_values) == 0:
            raise InputDataError(
                f"column {name!r} has no non-missing reference value to derive profile edges from"
            )
        edges = fine_edges(sorted_values)
    below = count_below(sorted_values, edges)
    bounds = np.r_[0, below, len(sorted_values)]
    counts = np.diff(bounds).astype(np.int64)
    sums = np.zeros(len(counts))
    filled = counts > 0  # reduceat over the non-empty bins only: each ends where the next starts
    if filled.any():
        sums[filled] = np.add.reduceat(sorted_values, bounds[:-1][filled], dtype=np.float64)
    sketch = datasketches.kll_doubles_sketch(KLL_K)
    n = len(sorted_values)
    if n:
        sketch.update(sorted_values)  # float32 too: converted value by value
        mean = float(np.mean(sorted_values, dtype=np.float64))
        m2 = _sum_of_squares(sorted_values, mean)
        low, high = float(sorted_values[0]), float(sorted_values[-1])
    else:
        mean = m2 = low = high = float("nan")
    return NumericColumnProfile(name, n, int(missing), low, high, mean, m2, np.asarray(edges),
                                counts, sums, sketch.serialize())


_CHUNK = 1 << 18  # values converted to float64 at a time for Σ(x − mean)²


def _sum_of_squares(values: np.ndarray, mean: float) -> float:
    """Σ(x − mean)² in float64, a chunk at a time (no float64 copy of the whole column), by
    numpy's pairwise summation: not np.dot, whose OpenBLAS threads spin on the other core."""
    total = 0.0
    deviations = np.empty(min(len(values), _CHUNK), dtype=np.float64)
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        part = deviations[: len(chunk)]
        np.subtract(chunk, mean, out=part, dtype=np.float64)
        np.square(part, out=part)
        total += float(part.sum())
    return total


def assemble(
    rows: int,
    numeric: Sequence[NumericColumnProfile],
    categorical: Mapping[str, CategoryCounts] | None = None,
) -> BatchProfile:
    """A BatchProfile from per-column profiles (in the order given)."""
    def column(attribute: str, dtype: type) -> np.ndarray:
        return np.array([getattr(p, attribute) for p in numeric], dtype=dtype)

    width = FINE_BINS - 1
    return BatchProfile(
        rows=int(rows),
        numeric=tuple(p.name for p in numeric),
        count=column("count", np.int64), missing=column("missing", np.int64),
        minimum=column("minimum", np.float64), maximum=column("maximum", np.float64),
        mean=column("mean", np.float64), m2=column("m2", np.float64),
        edges=np.array([p.edges for p in numeric], dtype=np.float64).reshape(-1, width),
        counts=np.array([p.counts for p in numeric], dtype=np.int64).reshape(-1, FINE_BINS),
        sums=np.array([p.sums for p in numeric], dtype=np.float64).reshape(-1, FINE_BINS),
        sketches=tuple(p.sketch for p in numeric),
        categorical=dict(categorical or {}),
    )


def profile_frame(
    frame: pd.DataFrame,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    reference: BatchProfile | None = None,
) -> BatchProfile:
    """Profile a DataFrame's columns. With `reference`, its columns and edges are used (and
    `numeric`/`categorical` are ignored); without, this profile is a reference."""
    if reference is not None:
        numeric, categorical = reference.numeric, list(reference.categorical)
    elif numeric is None:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)
                   and not pd.api.types.is_bool_dtype(frame[c].dtype)]
    missing_columns = [c for c in [*numeric, *categorical] if c not in frame.columns]
    if missing_columns:
        raise InputDataError(f"column(s) {missing_columns} to profile are not in the batch; its "
                             f"columns are {list(frame.columns)}")
    columns = []
    for i, name in enumerate(numeric):
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        finite = values[np.isfinite(values)]
        finite.sort()
        edges = None if reference is None else reference.edges[i]
        columns.append(profile_sorted(name, finite, len(values) - len(finite), edges))
    return assemble(len(frame), columns, {c: CategoryCounts.of(frame[c]) for c in categorical})


def merge_profiles(profiles: Sequence[BatchProfile], *, sketches: bool = True) -> BatchProfile:
    """One profile of the union of the batches; `sketches=False` skips merging the KLL sketches
    (the merged profile then has none), which is most of the cost over many columns."""
    if not profiles:
        raise InputDataError("no profiles to merge")
    first = profiles[0]
    for other in profiles[1:]:
        if other.edges_digest != first.edges_digest:
            raise InputDataError(
                "profiles made against different references (columns or edges differ) cannot be "
                "merged; choose evaluations made against the same reference"
            )
    count = np.sum([p.count for p in profiles], axis=0)
    mean, m2 = _merged_moments(profiles, count)
    merged_sketches: tuple[bytes, ...] = ()
    if sketches and all(p.sketches for p in profiles):
        merged = []
        for i in range(len(first.numeric)):
            sketch = datasketches.kll_doubles_sketch.deserialize(first.sketches[i])
            for other in profiles[1:]:
                sketch.merge(datasketches.kll_doubles_sketch.deserialize(other.sketches[i]))
            merged.append(sketch.serialize())
        merged_sketches = tuple(merged)
    with np.errstate(invalid="ignore"):
        minimum = np.fmin.reduce([p.minimum for p in profiles])
        maximum = np.fmax.reduce([p.maximum for p in profiles])
    return BatchProfile(
        rows=sum(p.rows for p in profiles),
        numeric=first.numeric,
        count=count,
        missing=np.sum([p.missing for p in profiles], axis=0),
        minimum=minimum,
        maximum=maximum,
        mean=mean,
        m2=m2,
        edges=first.edges,
        counts=np.sum([p.counts for p in profiles], axis=0),
        sums=np.sum([p.sums for p in profiles], axis=0),
        sketches=merged_sketches,
        categorical={
            name: CategoryCounts.merge([p.categorical[name] for p in profiles])
            for name in first.categorical
        },
    )


def _merged_moments(
    profiles: Sequence[BatchProfile], count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Chan et al.'s pairwise update of (mean, M2), folded over the profiles."""
    n = np.zeros(len(count), dtype=np.float64)
    mean = np.zeros(len(count), dtype=np.float64)
    m2 = np.zeros(len(count), dtype=np.float64)
    for p in profiles:
        n_b = p.count.astype(np.float64)
        has = n_b > 0
        total = n + n_b
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = np.where(has, p.mean - mean, 0.0)
            weight = np.where(has, n_b / np.where(total > 0, total, 1.0), 0.0)
            m2 = m2 + np.where(has, p.m2, 0.0) + delta**2 * n * weight
        mean = mean + delta * weight
        n = total
    mean = np.where(count > 0, mean, np.nan)
    m2 = np.where(count > 0, m2, np.nan)
    return mean, m2


def profile_batches(
    reference: pd.DataFrame, current: pd.DataFrame, kinds: Mapping[str, str] | None = None
) -> tuple[BatchProfile, BatchProfile]:
    """(current, reference) profiles of the columns in `kinds` ("numeric"/"categorical"; default:
    every numeric column of the reference), the current one on the reference's edges."""
    if kinds is None:
        reference_profile = profile_frame(reference)
    else:
        reference_profile = profile_frame(
            reference,
            numeric=[c for c, kind in kinds.items() if kind == "numeric"],
            categorical=[c for c, kind in kinds.items() if kind == "categorical"],
        )
    return profile_frame(current, reference=reference_profile), reference_profile
