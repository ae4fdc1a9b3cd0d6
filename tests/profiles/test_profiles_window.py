"""Profiles and drift from profiles, checked against the exact statistics on the raw data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scenarist.errors import InputDataError
from scenarist.metrics.drift_stats import categorical_stats, numeric_stats
from scenarist.profiles import (
    BatchProfile,
    merge_profiles,
    profile_batches,
    profile_frame,
    rank_error,
    window_drift,
)
from scenarist.profiles.profile import TOP_K

RNG = np.random.default_rng(11)
EPS = rank_error()


def _windows(n_windows=6, rows=2_000, shift=0.05):
    frames = []
    for i in range(n_windows):
        frame = pd.DataFrame({
            "normal": RNG.normal(shift * i, 1, rows),
            "skewed": RNG.lognormal(0.1 * i, 1, rows),
            "ints": RNG.integers(0, 40 + i, rows).astype(float),  # many ties
            "sparse": np.where(RNG.random(rows) < 0.2, np.nan, RNG.normal(0, 3, rows)),
            "city": RNG.choice(["a", "b", "c", "d", "e"], rows, p=[.4, .3, .1, .1, .1]),
        })
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def data():
    reference = _windows(1, 10_000, 0)[0]
    reference.loc[::50, "normal"] = np.inf  # ±inf counts as missing, as in drift
    windows = _windows()
    ref = profile_frame(reference, numeric=["normal", "skewed", "ints", "sparse"],
                        categorical=["city"])
    return reference, windows, ref, [profile_frame(w, reference=ref) for w in windows]


def _finite_sorted(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(np.float64)
    return np.sort(values[np.isfinite(values)])


@pytest.mark.parametrize("window", [slice(5, 6), slice(0, 6), slice(2, 5)])
def test_numeric_drift_from_profiles_is_within_its_documented_error(data, window):
    reference, windows, ref, profiles = data
    drift = window_drift(ref, profiles[window], sketches=True)
    current = pd.concat(windows[window])
    by_name = {d.feature: d for d in drift.features}
    for column in ("normal", "skewed", "ints", "sparse"):
        exact = numeric_stats(_finite_sorted(reference[column]), _finite_sorted(current[column]))
        got = by_name[column].stats
        # PSI and JS: exact (same decile bins, same counts)
        assert got["psi"] == pytest.approx(exact["psi"], rel=1e-12, abs=1e-15)
        assert got["js_distance"] == pytest.approx(exact["js_distance"], rel=1e-12, abs=1e-15)
        # KS from the histogram: a lower bound within its stated error
        assert got["ks_statistic"] <= exact["ks_statistic"] + 1e-12
        assert exact["ks_statistic"] <= got["ks_statistic"] + got["ks_statistic_error"] + 1e-12
        # KS from the KLL sketches: within both sketches' rank error (+ grid step)
        assert abs(got["ks_statistic_sketch"] - exact["ks_statistic"]) <= 2 * EPS + 0.001
        # Wasserstein: a lower bound, at most wasserstein_error below the exact value
        assert got["wasserstein"] <= exact["wasserstein"] * (1 + 1e-9) + 1e-12
        assert exact["wasserstein"] <= got["wasserstein"] + got["wasserstein_error"] + 1e-12
        assert got["wasserstein"] == pytest.approx(exact["wasserstein"], rel=0.02, abs=2e-3)


def test_categorical_drift_from_profiles_is_exact(data):
    reference, windows, ref, profiles = data
    drift = window_drift(ref, profiles)
    (city,) = [d for d in drift.features if d.feature == "city"]
    current = pd.concat(windows)
    names = sorted(set(reference.city) | set(current.city))
    exact = categorical_stats(
        reference.city.value_counts().reindex(names, fill_value=0).to_numpy(),
        current.city.value_counts().reindex(names, fill_value=0).to_numpy(),
    )
    for stat in ("psi", "js_distance", "chi2_pvalue"):
        assert city.stats[stat] == pytest.approx(exact[stat], rel=1e-9, abs=1e-300)
    assert city.method == "jensenshannon" and city.drifted == (exact["js_distance"] >= 0.1)


def test_merged_profile_holds_the_exact_counts_moments_and_extremes(data):
    _reference, windows, _ref, profiles = data
    merged = merge_profiles(profiles)
    current = pd.concat(windows)
    for i, column in enumerate(merged.numeric):
        values = _finite_sorted(current[column])
        assert merged.count[i] == len(values)
        assert merged.missing[i] == len(current) - len(values)
        assert merged.minimum[i] == values[0] and merged.maximum[i] == values[-1]
        assert merged.mean[i] == pytest.approx(values.mean(), rel=1e-12)
        assert merged.std()[i] == pytest.approx(values.std(), rel=1e-10)
        assert merged.sums[i].sum() == pytest.approx(values.sum(), rel=1e-10)
        # merged KLL quantiles sit within the sketch's rank error of the requested ranks
        for prob, value in zip([0.1, 0.5, 0.9], merged.quantiles(column, [0.1, 0.5, 0.9]),
                               strict=True):
            low = np.searchsorted(values, value, side="left") / len(values)
            high = np.searchsorted(values, value, side="right") / len(values)  # ties: a range
            assert low - EPS <= prob <= high + EPS
    assert merged.categorical["city"].count == len(current)
    assert dict(merged.categorical["city"].top) == current.city.value_counts().to_dict()


def test_profiles_round_trip_through_bytes(data):
    _reference, _windows, ref, profiles = data
    again = BatchProfile.from_bytes(*ref.to_bytes())
    assert again.edges_digest == ref.edges_digest and again.sketches == ref.sketches
    np.testing.assert_array_equal(again.counts, ref.counts)
    summary_only = BatchProfile.from_bytes(ref.to_bytes(with_sketches=False)[0])
    assert summary_only.sketches == ()
    without = window_drift(summary_only, profiles)
    assert without.drift_share == window_drift(ref, profiles).drift_share


def test_more_categories_than_kept_fall_into_other():
    many = pd.DataFrame({"id": [f"c{i % (TOP_K + 30)}" for i in range(5_000)]})
    ref = profile_frame(many, numeric=[], categorical=["id"])
    counts = ref.categorical["id"]
    assert len(counts.top) == TOP_K and counts.count == 5_000 and counts.other > 0


def test_drift_from_profiles_refuses_profiles_of_another_reference(data):
    reference, windows, ref, profiles = data
    other = profile_frame(reference.assign(normal=reference.normal + 1),
                          numeric=["normal", "skewed", "ints", "sparse"], categorical=["city"])
    with pytest.raises(InputDataError, match="different references"):
        merge_profiles([profiles[0], profile_frame(windows[1], reference=other)])
    with pytest.raises(InputDataError, match="another reference"):
        window_drift(other, profiles)
    with pytest.raises(InputDataError, match="unknown drift method"):
        window_drift(ref, profiles, method="nope")
    with pytest.raises(InputDataError, match="not in the batch"):
        profile_frame(windows[0].drop(columns="ints"), reference=ref)


def test_verdicts_follow_the_method_and_threshold(data):
    reference, windows, ref, profiles = data
    with pytest.raises(InputDataError, match="'ks' does not apply to categorical column 'city'"):
        window_drift(ref, profiles, method="ks")
    ref = profile_frame(reference, numeric=["normal", "skewed"])
    profiles = [profile_frame(w, reference=ref) for w in windows]
    ks = window_drift(ref, profiles[-1:], method="ks", correction="none")
    corrected = window_drift(ref, profiles[-1:], method="ks")  # Benjamini–Hochberg, as stored
    assert [d.adjusted_pvalue for d in corrected.features] == pytest.approx(
        stats.false_discovery_control([d.stats["ks_pvalue"] for d in ks.features]))
    for d in ks.features:
        if d.kind == "numeric":
            assert d.method == "ks" and d.drifted == (d.stats["ks_pvalue"] <= 0.05)
            n_ref = ref.count[ref.numeric.index(d.feature)]
            n_cur = profiles[-1].count[ref.numeric.index(d.feature)]
            m, n = max(n_ref, n_cur), min(n_ref, n_cur)
            assert d.stats["ks_pvalue"] == pytest.approx(
                stats.kstwo.sf(d.stats["ks_statistic"], round(m * n / (m + n))))
    psi = window_drift(ref, profiles[-1:], method="psi", threshold=0.01)
    assert all(d.drifted == (d.stats["psi"] >= 0.01) for d in psi.features)
    assert psi.drift_share == np.mean([d.drifted for d in psi.features])


def test_profile_batches_follows_the_column_kinds():
    frame = pd.DataFrame({"x": RNG.normal(size=300), "k": RNG.choice(["u", "v"], 300)})
    current, reference = profile_batches(frame, frame.iloc[:100], {"x": "numeric",
                                                                   "k": "categorical"})
    assert reference.numeric == ("x",) and list(reference.categorical) == ["k"]
    assert current.rows == 100 and current.edges_digest == reference.edges_digest
