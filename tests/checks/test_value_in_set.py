"""value_in_set: membership by value, the configurable outcome, spec validation."""

from __future__ import annotations

import pytest
from check_helpers import evaluation
from pydantic import TypeAdapter, ValidationError

from scenarist.checks import CheckSpec, Outcome, evaluate_check

SPEC = TypeAdapter(CheckSpec)


def test_values_compare_by_value_and_the_outcome_is_configurable():
    spec = SPEC.validate_python({"type": "value_in_set", "store": "s", "metric": "classes",
                                 "values": [2, "3"], "outcome_if_not_in": "WARNING"})
    assert evaluate_check("c", spec, evaluation(classes=2.0)).outcome is Outcome.OK
    assert evaluate_check("c", spec, evaluation(classes=3.0)).outcome is Outcome.OK
    result = evaluate_check("c", spec, evaluation(classes=4.0))
    assert result.outcome is Outcome.WARNING
    assert result.message == "classes = 4 is not one of 2, 3"
    assert result.bounds == {"values": [2.0, "3"], "outcome_if_not_in": "WARNING"}


def test_spec_needs_values_and_a_known_outcome():
    with pytest.raises(ValidationError, match="at least 1 item"):
        SPEC.validate_python({"type": "value_in_set", "store": "s", "metric": "m", "values": []})
    with pytest.raises(ValidationError, match="'WARNING' or 'ERROR'"):
        SPEC.validate_python({"type": "value_in_set", "store": "s", "metric": "m",
                              "values": [1], "outcome_if_not_in": "OK"})
