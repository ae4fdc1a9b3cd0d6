"""Per-feature drift: statistics against independent references, verdicts against Evidently."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from scenarist.errors import InputDataError
from scenarist.metrics.drift import column_kinds, drift_share, feature_drift
from scenarist.metrics.values import MetricValue


def close(expected: float):
    return pytest.approx(expected, rel=1e-9, abs=1e-12)


# --- independent references -------------------------------------------------------------------


def finite(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=float)
    return array[np.isfinite(array)]


def numpy_psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p, q = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    return float(np.sum((p - q) * np.log(p / q)))


def decile_histograms(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inner = np.unique(np.quantile(ref, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    return np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]


def category_counts(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    counts = pd.concat(
        [ref.dropna().astype(object).value_counts(), cur.dropna().astype(object).value_counts()],
        axis=1,
    ).fillna(0)
    return counts.iloc[:, 0].to_numpy(), counts.iloc[:, 1].to_numpy()


def z_test_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    n1, n2 = ref_counts.sum(), cur_counts.sum()
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * stats.norm.sf(abs(z)))


# --- data -------------------------------------------------------------------------------------


def numeric_case(shape: str) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    if shape == "small":
        return pd.Series(rng.normal(size=200)), pd.Series(rng.normal(0.3, 1.2, size=200))
    if shape == "large":
        return pd.Series(rng.normal(size=50_000)), pd.Series(rng.normal(0.02, 1, size=50_000))
    if shape == "unequal sizes":
        return pd.Series(rng.gamma(2, size=300)), pd.Series(rng.gamma(2.2, size=7_000))
    if shape == "ties":
        return pd.Series(rng.poisson(20, 5_000)), pd.Series(rng.poisson(21, 4_000))
    if shape == "nans":
        ref = rng.lognormal(size=3_000)
        cur = rng.lognormal(0.1, size=2_000)
        ref[rng.random(3_000) < 0.1] = np.nan
        cur[rng.random(2_000) < 0.3] = np.nan
        cur[:5] = np.inf
        return pd.Series(ref), pd.Series(cur)
    if shape == "constant reference":
        return pd.Series(np.full(500, 3.0)), pd.Series(rng.normal(3, size=400))
    raise AssertionError(shape)


def categorical_case(shape: str) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(11)
    letters = list("abcdefg")
    if shape == "small":
        return (
            pd.Series(rng.choice(letters, 200)),
            pd.Series(rng.choice(letters, 250, p=[0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2])),
        )
    if shape == "large":
        return pd.Series(rng.choice(letters, 50_000)), pd.Series(rng.choice(letters, 40_000))
    if shape == "only in current":
        return pd.Series(rng.choice(letters[:4], 800)), pd.Series(rng.choice(letters, 900))
    if shape == "nans":
        ref = pd.Series(rng.choice(letters, 1_000)).where(rng.random(1_000) > 0.2, None)
        cur = pd.Series(rng.choice(letters, 1_500)).where(rng.random(1_500) > 0.1, np.nan)
        return ref, cur
    if shape == "category dtype":
        dtype = pd.CategoricalDtype([*letters, "unused"])
        return (
            pd.Series(rng.choice(letters, 700)).astype(dtype),
            pd.Series(rng.choice(letters[1:], 600)).astype(dtype),
        )
    if shape == "integers":
        return pd.Series(rng.integers(0, 8, 2_000)), pd.Series(rng.integers(1, 9, 2_000))
    raise AssertionError(shape)


# --- statistics against their references ------------------------------------------------------


@pytest.mark.parametrize(
    "shape", ["small", "large", "unequal sizes", "ties", "nans", "constant reference"]
)
def test_numeric_statistics_equal_their_references(shape: str) -> None:
    ref, cur = numeric_case(shape)
    [result] = feature_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    r, c = finite(ref), finite(cur)
    ks = stats.ks_2samp(r, c)
    ref_hist, cur_hist = decile_histograms(r, c)

    assert result.kind == "numeric"
    assert set(result.stats) == {"ks_statistic", "ks_pvalue", "wasserstein", "psi", "js_distance"}
    assert result.stats["ks_statistic"] == close(ks.statistic)
    n = round(r.size * c.size / (r.size + c.size))
    if max(r.size, c.size) <= 10_000 or n * ks.statistic**2 < 2.2:  # scipy's own method
        assert result.stats["ks_pvalue"] == close(ks.pvalue)
    else:  # scipy's kstwo would sum n terms: the limiting distribution (docs/metrics.md)
        assert result.stats["ks_pvalue"] == close(stats.kstwobign.sf(np.sqrt(n) * ks.statistic))
        assert result.stats["ks_pvalue"] == pytest.approx(ks.pvalue, rel=2e-2)
    norm = max(np.std(r), 0.001)
    assert result.stats["wasserstein"] == close(stats.wasserstein_distance(r, c) / norm)
    assert result.stats["psi"] == close(numpy_psi(ref_hist, cur_hist))
    assert result.stats["js_distance"] == close(jensenshannon(ref_hist / r.size, cur_hist / c.size))


@pytest.mark.parametrize(
    "shape", ["small", "large", "only in current", "nans", "category dtype", "integers"]
)
def test_categorical_statistics_equal_their_references(shape: str) -> None:
    ref, cur = categorical_case(shape)
    [result] = feature_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    ref_counts, cur_counts = category_counts(ref, cur)
    expected = ref_counts * cur_counts.sum() / ref_counts.sum()

    assert result.kind == "categorical"
    with np.errstate(divide="ignore"):
        assert result.stats["chi2_pvalue"] == close(stats.chisquare(cur_counts, expected).pvalue)
    assert result.stats["psi"] == close(numpy_psi(ref_counts, cur_counts))
    assert result.stats["js_distance"] == close(
        jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    )
    assert "z_pvalue" not in result.stats


def test_category_only_in_current_gives_chi2_pvalue_zero_and_drift() -> None:
    ref, cur = categorical_case("only in current")
    [result] = feature_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    assert (result.method, result.score, result.drifted) == ("chi2", 0.0, True)


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ([True] * 120 + [False] * 80, [True] * 90 + [False] * 110),
        (["yes"] * 300 + ["no"] * 300, ["yes"] * 310 + ["no"] * 290),
    ],
)
def test_binary_z_test_equals_the_two_proportion_formula(ref: list, cur: list) -> None:
    [result] = feature_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    ref_counts, cur_counts = category_counts(pd.Series(ref), pd.Series(cur))
    assert result.method == "z"
    assert result.score == close(z_test_pvalue(ref_counts, cur_counts))


def test_binary_z_test_of_one_shared_value_is_one() -> None:
    [result] = feature_drift(pd.DataFrame({"x": ["a"] * 10}), pd.DataFrame({"x": ["a"] * 30}))
    assert (result.method, result.score, result.drifted) == ("z", 1.0, False)


# --- kinds and method choice ------------------------------------------------------------------


def test_column_kinds_follow_evidentlys_inference_on_the_reference() -> None:
    n = 100
    frame = pd.DataFrame(
        {
            "float": np.linspace(0, 1, n),
            "few_ints": np.arange(n) % 10,
            "many_ints": np.arange(n) % 11,
            "nullable_ints": pd.array(np.arange(n), dtype="Int64"),
            "bool": np.arange(n) % 2 == 0,
            "object": ["a", "b"] * (n // 2),
            "string": pd.array(["a", "b"] * (n // 2), dtype="string"),
            "category": pd.Categorical(["a", "b"] * (n // 2)),
            "when": pd.date_range("2017-01-01", periods=n),
        }
    )
    assert column_kinds(frame) == {
        "float": "numeric",
        "few_ints": "categorical",
        "many_ints": "numeric",
        "nullable_ints": "numeric",
        "bool": "categorical",
        "object": "categorical",
        "string": "categorical",
        "category": "categorical",
    }
    with pytest.raises(InputDataError, match=r"column 'when' has dtype datetime64\[ns\]"):
        column_kinds(frame, ["float", "when"])


def test_numeric_column_with_at_most_five_values_gets_categorical_tests() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.choice([0.0, 0.5, 1.0], 5_000)})
    cur = pd.DataFrame({"x": rng.choice([0.0, 0.5, 1.0, 2.0], 5_000)})
    [auto] = feature_drift(ref, cur)
    [ks] = feature_drift(ref, cur, method="ks")
    assert (auto.kind, auto.method) == ("categorical", "jensenshannon")
    assert (ks.kind, ks.method) == ("numeric", "ks")


def test_explicit_method_and_threshold_override_the_default() -> None:
    ref, cur = numeric_case("small")
    frames = pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})
    [default] = feature_drift(*frames, method="psi")
    [strict] = feature_drift(*frames, method="psi", threshold=default.score + 1e-6)
    assert (default.method, default.threshold, default.drifted) == ("psi", 0.1, True)
    assert (strict.score, strict.drifted) == (default.score, False)


def test_threads_do_not_change_results_and_metric_values_are_long_form() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=2_000) for i in range(6)})
    cur = pd.DataFrame({f"c{i}": rng.normal(0.05 * i, size=2_000) for i in range(6)})
    ref.iloc[::7, 0] = np.nan
    untouched = ref.copy()
    assert feature_drift(ref, cur, n_jobs=1) == feature_drift(ref, cur, n_jobs=2)
    pd.testing.assert_frame_equal(ref, untouched)  # sorting works on copies
    first = feature_drift(ref, cur, columns=["c5"])[0]
    values = {v.metric: v for v in first.metric_values()}
    assert set(values) == {*first.stats, "feature_drift", "drifted"}
    assert values["feature_drift"] == MetricValue("feature_drift", first.score, "c5")
    assert values["drifted"] == MetricValue("drifted", float(first.drifted), "c5")
    assert math.isnan(drift_share([]))


# --- verdicts against Evidently's DataDriftPreset ---------------------------------------------

EVIDENTLY_METHOD = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "chi-square p_value": "chi2",
    "Z-test p_value": "z",
    "Jensen-Shannon distance": "jensenshannon",
}


def mixed_batches(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def batch(shift: float) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "steady": rng.normal(size=n),
                "shifted": rng.normal(shift, size=n),
                "skewed": rng.exponential(1 + shift, size=n),
                "counts": rng.poisson(30, n),
                "levels": rng.choice([1.0, 2.0, 3.0], n, p=[0.5 - shift / 2, 0.3, 0.2 + shift / 2]),
                "grade": rng.integers(0, 6, n),
                "city": rng.choice(["paris", "lyon", "nice", "lille"], n),
                "segment": rng.choice(
                    ["a", "b", "c"], n, p=[0.6 - shift / 2, 0.2, 0.2 + shift / 2]
                ),
                "flag": rng.random(n) < 0.3 + shift / 4,
            }
        )
        frame.loc[rng.random(n) < 0.05, "steady"] = np.nan
        frame.loc[rng.random(n) < 0.05, "city"] = None
        return frame

    return batch(0.0), batch(0.4)


def evidently_drift(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[dict, float]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference).dict()
    values = {
        m["config"]["column"]: m["value"]
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }
    share = next(
        m["value"]["share"]
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("DriftedColumnsCount")
    )
    by_column = {}
    for test in snapshot["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith("ValueDrift"):
            column = params["column"]
            by_column[column] = (
                EVIDENTLY_METHOD[params["method"]],
                values[column],
                test["status"].value == "FAIL",
            )
    return by_column, share


@pytest.mark.parametrize(("n", "seed"), [(600, 1), (3_000, 2)], ids=["n600", "n3000"])
def test_auto_verdicts_agree_with_evidently(n: int, seed: int) -> None:
    reference, current = mixed_batches(n, seed)
    results = feature_drift(reference, current)
    expected, expected_share = evidently_drift(reference, current)

    ours = {r.feature: (r.method, r.score, r.drifted) for r in results}
    assert set(ours) == set(expected)
    for column, (method, score, drifted) in expected.items():
        assert ours[column][0] == method, column
        assert ours[column][1] == close(score), column
        assert ours[column][2] == drifted, column
    assert drift_share(results) == close(expected_share)
    assert 0 < drift_share(results) < 1  # the case has both drifted and steady columns


# --- unhappy paths ----------------------------------------------------------------------------


def test_all_nan_column_is_an_input_error_naming_it() -> None:
    ref = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "empty": [np.nan] * 3})
    cur = pd.DataFrame({"ok": [1.0, 2.0, 4.0], "empty": [1.0, 2.0, 3.0]})
    with pytest.raises(
        InputDataError, match="column 'empty' has no non-missing values in the reference batch"
    ):
        feature_drift(ref, cur)
    with pytest.raises(
        InputDataError, match="column 'empty' has no non-missing values in the current batch"
    ):
        feature_drift(cur, ref)
    labels = pd.DataFrame({"label": ["a", "b"]})
    with pytest.raises(InputDataError, match="column 'label' has no non-missing values in the cur"):
        feature_drift(labels, pd.DataFrame({"label": [None, None]}, dtype=object))


def test_unknown_column_is_an_input_error_listing_the_columns() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    with pytest.raises(
        InputDataError,
        match=r"column\(s\) \['c'\] not in the reference batch; its columns are \['a', 'b'\]",
    ):
        feature_drift(frame, frame, columns=["a", "c"])
    with pytest.raises(InputDataError, match=r"\['b'\] not in the current batch"):
        feature_drift(frame, frame[["a"]])


def test_unknown_or_unfit_method_is_an_input_error_listing_the_choices() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    with pytest.raises(
        InputDataError,
        match=r"unknown drift method 'kolmogorov'; choose one of \['auto', 'ks', 'wasserstein', "
        r"'chi2', 'z', 'jensenshannon', 'psi'\]",
    ):
        feature_drift(frame, frame, method="kolmogorov")
    with pytest.raises(
        InputDataError,
        match=r"method 'ks' needs a numeric column but 's' is categorical; choose one of "
        r"\['chi2', 'z', 'jensenshannon', 'psi'\]",
    ):
        feature_drift(frame, frame, columns=["s"], method="ks")
    with pytest.raises(
        InputDataError, match="method 'z' needs at most 2 categories but column 's'"
    ):
        feature_drift(frame, frame, columns=["s"], method="z")
    with pytest.raises(
        InputDataError, match=r"column 's' is analysed as numeric but its reference values are not"
    ):
        feature_drift(frame, frame, kinds={"s": "numeric"})
    with pytest.raises(InputDataError, match=r"unknown kind 'ordinal' for column 'x'"):
        feature_drift(frame, frame, kinds={"x": "ordinal"})  # type: ignore[dict-item]


def test_histograms_are_the_bins_the_statistics_used():
    rng = np.random.default_rng(7)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    ref = pd.DataFrame({"x": rng.normal(size=2_000), "c": rng.choice(letters, 2_000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=1_500), "c": rng.choice(list("abc"), 1_500)})
    by_feature = {d.feature: d for d in feature_drift(ref, cur)}

    numeric = by_feature["x"].histogram
    edges = np.array([-np.inf, *numeric.edges, np.inf])
    assert list(numeric.reference) == list(np.histogram(ref["x"], edges)[0])
    assert list(numeric.current) == list(np.histogram(cur["x"], edges)[0])
    assert len(numeric.bins) == len(numeric.edges) + 1 == 10
    expected_psi = numpy_psi(np.array(numeric.reference), np.array(numeric.current))
    assert by_feature["x"].stats["psi"] == pytest.approx(expected_psi, rel=1e-12)

    categorical = by_feature["c"].histogram
    assert len(categorical.bins) == 21 and categorical.bins[-1] == "(other)"  # 20 kept + other
    assert sum(categorical.reference) == 2_000 and sum(categorical.current) == 1_500
    counts = ref["c"].value_counts()
    for name, count in zip(categorical.bins[:-1], categorical.reference[:-1], strict=True):
        assert counts[name] == count


# --- tied data: exact deciles, the KS p-value's distribution ----------------------------------


def test_decile_edges_of_tied_integers_are_np_quantile_of_the_exact_deciles():
    """(n_ref − 1)·p whole: the edge is the data value itself (np.quantile at 0.3, not at
    0.30000000000000004, which lands just above it and moves its ties to the lower bin)."""
    rng = np.random.default_rng(1)
    ref, cur = rng.integers(0, 30, 1_001), rng.integers(0, 30, 1_001)
    [result] = feature_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    ref_hist, cur_hist = decile_histograms(ref.astype(float), cur.astype(float))
    assert list(result.histogram.edges) == list(np.unique(np.quantile(ref, np.arange(1, 10) / 10)))
    assert result.stats["psi"] == close(numpy_psi(ref_hist, cur_hist))
    assert result.stats["js_distance"] == close(jensenshannon(ref_hist / 1_001, cur_hist / 1_001))

    from scenarist.profiles import profile_batches, window_drift

    current, reference = profile_batches(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}),
                                         {"x": "numeric"})
    [from_profiles] = window_drift(reference, [current]).features
    assert from_profiles.stats["psi"] == pytest.approx(result.stats["psi"], rel=1e-12)
    assert from_profiles.stats["js_distance"] == pytest.approx(result.stats["js_distance"],
                                                               rel=1e-12)


def _tied_large(rows: int, shift: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (np.sort(np.round(rng.normal(0, 10, rows))),
            np.sort(np.round(rng.normal(shift, 10, rows))))


def test_ks_pvalue_is_scipys_wherever_scipy_is_cheap():
    """Exact up to 10,000 rows, and scipy's asymptotic kstwo.sf above while n·D² < 2.2."""
    from scenarist.metrics.drift_stats import numeric_stats

    for rows, shift in ((8_000, 0.3), (60_000, 0.02), (60_000, 0.0)):
        ref, cur = _tied_large(rows, shift)
        reference = stats.ks_2samp(ref, cur, method="auto")
        assert rows <= 10_000 or rows / 2 * reference.statistic**2 < 2.2  # the cases hold
        assert numeric_stats(ref, cur)["ks_pvalue"] == close(reference.pvalue)


def test_ks_pvalue_of_a_large_sample_far_in_the_tail_is_the_asymptotic_one_and_cheap():
    """Where scipy's kstwo sums Smirnov's series over n terms (n·D² ≥ 2.2), the limiting
    Kolmogorov distribution: within 0.5% of scipy's value there, in far less time."""
    import time

    from scenarist.metrics.drift_stats import ks_asymptotic_pvalue

    n_ref = n_cur = 1_000_000
    n = n_ref * n_cur / (n_ref + n_cur)
    for d in (np.sqrt(2.3 / n), np.sqrt(5 / n), np.sqrt(20 / n)):
        start = time.perf_counter()
        got = ks_asymptotic_pvalue(d, n_ref, n_cur)
        assert time.perf_counter() - start < 0.05
        assert got == close(stats.kstwobign.sf(d * np.sqrt(n)))
        assert got == pytest.approx(stats.kstwo.sf(d, round(n)), rel=5e-3)
