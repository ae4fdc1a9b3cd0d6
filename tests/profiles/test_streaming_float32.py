"""Streaming keeps float32 columns float32 (read, sorted) and still gives the float64 numbers;
its buffers stay within the budget and are reused; the time split is reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scenarist.metrics.drift import feature_drift
from scenarist.profiles import profile_frame
from scenarist.profiles.profile import count_below, fine_probabilities, sorted_quantiles
from scenarist.profiles.streaming import (
    SCRATCH_BYTES_PER_VALUE,
    StreamOptions,
    combine,
    evaluate_group,
    plan_stream,
)

REF_ROWS, CUR_ROWS = 30_000, 45_000


def _batch(rng, rows, shift):
    normal = rng.standard_normal(rows).astype(np.float32)
    frame = pd.DataFrame({
        "plain": normal,
        "shifted": (rng.standard_normal(rows) + shift).astype(np.float32),
        # ties within and across batches, both zeros, values needing all 24 bits
        "ties": (np.round(rng.standard_normal(rows) * 20) / 8).astype(np.float32),
        "zeros": np.where(rng.random(rows) < 0.4, np.where(normal > 0, 0.0, -0.0),
                          np.round(normal * 16) / 16).astype(np.float32),
        "wide": (rng.lognormal(0, 3, rows) * 1e20 + shift).astype(np.float32),
        "small": rng.integers(-300, 300, rows).astype(np.int16),  # exact in float32
        "gaps": rng.standard_normal(rows).astype(np.float32),
    })
    frame.loc[rng.random(rows) < 0.03, "gaps"] = np.nan
    frame.loc[5, "gaps"] = np.inf
    frame.loc[6, "gaps"] = -np.inf
    return frame


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    folder = tmp_path_factory.mktemp("float32")
    rng = np.random.default_rng(32)
    reference, current = _batch(rng, REF_ROWS, 0.0), _batch(rng, CUR_ROWS, 0.2)
    reference.to_parquet(folder / "reference.parquet", row_group_size=7_000)
    (folder / "current").mkdir()
    for i, part in enumerate(np.array_split(np.arange(CUR_ROWS), 4)):
        current.iloc[part].to_parquet(folder / "current" / f"part-{i}.parquet",
                                      row_group_size=5_000)
    return folder, reference, current


def _evaluate(folder, options):
    plan = plan_stream(folder / "reference.parquet", folder / "current", options=options)
    return plan, combine(plan, [evaluate_group(plan, group) for group in plan.groups])


def _values(computed):
    return {(v.metric, v.feature): v.value for v in computed.values}


def _finite64(series):
    values = series.to_numpy(np.float64)
    return np.sort(values[np.isfinite(values)])


def test_float32_columns_give_the_float64_statistics(batches):
    folder, reference, current = batches
    for method in ("auto", "ks"):  # every statistic is computed whatever the method
        plan, (computed, current_profile, reference_profile) = _evaluate(
            folder, StreamOptions(method=method, correction="none"))
        assert plan.float32 == set(reference.columns)  # float32 and int16 stay 4 bytes a value
        got = _values(computed)
        for column in reference.columns:
            ref, cur = _finite64(reference[column]), _finite64(current[column])
            # against scipy on the float64 values
            assert got[("ks_statistic", column)] == stats.ks_2samp(ref, cur).statistic, column
            wasserstein = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
            assert got[("wasserstein", column)] == pytest.approx(wasserstein, rel=1e-12)
        # against the in-memory evaluation of the float64 values (the documented tolerance)
        as64 = {"reference": reference.astype(np.float64), "current": current.astype(np.float64)}
        for drift in feature_drift(as64["reference"], as64["current"], method=method, n_jobs=1):
            for stat, value in drift.stats.items():
                exact = stat not in ("wasserstein",)  # float64 summation order only
                want = pytest.approx(value, rel=0 if exact else 1e-12, abs=0 if exact else 1e-300)
                assert got[(stat, drift.feature)] == want, (drift.feature, stat)
            assert got[("drifted", drift.feature)] == float(drift.drifted)
            histogram = computed.details["histograms"][drift.feature]
            for key in ("reference", "current", "edges"):  # labels may say -0 for 0: the
                assert histogram[key] == drift.histogram.as_dict()[key]  # sorts order ±0 freely
        assert computed.details["column_kinds"]["small"] == "numeric"  # 600 values
        # profiles as of the float64 values: the same edges, counts; sums and moments to 1e-12
        in_memory_ref = profile_frame(as64["reference"])
        in_memory_cur = profile_frame(as64["current"], reference=in_memory_ref)
        for streamed, in_memory in ((reference_profile, in_memory_ref),
                                    (current_profile, in_memory_cur)):
            np.testing.assert_array_equal(streamed.edges, in_memory.edges)
            np.testing.assert_array_equal(streamed.counts, in_memory.counts)
            np.testing.assert_array_equal(streamed.missing, in_memory.missing)
            np.testing.assert_allclose(streamed.sums, in_memory.sums, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(streamed.mean, in_memory.mean, rtol=1e-12)
            np.testing.assert_allclose(streamed.m2, in_memory.m2, rtol=1e-12)


def test_sorted_float32_helpers_equal_numpy_on_float64():
    rng = np.random.default_rng(7)
    values = np.sort(np.r_[rng.standard_normal(9_999), [1e30, -1e30, 0.0, -0.0] * 3]
                     .astype(np.float32))
    as64 = values.astype(np.float64)
    probs = fine_probabilities()
    np.testing.assert_array_equal(sorted_quantiles(values, probs), np.quantile(as64, probs))
    # edges between float32 values, on them, beyond them
    edges = np.r_[np.quantile(as64, probs), as64[::97], np.nextafter(as64[::89], np.inf),
                  np.nextafter(as64[::83], -np.inf), [-1e39, 1e39, 0.0]]
    np.testing.assert_array_equal(count_below(values, edges),
                                  np.searchsorted(as64, edges, side="left"))


def test_buffers_stay_within_the_budget_and_are_reused(batches):
    folder, _reference, _current = batches
    rows = REF_ROWS + CUR_ROWS
    column = 4 * rows  # bytes of one float32 column of both batches
    # scratch of 2 computing columns + buffers for 3 columns: groups of 3, one read at a time
    small = StreamOptions(memory_limit=SCRATCH_BYTES_PER_VALUE * rows * 2 + 3 * column + 10,
                          row_chunk=4_000)
    plan, (computed, _, _) = _evaluate(folder, small)
    streaming = computed.details["streaming"]
    assert [len(g) for g in plan.groups] == [3, 3, 1]
    assert streaming["buffer_budget"] == 3 * column + 10
    assert 0 < streaming["buffer_peak"] <= 3 * column  # 7 columns went through 3 buffers
    _plan, (roomy, _, _) = _evaluate(folder, StreamOptions())
    assert _values(computed) == _values(roomy)
    seconds = streaming["seconds"]
    for step in ("read", "sort", "drift", "profile", "quality", "combine"):
        assert seconds[step] >= 0, step
    assert {k for k in seconds if k.startswith("busy[")} and (
        {k for k in seconds if k.startswith("cpu[")})
