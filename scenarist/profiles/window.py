"""Drift of a current profile (often merged over a window of evaluations) against the reference
profile, without the raw data. Definitions and their errors versus the exact statistics of
`scenarist.metrics.drift_stats` on the concatenated raw batches:

Numeric columns (n_ref, n_cur: non-missing counts; p_i, q_i: the reference's and the current
batch's shares in fine bin i)
    psi, js_distance   on the 10 decile bins (unions of 10 fine bins): EXACT — the same counts
                       as drift_stats.quantile_bins on the raw data, hence drift_stats' numbers
                       (its formulas, vectorised over columns: equal to ~1e-15).
    ks_statistic       max over the fine edges of |F_ref − F_cur| (both CDFs are exact there):
                       a lower bound of the exact D, and D ≤ ks_statistic + max_i max(p_i, q_i),
                       stored as `ks_statistic_error` (≈ 0.01 when nothing drifted).
                       With `sketches=True`, also `ks_statistic_sketch`: max |F̂_ref − F̂_cur|
                       over both KLL sketches' quantiles at ranks 0.001 … 0.999 and the fine
                       edges, within ε_ref + ε_cur + 0.001 of D with 99% confidence each
                       (ε = `profile.rank_error()`).
    ks_pvalue          the p-value of ks_statistic at the effective size n = n_ref·n_cur /
                       (n_ref + n_cur), by drift_stats.ks_asymptotic_pvalue's rule (vectorised
                       over columns): scipy's kstwo.sf, or its limit kstwobign.sf(√n·D) where
                       n > 10,000 and n·D² ≥ 2.2 (the two differ by O(1/√n) relative).
    wasserstein        Σ_i |∫_bin i (F_ref − F_cur) dx| over the fine bins (closed by the
                       batches' minimum and maximum) / max(std_ref, 0.001). Each bin's integral
                       is exact (from the bins' sums), so this is a lower bound of the exact
                       value, equal to it unless F_ref − F_cur changes sign inside a bin; the
                       exact value is at most `wasserstein_error` = Σ over the bins where it
                       can change sign of width_i · (p_i + q_i) / max(std_ref, 0.001) above it
                       (std_ref itself is exact: merged moments).
Categorical columns: psi, js_distance, chi2_pvalue (and z_pvalue with ≤ 2 categories) over the
kept categories plus "other" — exact while the profiles kept every category (see profile.py).

Verdicts use drift.METHODS and Evidently's `auto` rule on n_ref, as `feature_drift` does
(numeric: ks up to 1,000 reference values, wasserstein above; categorical: z/chi2, then
jensenshannon), p-value verdicts after the store's multiple-testing correction. Columns
without a value on either side have no drift and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from scenarist.errors import InputDataError
from scenarist.metrics.drift import AUTO_SMALL_REFERENCE, METHODS, FeatureDrift, drift_share
from scenarist.metrics.drift_stats import (
    KS_LIMIT_MIN_ND2,
    KS_LIMIT_N,
    PSI_EPSILON,
    WASSERSTEIN_MIN_NORM,
    categorical_stats,
)
from scenarist.metrics.multiple_testing import Correction, correct_drift
from scenarist.profiles.profile import FINE_BINS, BatchProfile, merge_profiles

_PER_DECILE = FINE_BINS // 10
SKETCH_GRID = np.linspace(0.001, 0.999, 999)


@dataclass(frozen=True)
class ProfileDrift:
    """Drift of a (merged) current profile against the reference profile."""

    labels: tuple[str, ...]  # the evaluations merged, oldest first
    row_count: int
    reference_row_count: int
    features: tuple[FeatureDrift, ...]

    @property
    def drift_share(self) -> float:
        return drift_share(self.features)

    def frame(self) -> pd.DataFrame:
        """One row per feature: kind, method, score, drifted and every statistic."""
        rows = [
            {"feature": d.feature, "kind": d.kind, "method": d.method, "score": d.score,
             "drifted": d.drifted, **d.stats}
            for d in self.features
        ]
        return pd.DataFrame(rows).set_index("feature") if rows else pd.DataFrame()


def window_drift(
    reference: BatchProfile,
    windows: Sequence[BatchProfile],
    *,
    labels: Sequence[str] = (),
    method: str = "auto",
    threshold: float | None = None,
    sketches: bool = False,
    correction: Correction = "benjamini_hochberg",
) -> ProfileDrift:
    """Drift of the union of `windows` (merged) against `reference` (see the module docstring).

    `correction` adjusts p-value verdicts (ks, chi2, z) over the columns as evaluations do."""
    if method != "auto" and method not in METHODS:
        raise InputDataError(f"unknown drift method {method!r}; choose one of {['auto', *METHODS]}")
    current = merge_profiles(windows, sketches=sketches)
    if current.edges_digest != reference.edges_digest:
        raise InputDataError(
            "the evaluations were profiled against another reference than the store's current "
            "one; choose evaluations made since the reference last changed"
        )
    features = [
        *_numeric(reference, current, method, threshold, sketches),
        *_categorical(reference, current, method, threshold),
    ]
    order = {name: i for i, name in enumerate(reference.columns)}
    features.sort(key=lambda d: order[d.feature])
    features = correct_drift(features, correction)
    return ProfileDrift(tuple(labels), current.rows, reference.rows, tuple(features))


def _numeric(
    ref: BatchProfile, cur: BatchProfile, method: str, threshold: float | None, sketches: bool
) -> list[FeatureDrift]:
    n_ref, n_cur = ref.count.astype(np.float64), cur.count.astype(np.float64)
    usable = (n_ref > 0) & (n_cur > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = ref.counts / n_ref[:, None]
        q = cur.counts / n_cur[:, None]
    gaps = (np.cumsum(p, axis=1) - np.cumsum(q, axis=1))[:, :-1]  # F_ref − F_cur at the edges
    ks = np.abs(gaps).max(axis=1, initial=0.0)
    ks_error = np.maximum(p, q).max(axis=1)
    low = np.fmin(ref.minimum, cur.minimum)[:, None]
    high = np.fmax(ref.maximum, cur.maximum)[:, None]
    points = np.concatenate([low, np.clip(ref.edges, low, high), high], axis=1)
    widths = np.diff(points, axis=1)
    start = np.concatenate([np.zeros((len(ks), 1)), gaps], axis=1)  # F_ref − F_cur at bin start
    with np.errstate(invalid="ignore", divide="ignore"):
        # ∫_bin F dx = F(start)·width + Σ_{x in bin} (end − x) / n: exact from the bin sums
        own = (ref.counts * points[:, 1:] - ref.sums) / n_ref[:, None]
        own -= (cur.counts * points[:, 1:] - cur.sums) / n_cur[:, None]
    signed = start * widths + own
    may_cross = (start + p > 0) & (start - q < 0)  # F_ref − F_cur may change sign in the bin
    norm = np.maximum(ref.std(), WASSERSTEIN_MIN_NORM)
    wasserstein = np.abs(signed).sum(axis=1) / norm
    wasserstein_error = np.sum(np.where(may_cross, widths * (p + q), 0.0), axis=1) / norm
    psi_all, js_all = _decile_psi_js(ref.counts, cur.counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.round(n_ref * n_cur / (n_ref + n_cur))
        p_values = special.kolmogorov(np.sqrt(n_eff) * ks)  # kstwobign.sf, vectorised
    small = usable & ((n_eff <= KS_LIMIT_N) | (n_eff * ks * ks < KS_LIMIT_MIN_ND2))
    if small.any():
        p_values[small] = stats.kstwo.sf(ks[small], n_eff[small])
    results = []
    for i, name in enumerate(ref.numeric):
        if not usable[i]:
            continue
        column = {
            "ks_statistic": float(ks[i]),
            "ks_statistic_error": float(ks_error[i]),
            "ks_pvalue": float(np.clip(p_values[i], 0.0, 1.0)),
            "wasserstein": float(wasserstein[i]),
            "wasserstein_error": float(wasserstein_error[i]),
            "psi": float(psi_all[i]),
            "js_distance": float(js_all[i]),
        }
        if sketches and ref.sketches and cur.sketches:
            column["ks_statistic_sketch"] = _sketch_ks(ref, cur, i)
        chosen = method if method != "auto" else (
            "ks" if n_ref[i] <= AUTO_SMALL_REFERENCE else "wasserstein")
        if "numeric" not in METHODS[chosen].kinds:
            raise InputDataError(f"method {chosen!r} needs categorical columns; "
                                 f"{name!r} is numeric")
        results.append(_verdict(name, "numeric", chosen, threshold, column))
    return results


def _decile_psi_js(ref_counts: np.ndarray, cur_counts: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """drift_stats.psi and .js_distance of every column at once, on the decile bins."""
    shape = (len(ref_counts), 10, _PER_DECILE)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = ref_counts.reshape(shape).sum(axis=2).astype(np.float64)
        q = cur_counts.reshape(shape).sum(axis=2).astype(np.float64)
        p /= p.sum(axis=1, keepdims=True)
        q /= q.sum(axis=1, keepdims=True)
        p_floor, q_floor = np.where(p == 0, PSI_EPSILON, p), np.where(q == 0, PSI_EPSILON, q)
        psi_all = np.sum((p_floor - q_floor) * np.log(p_floor / q_floor), axis=1)
        m = (p + q) / 2.0
        js = (special.rel_entr(p, m).sum(axis=1) + special.rel_entr(q, m).sum(axis=1)) / 2.0
    return psi_all, np.sqrt(js)


def _sketch_ks(ref: BatchProfile, cur: BatchProfile, i: int) -> float:
    ref_sketch, cur_sketch = ref.sketch(ref.numeric[i]), cur.sketch(cur.numeric[i])
    points = np.unique(np.concatenate([
        ref_sketch.get_quantiles(list(SKETCH_GRID)),
        cur_sketch.get_quantiles(list(SKETCH_GRID)),
        ref.edges[i],
    ]))
    split = list(points)
    # inclusive=True: the mass ≤ each point, the right-continuous CDF KS compares
    f_ref = np.cumsum(ref_sketch.get_pmf(split, True))[:-1]
    f_cur = np.cumsum(cur_sketch.get_pmf(split, True))[:-1]
    return float(np.max(np.abs(f_ref - f_cur)))


def _categorical(
    ref: BatchProfile, cur: BatchProfile, method: str, threshold: float | None
) -> list[FeatureDrift]:
    results = []
    for name, ref_counts in ref.categorical.items():
        cur_counts = cur.categorical[name]
        if ref_counts.count == 0 or cur_counts.count == 0:
            continue
        names = list(dict.fromkeys([*ref_counts.top, *cur_counts.top]))
        r = np.array([ref_counts.top.get(c, 0) for c in names] + [ref_counts.other], np.int64)
        c = np.array([cur_counts.top.get(c, 0) for c in names] + [cur_counts.other], np.int64)
        keep = (r + c) > 0  # "other" only when some profile had more than TOP_K categories
        column = categorical_stats(r[keep], c[keep])
        n_ref = int(r.sum())
        if method == "auto":
            if n_ref > AUTO_SMALL_REFERENCE:
                chosen = "jensenshannon"
            else:
                chosen = "z" if "z_pvalue" in column else "chi2"
        else:
            chosen = method
        if "categorical" not in METHODS[chosen].kinds or METHODS[chosen].statistic not in column:
            raise InputDataError(f"method {chosen!r} does not apply to categorical column "
                                 f"{name!r}; use 'chi2', 'jensenshannon' or 'psi'")
        results.append(_verdict(name, "categorical", chosen, threshold, column))
    return results


def _verdict(name: str, kind, method: str, threshold: float | None, column: dict[str, float]
             ) -> FeatureDrift:
    spec = METHODS[method]
    score = column[spec.statistic]
    limit = spec.threshold if threshold is None else threshold
    return FeatureDrift(feature=name, kind=kind, method=method, score=score, threshold=limit,
                        drifted=bool(spec.drifted(score, limit)), stats=column)
