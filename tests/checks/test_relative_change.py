"""relative_change against a real store (SQLite and PostgreSQL) holding two evaluations."""

from __future__ import annotations

import math
import uuid

import pytest
from pydantic import TypeAdapter, ValidationError

from scenarist.checks import CheckSpec, Outcome, evaluate_check
from scenarist.checks.relative_change import relative_change
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.stores.evaluation_store import EvaluationStore

SPEC = TypeAdapter(CheckSpec)
AUC_DROP = {"type": "relative_change", "store": "the_MES", "metric": "auc",
            "direction": "decrease", "soft_max_change": 0.05, "hard_max_change": 0.10}


def record(store: EvaluationStore, label: str, **metrics: float) -> None:
    values = [MetricValue(k, v) for k, v in metrics.items()]
    store.record(label, ComputedEvaluation(values, 100, 100), model="fraud_model")


@pytest.mark.parametrize(("auc_now", "outcome"), [
    (0.82, Outcome.OK),        # a rise does not count for direction: decrease
    (0.76, Outcome.OK),        # exactly 5% down: inclusive-OK despite float rounding
    (0.75, Outcome.WARNING),   # 6.25% down
    (0.72, Outcome.WARNING),   # exactly 10% down: not past the hard limit, past the soft one
    (0.71, Outcome.ERROR),     # 11.25% down
])
def test_auc_drop_against_the_previous_evaluation(store_url, auc_now, outcome):
    store = EvaluationStore.open(f"mes-{uuid.uuid4().hex[:8]}", store_url)
    record(store, "2017Q3", auc=0.80)
    record(store, "2017Q4", auc=auc_now)
    labels = store.labels()
    latest, previous = store.get(labels[-1]), store.get(labels[-2])
    result = evaluate_check("auc drop", SPEC.validate_python(AUC_DROP), latest, previous)
    assert result.outcome is outcome, result.message
    assert result.bounds["previous"] == 0.80 and result.bounds["previous_label"] == "2017Q3"


def test_message_and_first_evaluation(store_url):
    store = EvaluationStore.open(f"mes-{uuid.uuid4().hex[:8]}", store_url)
    record(store, "2017Q3", auc=0.80)
    spec = SPEC.validate_python(AUC_DROP)
    first = evaluate_check("auc drop", spec, store.get("2017Q3"), None)
    assert first.outcome is Outcome.EMPTY
    assert first.message == "store 'the_MES' has no evaluation before '2017Q3' to compare auc with"
    record(store, "2017Q4", auc=0.70)
    result = evaluate_check("auc drop", spec, store.get("2017Q4"), store.get("2017Q3"))
    assert result.message == ("auc moved -12.50% from 0.8 (2017Q3) to 0.7, more than the hard "
                              "limit 10.00% (decrease)")


def test_both_directions_and_zero():
    assert relative_change(0.5, 0.4) == pytest.approx(0.25)
    assert relative_change(-0.5, -0.4) == pytest.approx(-0.25)
    assert relative_change(0.0, 0.0) == 0.0
    assert relative_change(0.1, 0.0) == math.inf


def test_spec_needs_a_limit_and_soft_within_hard():
    with pytest.raises(ValidationError, match="needs soft_max_change, hard_max_change or both"):
        SPEC.validate_python({**AUC_DROP, "soft_max_change": None, "hard_max_change": None})
    with pytest.raises(ValidationError, match=r"soft_max_change \(0.2\) must not exceed "
                       r"hard_max_change \(0.1\)"):
        SPEC.validate_python({**AUC_DROP, "soft_max_change": 0.2})
    with pytest.raises(ValidationError, match="'decrease', 'increase' or 'both'"):
        SPEC.validate_python({**AUC_DROP, "direction": "down"})
