"""The numeric range check exactly as DESIGN.md §5, and its spec's validation messages."""

from __future__ import annotations

import math

import pytest
from check_helpers import evaluation
from pydantic import TypeAdapter, ValidationError

from scenarist.checks import CheckSpec, NumericRangeCheckSpec, Outcome, evaluate_check
from scenarist.checks.numeric_range import range_outcome

SPEC = TypeAdapter(CheckSpec)
ALL = {"hard_min": 0.6, "soft_min": 0.7, "soft_max": 0.9, "hard_max": 0.95}


@pytest.mark.parametrize(("value", "outcome", "crossed"), [
    (0.59, Outcome.ERROR, "hard_min"),
    (0.6, Outcome.WARNING, "soft_min"),   # equal to the hard bound: not past it
    (0.65, Outcome.WARNING, "soft_min"),
    (0.7, Outcome.OK, None),              # bounds are inclusive-OK
    (0.8, Outcome.OK, None),
    (0.9, Outcome.OK, None),
    (0.92, Outcome.WARNING, "soft_max"),
    (0.95, Outcome.WARNING, "soft_max"),
    (0.96, Outcome.ERROR, "hard_max"),
])
def test_every_bound(value, outcome, crossed):
    assert range_outcome(value, ALL) == (outcome, crossed)


@pytest.mark.parametrize(("bounds", "value", "outcome"), [
    ({"soft_max": 0.45}, 0.45, Outcome.OK),
    ({"soft_max": 0.45}, 0.4501, Outcome.WARNING),
    ({"hard_max": 0.45}, 0.4501, Outcome.ERROR),
    ({"soft_min": 0.75}, 0.7499, Outcome.WARNING),
    ({"hard_min": 0.7}, 0.7, Outcome.OK),
    ({"hard_min": 0.7}, -math.inf, Outcome.ERROR),
])
def test_single_bounds(bounds, value, outcome):
    spec = NumericRangeCheckSpec(store="s", metric="m", **bounds)
    assert evaluate_check("c", spec, evaluation(m=value)).outcome is outcome


def test_messages_are_human():
    spec = SPEC.validate_python({"store": "the_MES", "metric": "data_drift", "soft_max": 0.45})
    assert spec.type == "numeric_range"  # the default type
    result = evaluate_check("data drift < 0.45", spec, evaluation(data_drift=0.49451))
    assert result.outcome is Outcome.WARNING
    assert result.message == "data_drift = 0.4945 is above the soft maximum 0.45"
    assert result.value == 0.49451 and result.bounds == {"soft_max": 0.45}
    auc = NumericRangeCheckSpec(store="the_MES", metric="auc", soft_min=0.75, hard_min=0.7)
    low = evaluate_check("auc above 0.7", auc, evaluation(auc=0.65))
    assert low.message == "auc = 0.65 is below the hard minimum 0.7"
    ok = evaluate_check("auc above 0.7", auc, evaluation(auc=0.8))
    assert ok.message == "auc = 0.8 is within bounds (hard_min 0.7, soft_min 0.75)"
    per_feature = NumericRangeCheckSpec(store="s", metric="psi", feature="card_age", hard_max=0.2)
    assert evaluate_check("psi", per_feature, evaluation(psi__card_age=0.31)).message == \
        "psi[card_age] = 0.31 is above the hard maximum 0.2"


def test_nan_and_missing_are_empty():
    spec = NumericRangeCheckSpec(store="s", metric="auc", soft_min=0.75)
    nan = evaluate_check("c", spec, evaluation(auc=math.nan, data_drift=0.1))
    assert nan.outcome is Outcome.EMPTY and nan.value is None
    assert nan.message == "auc has no value in evaluation '2017Q4'"
    missing = evaluate_check("c", spec, evaluation(data_drift=0.1, psi__card_age=0.2))
    assert missing.outcome is Outcome.EMPTY
    assert missing.message == "evaluation '2017Q4' has no metric 'auc'; available: data_drift"


def test_soft_outside_hard_is_rejected():
    with pytest.raises(ValidationError, match=r"soft_max \(0.5\) must not exceed hard_max "
                       r"\(0.45\); bounds go hard_min <= soft_min <= soft_max <= hard_max"):
        SPEC.validate_python({"store": "s", "metric": "m", "soft_max": 0.5, "hard_max": 0.45})
    with pytest.raises(ValidationError, match=r"hard_min \(0.8\) must not exceed soft_min "
                       r"\(0.75\)"):
        NumericRangeCheckSpec(store="s", metric="m", soft_min=0.75, hard_min=0.8)


def test_no_bounds_is_rejected():
    with pytest.raises(ValidationError, match="a numeric range needs at least one of soft_min, "
                       "soft_max, hard_min, hard_max"):
        SPEC.validate_python({"store": "s", "metric": "m"})


def test_unknown_type_and_key_list_the_valid_ones():
    with pytest.raises(ValidationError) as info:
        SPEC.validate_python({"type": "regex", "store": "s", "metric": "m"})
    [error] = info.value.errors()
    assert error["loc"] == ("type",)
    assert error["msg"] == ("Value error, unknown check type 'regex'; valid types: "
                            "numeric_range, value_in_set, relative_change, python")
    with pytest.raises(ValidationError) as info:
        SPEC.validate_python({"store": "s", "metric": "m", "soft_max": 1, "sof_min": 0})
    [error] = info.value.errors()
    assert error["loc"] == ("sof_min",)
    assert ("unknown key 'sof_min'; valid keys: store, metric, feature, segment, shadow, type, "
            "soft_min") in error["msg"]
