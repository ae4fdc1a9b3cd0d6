"""`EvaluationStore.evaluations()` reads the whole history at once, equal to one `get` per label,
and `EvaluationStore.names` lists the stores of a database."""

from __future__ import annotations

from datetime import datetime, timezone

from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.stores.evaluation_store import EvaluationStore


def test_evaluations_equal_one_get_per_label_in_history_order(store_url):
    store = EvaluationStore.open("bulk", store_url)
    EvaluationStore.open("other", store_url).record(
        "x", ComputedEvaluation([MetricValue("auc", 0.1)], 1, 1), model="m")
    for label, day in (("b", 2), ("a", 1), ("c", 3)):
        values = [MetricValue("auc", day / 10), MetricValue("psi", day / 5, feature="f"),
                  MetricValue("auc", 0.5, segment="device=mobile")]
        moment = datetime(2024, 1, day, tzinfo=timezone.utc)
        store.record(label, ComputedEvaluation(values, day, 10, {"n": day}), model="m",
                     time_range=(moment, moment))
    store.record("empty", ComputedEvaluation([], 0, 0), model="m")
    assert store.evaluations() == [store.get(label) for label in store.labels()]
    assert [e.label for e in store.evaluations()] == ["a", "b", "c", "empty"]
    assert store.evaluations()[0].metrics == {"auc": 0.1, "psi[f]": 0.2}
    assert {"bulk", "other"} <= set(EvaluationStore.names(store_url))
