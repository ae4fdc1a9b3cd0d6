"""The per-column drift statistics, as plain numpy over already-cleaned values.

Inputs are what `scenarist.metrics.drift` hands over: for a numeric column, the sorted finite
values of each batch; for a categorical column, the counts of each category of the union of
both batches' categories (aligned, zeros where a batch lacks a category). Nothing here knows
about DataFrames, column names or verdicts.

Numeric statistics (`numeric_stats`)
    ks_statistic, ks_pvalue   two-sample Kolmogorov–Smirnov, two-sided. D is the largest gap
                              between the two empirical CDFs over every value of either batch,
                              computed from one stable merge of the sorted batches. The p-value
                              is scipy.stats.ks_2samp(method="auto")'s: exact (scipy itself is
                              called) when max(n_ref, n_cur) <= 10 000, else the one-sample
                              Kolmogorov distribution at n = round(n_ref·n_cur / (n_ref + n_cur)),
                              kstwo.sf(D, n) — except where n > 10 000 and n·D² ≥ 2.2 (p ≲ 0.025):
                              there kstwo sums Smirnov's series over ~n terms (0.6 s at 1M rows)
                              and the limiting distribution kstwobign.sf(√n·D) is used (within
                              0.5% of it while p > 1e-17; `ks_asymptotic_pvalue`, docs/metrics.md).
    wasserstein               scipy.stats.wasserstein_distance (area between the two empirical
                              CDFs) divided by max(std(reference, ddof=0), 0.001) — Evidently's
                              "normed Wasserstein".
    psi, js_distance          over 10 quantile bins of the reference: the inner edges are the
                              reference's deciles (np.quantile at 0.1, 0.2, … 0.9 — the exact
                              decimal probabilities, DECILES — linear interpolation) with
                              duplicates dropped (ties give fewer bins); the first and last bin
                              are open-ended, so current values outside the reference's range
                              fall into them; bins are closed on the left, [e_i, e_i+1), exactly
                              as np.histogram with edges [-inf, deciles…, +inf].

Categorical statistics (`categorical_stats`, over the union of categories)
    chi2_pvalue               Evidently's chi-square: scipy.stats.chisquare(f_obs=current counts,
                              f_exp=reference counts · n_cur / n_ref). A category that appears
                              only in the current batch has f_exp = 0, so the p-value is 0.
    chi2_homogeneity_pvalue   scipy.stats.chi2_contingency (no continuity correction) of the
                              2 × k table of both batches' counts: the two-sample test, which
                              keeps its level when the reference is itself a small sample. A
                              multiple-testing correction takes χ² verdicts on this p-value.
    z_pvalue                  only for at most two categories: Evidently's two-proportion Z-test,
                              2·(1 − Φ(|z|)) with the pooled proportion; 1 when both batches hold
                              the same single category. The test is symmetric, so which category
                              counts as "success" does not matter.
    psi, js_distance          over the categories.

Shared definitions
    psi         Σ (p_ref − p_cur) · ln(p_ref / p_cur) with bin proportions; an empty bin's
                proportion is replaced by PSI_EPSILON = 1e-4 on that side (no renormalisation).
    js_distance scipy.spatial.distance.jensenshannon(p_ref, p_cur) with the natural logarithm
                (base e, so it lies in [0, √ln 2]); empty bins need no epsilon. This is the
                quantity Evidently's "jensenshannon" test thresholds at 0.1.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

PSI_EPSILON = 1e-4
N_QUANTILE_BINS = 10
# the inner quantile levels 0.1 … 0.9 as the nearest doubles to k/10 (np.linspace(0, 1, 11)
# gives 0.30000000000000004, 0.6000000000000001, 0.7000000000000001: when (n_ref − 1)·p is a
# whole number that edge lands just above a data value and moves its ties to the lower bin)
DECILES = np.arange(1, N_QUANTILE_BINS) / N_QUANTILE_BINS
KS_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: ks_2samp(method="auto") is exact up to this size
KS_LIMIT_N = 10_000  # effective sizes above which the limiting distribution may be used …
KS_LIMIT_MIN_ND2 = 2.2  # … from this n·D² on, where scipy's kstwo.sf costs O(n)
WASSERSTEIN_MIN_NORM = 0.001  # Evidently's floor for the reference's standard deviation


def numeric_stats(
    ref: np.ndarray, cur: np.ndarray, bin_counts: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, float]:
    """All numeric statistics of two sorted, finite, non-empty float64 arrays.

    `bin_counts`: the batches' `quantile_bins` counts when the caller already has them."""
    ks_statistic, wasserstein_raw = _ecdf_gaps(ref, cur)
    ref_counts, cur_counts = bin_counts if bin_counts is not None else quantile_bin_counts(ref, cur)
    return {
        "ks_statistic": ks_statistic,
        "ks_pvalue": _ks_pvalue(ks_statistic, ref, cur),
        "wasserstein": wasserstein_raw / max(float(np.std(ref)), WASSERSTEIN_MIN_NORM),
        "psi": psi(ref_counts, cur_counts),
        "js_distance": js_distance(ref_counts, cur_counts),
    }


def categorical_stats(ref_counts: np.ndarray, cur_counts: np.ndarray) -> dict[str, float]:
    """All categorical statistics of two aligned count arrays over the union of categories."""
    n_ref, n_cur = int(ref_counts.sum()), int(cur_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):  # f_exp = 0 → statistic inf, p = 0
        chi2 = stats.chisquare(cur_counts, ref_counts * (n_cur / n_ref))
    result = {
        "chi2_pvalue": float(chi2.pvalue),
        "chi2_homogeneity_pvalue": chi2_homogeneity_pvalue(ref_counts, cur_counts),
        "psi": psi(ref_counts, cur_counts),
        "js_distance": js_distance(ref_counts, cur_counts),
    }
    if len(ref_counts) <= 2:
        result["z_pvalue"] = _z_pvalue(ref_counts, cur_counts)
    return result


def chi2_homogeneity_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Two-sample χ² test of homogeneity of the 2 × k table (no continuity correction): both
    batches are samples, so unlike `chisquare` against the reference's proportions it holds
    its level when the reference is small. 1 when fewer than two categories occur."""
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def sorted_value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts of a sorted array (no re-sort, unlike np.unique)."""
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return values[starts], np.diff(np.r_[starts, len(values)])


def quantile_bins(
    ref: np.ndarray, cur: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's inner quantile edges and both sorted batches' counts in those bins."""
    edges = np.unique(_sorted_quantiles(ref, DECILES))
    return edges, _bin_counts(ref, edges), _bin_counts(cur, edges)


def quantile_bin_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both sorted batches in the reference's quantile bins (see module docstring)."""
    _edges, ref_counts, cur_counts = quantile_bins(ref, cur)
    return ref_counts, cur_counts


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index of two count arrays over the same bins."""
    p = ref_counts / ref_counts.sum()
    q = cur_counts / cur_counts.sum()
    p = np.where(p == 0, PSI_EPSILON, p)
    q = np.where(q == 0, PSI_EPSILON, q)
    return float(np.sum((p - q) * np.log(p / q)))


def js_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen–Shannon distance (natural log) of two count arrays over the same bins."""
    return float(
        distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    )


def _sorted_quantiles(values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """np.quantile(values, probs) (method "linear") of a sorted array without re-partitioning it.

    The same float operations as numpy's `_lerp`, so the edges are bit-identical to np.quantile's.
    """
    virtual = (len(values) - 1) * probs
    lower = np.minimum(np.floor(virtual), len(values) - 1)
    upper = np.minimum(lower + 1, len(values) - 1)
    gamma = virtual - lower
    below, above = values[lower.astype(np.intp)], values[upper.astype(np.intp)]
    step = above - below
    return np.where(gamma >= 0.5, above - step * (1 - gamma), below + step * gamma)


def _bin_counts(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    below = np.searchsorted(sorted_values, inner_edges, side="left")  # values < each edge
    return np.diff(np.r_[0, below, len(sorted_values)])


def _ecdf_gaps(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """(KS D, raw Wasserstein-1) from one stable merge of the two sorted arrays.

    At every distinct value v of the merged support, F_ref(v) = #ref ≤ v / n_ref (likewise
    F_cur); D = max |F_ref − F_cur| and W = Σ |F_ref − F_cur| · (next value − v). These are
    the same float operations scipy performs, so D is bit-identical to ks_2samp's statistic.
    """
    n_ref, n_cur = len(ref), len(cur)
    merged = np.concatenate([ref, cur])
    order = np.argsort(merged, kind="stable")  # two sorted runs: one timsort merge, O(n)
    merged = merged[order]
    count_type = np.int32 if len(merged) < 2**31 else np.int64  # half the memory traffic
    ref_le = np.cumsum(order < n_ref, dtype=count_type)  # #ref ≤ merged[k] (ties: see below)
    del order
    cur_le = np.arange(1, len(merged) + 1, dtype=count_type)
    cur_le -= ref_le
    last_of_value = np.empty(len(merged), dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=last_of_value[:-1])
    last_of_value[-1] = True
    if not last_of_value.all():  # ties: keep each value's last position, where counts are ≤ v
        merged, ref_le, cur_le = merged[last_of_value], ref_le[last_of_value], cur_le[last_of_value]
    del last_of_value
    gaps = ref_le / n_ref
    gaps -= cur_le / n_cur
    np.abs(gaps, out=gaps)
    return float(gaps.max()), float(np.dot(gaps[:-1], np.diff(merged)))


def _ks_pvalue(d: float, ref: np.ndarray, cur: np.ndarray) -> float:
    n_ref, n_cur = len(ref), len(cur)
    if max(n_ref, n_cur) <= KS_EXACT_MAX_N:
        return float(stats.ks_2samp(ref, cur, method="auto").pvalue)
    return ks_asymptotic_pvalue(d, n_ref, n_cur)


def ks_asymptotic_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """P(D ≥ d) from the one-sample Kolmogorov distribution at the effective size
    n = round(n_ref·n_cur / (n_ref + n_cur)), as scipy's ks_2samp(method="asymp"): kstwo.sf(d, n),
    or its limit kstwobign.sf(√n·d) where n > KS_LIMIT_N and n·d² ≥ KS_LIMIT_MIN_ND2 (scipy would
    sum Smirnov's series over ~n terms there, and the exact n buys nothing: the two-sample
    statistic's own distribution differs from either by O(1/√n))."""
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    effective = np.round(m * n / (m + n))
    if effective > KS_LIMIT_N and effective * d * d >= KS_LIMIT_MIN_ND2:
        return float(np.clip(special.kolmogorov(np.sqrt(effective) * d), 0.0, 1.0))
    return float(np.clip(stats.kstwo.sf(d, effective), 0.0, 1.0))


def _z_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    ref_present, cur_present = ref_counts > 0, cur_counts > 0
    if ref_present.sum() == 1 and cur_present.sum() == 1 and (ref_present == cur_present).all():
        return 1.0
    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    p1 = float(n1 - ref_counts[0]) / n1
    p2 = float(n2 - cur_counts[0]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))
