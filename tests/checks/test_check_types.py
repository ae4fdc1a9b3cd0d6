"""One standard suite over every registered check type: an OK, a failing and an EMPTY case each,
run through the one entry point `evaluate_check`, plus the result's invariants."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, dataclass
from typing import Any

import pytest
from check_helpers import evaluation
from pydantic import TypeAdapter

from scenarist.checks import CHECK_TYPES, CheckResult, CheckSpec, Outcome, evaluate_check

SPEC = TypeAdapter(CheckSpec)


@dataclass(frozen=True)
class Case:
    spec: dict[str, Any]
    ok: dict[str, float]
    failing: dict[str, float]
    failing_outcome: Outcome
    empty: dict[str, float]
    previous: dict[str, float] | None = None


CASES = {
    "numeric_range": Case({"store": "the_MES", "metric": "data_drift", "soft_max": 0.45},
                          ok={"data_drift": 0.1}, failing={"data_drift": 0.49},
                          failing_outcome=Outcome.WARNING, empty={"auc": 0.8}),
    "value_in_set": Case({"type": "value_in_set", "store": "the_MES", "metric": "drifted",
                          "feature": "card_age", "values": [0]},
                         ok={"drifted__card_age": 0.0}, failing={"drifted__card_age": 1.0},
                         failing_outcome=Outcome.ERROR, empty={"drifted__card_age": math.nan}),
    "relative_change": Case({"type": "relative_change", "store": "the_MES", "metric": "auc",
                             "direction": "decrease", "soft_max_change": 0.05,
                             "hard_max_change": 0.10},
                            ok={"auc": 0.79}, failing={"auc": 0.70},
                            failing_outcome=Outcome.ERROR, empty={"data_drift": 0.1},
                            previous={"auc": 0.80}),
    "python": Case({"type": "python", "store": "the_MES", "metric": "auc",
                    "function": "sample_checks:auc_at_least", "params": {"minimum": 0.7}},
                   ok={"auc": 0.8}, failing={"auc": 0.6}, failing_outcome=Outcome.ERROR,
                   empty={"auc": math.nan}),
}


def test_every_registered_type_has_a_case():
    assert set(CASES) == set(CHECK_TYPES)


@pytest.fixture(params=sorted(CHECK_TYPES))
def case(request) -> tuple[Any, Case]:
    kind = CASES[request.param]
    spec = SPEC.validate_python(kind.spec)
    assert spec.type == request.param
    return spec, kind


def _run(spec, metrics, kind: Case) -> CheckResult:
    previous = evaluation("2017Q3", **kind.previous) if kind.previous is not None else None
    return evaluate_check("the check", spec, evaluation("2017Q4", **metrics), previous)


def test_ok(case):
    spec, kind = case
    result = _run(spec, kind.ok, kind)
    assert result.outcome is Outcome.OK, result.message
    assert result.name == "the check" and result.store == "the_MES"
    assert result.evaluation_label == "2017Q4"
    assert result.metric == spec.metric and result.feature == spec.feature
    assert result.value is not None and result.message


def test_failing(case):
    spec, kind = case
    result = _run(spec, kind.failing, kind)
    assert result.outcome is kind.failing_outcome, result.message
    assert result.bounds  # what it was compared against is kept


def test_empty(case):
    spec, kind = case
    if spec.type == "python":  # a python check is EMPTY when its function says so
        spec = spec.model_copy(update={"function": "sample_checks:empty"})
    result = _run(spec, kind.empty, kind)
    assert result.outcome is Outcome.EMPTY, result.message
    assert result.value is None


def test_no_evaluation_is_empty(case):
    spec, _ = case
    result = evaluate_check("the check", spec, None)
    assert result.outcome is Outcome.EMPTY
    assert result.message == "store 'the_MES' has no evaluation yet"
    assert result.evaluation_label is None


def test_specs_and_results_are_frozen(case):
    spec, kind = case
    with pytest.raises(Exception, match="frozen"):
        spec.store = "other"
    result = _run(spec, kind.ok, kind)
    with pytest.raises(FrozenInstanceError):
        result.outcome = Outcome.ERROR  # type: ignore[misc]


def test_specs_round_trip(case):
    spec, _ = case
    assert SPEC.validate_python(spec.model_dump()) == spec


def test_results_are_plain_values(case):
    import pickle

    spec, kind = case
    result = _run(spec, kind.failing, kind)
    assert pickle.loads(pickle.dumps(result)) == result  # Prefect tasks may pickle them
    assert result.as_dict()["outcome"] == kind.failing_outcome.value
