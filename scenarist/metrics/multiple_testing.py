"""Multiple-testing control for per-feature drift verdicts.

Testing 20 features at p < 0.05 on a batch that has not drifted at all flags at least one of
them 64% of the time (1 − 0.95²⁰). `correct_drift` turns each p-value verdict into a verdict on
an adjusted p-value, so that the evaluation as a whole keeps its error rate:

    none                no adjustment: each feature is tested alone (Evidently's verdicts)
    bonferroni          p·m, capped at 1: the chance of any false verdict stays ≤ α
    benjamini_hochberg  step-up adjusted p (Benjamini & Hochberg 1995): the expected share of
                        false verdicts among the drifted features stays ≤ q; on a batch with no
                        drift at all that is also the chance of any false verdict

m is the number of features whose verdict came from a p-value test (`ks`, `chi2`, `z`); the
threshold of each (0.05 by default) is α or q. Verdicts from distances (`wasserstein`,
`jensenshannon`, `psi`, which `auto` picks above 1,000 reference rows) are not p-values and are
left as they are. The raw p-values stay stored under their test's name (`ks_pvalue[f]`); the
adjusted one is stored as `adjusted_pvalue[f]` and decides `drifted[f]`.

A correction is only as good as the p-values it adjusts. Evidently's `chi2` is a goodness-of-fit
test of the current counts against the reference's proportions taken as exact; with a
reference of a few hundred rows it rejects a true "no drift" about a quarter of the time. So,
under a correction, a `chi2` verdict is taken on the two-sample test of homogeneity
(`chi2_homogeneity_pvalue`, see drift_stats.py) instead; `none` keeps Evidently's verdicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from scenarist.errors import InputDataError
from scenarist.metrics.drift import METHODS, FeatureDrift

Correction = Literal["none", "bonferroni", "benjamini_hochberg"]
CORRECTIONS: tuple[str, ...] = get_args(Correction)
P_VALUE_METHODS = frozenset(name for name, m in METHODS.items() if m.statistic.endswith("pvalue"))


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray, method: Correction) -> np.ndarray:
    """Adjusted p-values, in the input order (NaN stays NaN and does not count in m)."""
    if method not in CORRECTIONS:
        raise InputDataError(f"unknown correction {method!r}; choose one of {list(CORRECTIONS)}")
    p = np.asarray(pvalues, dtype=float)
    out = p.copy()
    present = ~np.isnan(p)
    m = int(present.sum())
    if method == "none" or m == 0:
        return out
    q = p[present]
    if method == "bonferroni":
        out[present] = np.minimum(q * m, 1.0)
        return out
    order = np.argsort(q, kind="stable")
    scaled = q[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    result = np.empty(m)
    result[order] = adjusted
    out[present] = result
    return out


def correct_drift(drifts: Sequence[FeatureDrift], method: Correction) -> list[FeatureDrift]:
    """The same drifts with p-value verdicts taken on adjusted p-values (see module doc)."""
    tested = [i for i, d in enumerate(drifts) if d.method in P_VALUE_METHODS]
    adjusted = adjust_pvalues([_valid_pvalue(drifts[i], method) for i in tested], method)
    result = list(drifts)
    for i, p in zip(tested, adjusted, strict=True):
        d = drifts[i]
        drifted = bool(METHODS[d.method].drifted(float(p), d.threshold)) if not np.isnan(p) \
            else False
        result[i] = dataclasses.replace(d, drifted=drifted, adjusted_pvalue=float(p))
    return result


def _valid_pvalue(drift: FeatureDrift, method: Correction) -> float:
    """The p-value a correction adjusts: the two-sample χ² for `chi2` (see module doc)."""
    if method != "none" and drift.method == "chi2":
        return drift.stats.get("chi2_homogeneity_pvalue", drift.score)
    return drift.score
