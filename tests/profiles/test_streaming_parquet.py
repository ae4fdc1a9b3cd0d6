"""Streaming evaluation of Parquet sources: the in-memory numbers, within a memory limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarist.errors import InputDataError
from scenarist.metrics.drift import column_kinds, drift_share, feature_drift
from scenarist.metrics.quality import data_quality
from scenarist.profiles import profile_batches
from scenarist.profiles.streaming import (
    SCRATCH_BYTES_PER_VALUE,
    StreamOptions,
    combine,
    evaluate_group,
    plan_stream,
)


def _frame(rng, rows, shift):
    frame = pd.DataFrame({
        "f32": rng.normal(shift, 1, rows).astype(np.float32),
        "wide": rng.lognormal(shift, 1, rows),
        "count": pd.array(rng.integers(0, 50, rows), dtype="Int64"),  # numeric integer
        "level": rng.integers(0, 4 + int(shift > 0), rows),  # ≤ 10 values: categorical
        "city": rng.choice(["paris", "lyon", "nice"] + (["lille"] if shift else []), rows),
    })
    frame.loc[rng.random(rows) < 0.05, "wide"] = np.nan
    frame.loc[3, "wide"] = np.inf
    frame.loc[rng.random(rows) < 0.02, "count"] = pd.NA
    return frame


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(5)
    reference, current = _frame(rng, 6_000, 0.0), _frame(rng, 5_000, 0.3)
    reference.to_parquet(folder / "reference.parquet")
    (folder / "current").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(current)), 3)):  # a dataset directory
        current.iloc[part].to_parquet(folder / "current" / f"part-{i}.parquet")
    return folder, reference, current


def _run(folder, options, **kwargs):
    plan = plan_stream(folder / "reference.parquet", folder / "current", options=options,
                       **kwargs)
    return plan, combine(plan, [evaluate_group(plan, group) for group in plan.groups])


def _values(computed):
    return {(v.metric, v.feature): v.value for v in computed.values}


def test_streaming_gives_the_in_memory_numbers(batches):
    folder, reference, current = batches
    # scratch of 2 computing columns + buffers for f32 (4 bytes a value), wide and count (8):
    # 2 groups, one column per read, chunks of 700 rows
    options = StreamOptions(memory_limit=SCRATCH_BYTES_PER_VALUE * 11_000 * 2
                            + 11_000 * (4 + 8 + 8), row_chunk=700)
    plan, (computed, current_profile, reference_profile) = _run(folder, options)
    assert len(plan.groups) == 2 and computed.details["streaming"]["column_groups"] == 2
    kinds = column_kinds(reference)
    assert kinds["level"] == "categorical" and computed.details["column_kinds"]["level"] == (
        "categorical")
    got = _values(computed)
    drifts = feature_drift(reference, current, kinds=kinds, n_jobs=1)
    for d in drifts:
        for stat, value in d.stats.items():
            assert got[(stat, d.feature)] == pytest.approx(value, rel=1e-12, abs=1e-300), stat
        assert got[("drifted", d.feature)] == float(d.drifted)
        assert computed.details["drift_methods"][d.feature] == d.method
    assert got[("drift_share", None)] == drift_share(drifts)
    for v in data_quality(reference, current, kinds=kinds):
        assert got[(v.metric, v.feature)] == pytest.approx(v.value, nan_ok=True), v.key
    assert computed.row_count == 5_000 and computed.reference_row_count == 6_000
    assert current_profile.rows == 5_000 and current_profile.edges_digest == (
        reference_profile.edges_digest)
    assert set(current_profile.numeric) == {"f32", "wide", "count"}
    assert set(current_profile.categorical) == {"level", "city"}
    # profiled exactly as an in-memory evaluation profiles the same batches
    in_memory_current, in_memory_reference = profile_batches(reference, current, kinds)
    assert in_memory_reference.edges_digest == reference_profile.edges_digest
    np.testing.assert_array_equal(in_memory_current.counts, current_profile.counts)
    assert in_memory_current.categorical == current_profile.categorical


def test_approximate_streaming_keeps_psi_exact_and_ks_within_its_bound(batches):
    folder, _reference, _current = batches
    _plan, (exact, _, _) = _run(folder, StreamOptions())
    _plan, (approx, _, _) = _run(folder, StreamOptions(exact=False))
    want, got = _values(exact), _values(approx)
    for column in ("f32", "wide", "count"):
        assert got[("psi", column)] == pytest.approx(want[("psi", column)], rel=1e-12)
        assert got[("ks_statistic", column)] <= want[("ks_statistic", column)] + 1e-12
        assert want[("ks_statistic", column)] <= (
            got[("ks_statistic", column)] + got[("ks_statistic_error", column)])
    assert approx.details["streaming"]["exact"] is False


def test_streaming_reads_any_fsspec_url(batches):
    import fsspec

    folder, reference, current = batches
    memory = fsspec.filesystem("memory")
    for name in ("reference", "current"):
        with memory.open(f"/scenarist-test/{name}.parquet", "wb") as handle:
            (reference if name == "reference" else current).to_parquet(handle)
    plan = plan_stream("memory://scenarist-test/reference.parquet",
                       "memory://scenarist-test/current.parquet", columns=["f32", "city"])
    computed, _, _ = combine(plan, [evaluate_group(plan, g) for g in plan.groups])
    _plan, (local, _, _) = _run(folder, StreamOptions(), columns=["f32", "city"])
    assert _values(computed) == _values(local)


def test_streaming_says_what_is_wrong(batches, tmp_path):
    folder, reference, _current = batches
    with pytest.raises(InputDataError, match="does not exist"):
        plan_stream(tmp_path / "nope.parquet", folder / "current")
    with pytest.raises(InputDataError, match="raise memory_limit to at least"):
        plan_stream(folder / "reference.parquet", folder / "current",
                    options=StreamOptions(memory_limit=100_000))
    with pytest.raises(InputDataError, match=r"\['ghost'\] are not in the reference"):
        plan_stream(folder / "reference.parquet", folder / "current", columns=["ghost"])
    reference[["f32"]].assign(extra=1.0).to_parquet(tmp_path / "ref.parquet")
    with pytest.raises(InputDataError, match=r"\['extra'\] of the reference are not in the "
                       "current batch"):
        plan_stream(tmp_path / "ref.parquet", folder / "current")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InputDataError, match="cannot open"):
        plan_stream(tmp_path / "bad.parquet", folder / "current")
    pd.DataFrame({"when": pd.date_range("2026-01-01", periods=3)}).to_parquet(
        tmp_path / "dates.parquet")
    with pytest.raises(InputDataError, match="'when' has type timestamp"):
        plan_stream(tmp_path / "dates.parquet", tmp_path / "dates.parquet", columns=["when"])


def test_p_value_verdicts_are_corrected_as_in_memory(batches):
    from scenarist.metrics.multiple_testing import correct_drift

    folder, reference, current = batches
    plan, (computed, _, _) = _run(folder, StreamOptions(method="ks"), columns=["f32", "wide"])
    got = _values(computed)
    drifts = correct_drift(feature_drift(reference, current, columns=["f32", "wide"],
                                         method="ks", n_jobs=1), "benjamini_hochberg")
    for d in drifts:
        assert got[("adjusted_pvalue", d.feature)] == pytest.approx(d.adjusted_pvalue)
        assert got[("drifted", d.feature)] == float(d.drifted)
    _plan, (plain, _, _) = _run(folder, StreamOptions(method="ks", correction="none"),
                                columns=["f32", "wide"])
    unadjusted = _values(plain)
    assert unadjusted[("adjusted_pvalue", "wide")] == unadjusted[("ks_pvalue", "wide")]
    assert plain.details["options"]["correction"] == "none"


def test_approximate_streaming_corrects_once_over_every_column(batches):
    from scipy import stats

    folder, _reference, _current = batches
    columns = ["f32", "wide", "count"]
    # 1 column per group: a correction per group would leave every p-value unadjusted
    for correction in ("bonferroni", "benjamini_hochberg"):
        options = StreamOptions(exact=False, method="ks", correction=correction,
                                memory_limit=SCRATCH_BYTES_PER_VALUE * 11_000 * 2 + 100_000)
        plan, (computed, _, _) = _run(folder, options, columns=columns)
        assert len(plan.groups) == 3
        got = _values(computed)
        raw = np.array([got[("ks_pvalue", c)] for c in columns])
        want = (np.minimum(1.0, 3 * raw) if correction == "bonferroni"
                else stats.false_discovery_control(raw))
        assert [got[("adjusted_pvalue", c)] for c in columns] == pytest.approx(want)
    assert 0.01 < raw[2] < 0.9  # "count" did not drift: its adjustment is visible


def test_min_rows_empties_the_drift_of_a_column_short_of_values(batches):
    folder, reference, current = batches
    wide = int(np.isfinite(current["wide"]).sum())
    assert wide < len(current) and int(current["f32"].notna().sum()) == len(current)
    options = StreamOptions(method="ks", min_rows=wide + 1)
    _plan, (computed, _, _) = _run(folder, options, columns=["f32", "wide"])
    got = _values(computed)
    assert np.isnan(got[("ks_pvalue", "wide")]) and np.isnan(got[("drifted", "wide")])
    assert got[("drifted", "f32")] == 1.0 and got[("n_drifted_features", None)] == 1.0
    assert got[("drift_share", None)] == 1.0  # over the features with enough values
    why = computed.details["insufficient_data"]["ks_pvalue[wide]"]
    assert why == (f"insufficient data: {wide} non-missing current values of wide, "
                   f"min_rows is {wide + 1}")
    assert computed.details["options"]["min_rows"] == wide + 1
    # the default (30) empties nothing here
    _plan, (plain, _, _) = _run(folder, StreamOptions(method="ks"), columns=["f32", "wide"])
    assert not plain.details["insufficient_data"]
