import math

import numpy as np
import pandas as pd
import pytest

from scenarist.errors import InputDataError
from scenarist.metrics.quality import data_quality

KINDS = {"age": "numeric", "city": "categorical", "score": "numeric"}


def _by_key(metrics):
    keys = [m.key for m in metrics]
    assert len(keys) == len(set(keys)), "each metric appears once"
    return {m.key: m.value for m in metrics}


@pytest.fixture
def frames():
    rng = np.random.default_rng(7)
    n_ref, n_cur = 300, 200
    reference = pd.DataFrame(
        {
            "age": rng.uniform(18, 70, n_ref),
            "city": rng.choice(["paris", "lyon", "nice", None], n_ref),
            "score": rng.normal(0, 1, n_ref),
            "unused": rng.normal(0, 1, n_ref),
        }
    )
    current = pd.DataFrame(
        {
            "age": rng.uniform(10, 80, n_cur),
            "city": rng.choice(["paris", "lyon", "lille", "brest", None], n_cur),
            "score": rng.normal(0, 1, n_cur),
            "unused": rng.normal(0, 1, n_cur),
        }
    )
    current.loc[rng.random(n_cur) < 0.2, "age"] = np.nan
    current["score"] = np.nan  # all missing in the batch
    return reference, current


def test_matches_plain_pandas(frames):
    reference, current = frames
    got = _by_key(data_quality(reference, current, kinds=KINDS))
    cols = list(KINDS)

    assert got["row_count"] == len(current)
    assert got["missing_share"] == pytest.approx(
        current[cols].isna().sum().sum() / (len(current) * len(cols)), abs=1e-12
    )
    for col in cols:
        assert got[f"missing_share[{col}]"] == pytest.approx(current[col].isna().mean(), abs=1e-12)

    cur_city = current["city"].dropna()
    expected_unseen = (~cur_city.isin(set(reference["city"].dropna()))).mean()
    assert 0 < expected_unseen < 1
    assert got["unseen_category_share[city]"] == pytest.approx(expected_unseen, abs=1e-12)

    cur_age = current["age"].dropna()
    lo, hi = reference["age"].min(), reference["age"].max()
    expected_oor = ((cur_age < lo) | (cur_age > hi)).mean()
    assert 0 < expected_oor < 1
    assert got["out_of_range_share[age]"] == pytest.approx(expected_oor, abs=1e-12)

    assert "unseen_category_share[age]" not in got
    assert "out_of_range_share[city]" not in got
    assert not any("unused" in key for key in got)


def test_all_missing_column_in_current(frames):
    reference, current = frames
    got = _by_key(data_quality(reference, current, kinds=KINDS))
    assert got["missing_share[score]"] == 1.0
    assert math.isnan(got["out_of_range_share[score]"])


def test_missing_reference_is_not_a_category_and_bounds_are_inclusive():
    reference = pd.DataFrame({"x": [1.0, 5.0, np.nan], "c": ["a", np.nan, "b"]})
    current = pd.DataFrame({"x": [1.0, 5.0, 5.5, np.inf], "c": [None, "a", "z", "b"]})
    got = _by_key(data_quality(reference, current, kinds={"x": "numeric", "c": "categorical"}))
    assert got["out_of_range_share[x]"] == 0.5  # 1.0 and 5.0 are in range; 5.5 and inf are not
    assert got["unseen_category_share[c]"] == pytest.approx(1 / 3)  # the None is not counted
    assert got["missing_share[c]"] == 0.25
    assert got["missing_share"] == pytest.approx(1 / 8)


def test_empty_current_gives_nan_shares():
    reference = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    current = reference.iloc[:0]
    got = _by_key(data_quality(reference, current, kinds={"x": "numeric", "c": "categorical"}))
    assert got["row_count"] == 0
    assert all(math.isnan(v) for k, v in got.items() if k != "row_count")


def test_reference_all_missing_gives_nan_range():
    reference = pd.DataFrame({"x": [np.nan, np.nan]})
    current = pd.DataFrame({"x": [1.0, 2.0]})
    got = _by_key(data_quality(reference, current, kinds={"x": "numeric"}))
    assert math.isnan(got["out_of_range_share[x]"])


def test_missing_column_is_named():
    reference = pd.DataFrame({"x": [1.0]})
    current = pd.DataFrame({"y": [1.0]})
    with pytest.raises(InputDataError, match=r"current data lacks column\(s\) \['x'\]"):
        data_quality(reference, current, kinds={"x": "numeric"})


def test_non_numeric_value_in_numeric_column_is_named():
    reference = pd.DataFrame({"x": [1.0, 2.0]})
    current = pd.DataFrame({"x": ["3", "n/a"]})
    with pytest.raises(InputDataError, match=r"column 'x' of the current data .* 'n/a'"):
        data_quality(reference, current, kinds={"x": "numeric"})


def test_bad_kind_and_empty_kinds():
    frame = pd.DataFrame({"x": [1.0]})
    with pytest.raises(ValueError, match="unknown column kinds"):
        data_quality(frame, frame, kinds={"x": "text"})
    with pytest.raises(InputDataError, match="`kinds` is empty"):
        data_quality(frame, frame, kinds={})
