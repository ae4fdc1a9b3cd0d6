"""The evaluation store on SQLite and on the real PostgreSQL: append, read, replace, delete."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select

from scenarist.demo.data import FEATURES, TARGET, generate_quarter, train_model
from scenarist.errors import InputDataError, NotFoundError, StoreError
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.project.models import model_from_estimator
from scenarist.stores.database import connect
from scenarist.stores.evaluation_store import EvaluationStore
from scenarist.stores.schema import evaluations, metric_values


@pytest.fixture(scope="module")
def quarters() -> dict[str, pd.DataFrame]:
    return {q: generate_quarter(q, 1_500) for q in ("2017Q1", "2017Q2", "2017Q4")}


@pytest.fixture(scope="module")
def model(quarters):
    return model_from_estimator(
        train_model(quarters["2017Q1"]), target=TARGET, type="binary", name="fraud_model"
    )


def _count(store: EvaluationStore, table) -> int:
    with store._engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_evaluate_appends_and_reads_back(store_url, model, quarters):
    store = EvaluationStore.open("mes-append", store_url)
    ref = quarters["2017Q1"]
    q2 = store.evaluate(model, quarters["2017Q2"], ref, label="2017Q2")
    q4 = store.evaluate(model, quarters["2017Q4"], ref, label="2017Q4")

    assert store.labels() == ["2017Q2", "2017Q4"]
    assert store.latest().label == "2017Q4"
    assert q4.row_count == 1_500 and q4.reference_row_count == 1_500
    assert q4.metric("data_drift") > q2.metric("data_drift")
    assert set(q4.details["drifted_features"]) >= {"card_age", "card_fico_score"}
    assert q4.details["top_drifted_features"][:2] in (
        ["card_age", "card_fico_score"], ["card_fico_score", "card_age"]
    )
    # labels present → performance is stored
    assert 0.5 < q2.metric("auc") <= 1.0
    assert q2.metric("labeled_rows") == 1_500

    history = store.history("data_drift")
    assert list(history.index) == ["2017Q2", "2017Q4"]
    assert history["2017Q4"] == pytest.approx(q4.metric("data_drift"), rel=1e-12)
    per_feature = store.history("psi", feature="card_age")
    assert per_feature["2017Q4"] == pytest.approx(q4.metric("psi", "card_age"), rel=1e-12)

    table = store.list()
    assert list(table.index) == ["2017Q2", "2017Q4"]
    assert table.loc["2017Q4", "drift_share"] == pytest.approx(q4.metric("drift_share"))

    features = q4.feature_table()
    assert set(features.index) == set(FEATURES)
    assert features.loc["card_age", "drifted"] == 1.0


def test_reevaluating_a_label_replaces_it_and_keeps_its_place(store_url, model, quarters):
    store = EvaluationStore.open("mes-replace", store_url)
    ref = quarters["2017Q1"]
    first = store.evaluate(model, quarters["2017Q2"], ref, label="2017Q2")
    store.evaluate(model, quarters["2017Q4"], ref, label="2017Q4")
    rows_before = _count(store, metric_values)

    again = store.evaluate(model, quarters["2017Q4"], ref, label="2017Q2")

    assert store.labels() == ["2017Q2", "2017Q4"]  # replaced in place, not appended
    assert _count(store, metric_values) == rows_before
    assert again.created_at == first.created_at
    assert again.evaluated_at > first.evaluated_at
    assert store.get("2017Q2").metric("data_drift") == pytest.approx(
        again.metric("data_drift"), rel=1e-12
    )


def test_history_is_ordered_by_time_range_and_nan_survives(store_url):
    store = EvaluationStore.open("mes-order", store_url)
    utc = timezone.utc
    later = (datetime(2017, 10, 1, tzinfo=utc), datetime(2017, 12, 31, tzinfo=utc))
    earlier = (datetime(2017, 4, 1, tzinfo=utc), datetime(2017, 6, 30, tzinfo=utc))
    for label, span, auc in (("late", later, math.nan), ("early", earlier, 0.81)):
        computed = ComputedEvaluation(
            values=[MetricValue("auc", auc), MetricValue("psi", 0.3, feature="x")],
            row_count=10,
            reference_row_count=20,
        )
        store.record(label, computed, model="m", time_range=span)

    history = store.history("auc")
    assert list(history.index) == ["early", "late"]
    assert history["early"] == 0.81 and math.isnan(history["late"])
    assert store.get("late").time_start == later[0]


def test_failed_write_leaves_the_previous_evaluation_intact(store_url):
    store = EvaluationStore.open("mes-atomic", store_url)
    good = ComputedEvaluation([MetricValue("data_drift", 0.1)], row_count=5, reference_row_count=5)
    store.record("b1", good, model="m")
    # the second metric value cannot be converted: the failure comes after the old row was
    # deleted and the new one inserted, inside the transaction
    bad = ComputedEvaluation(
        [MetricValue("data_drift", 0.9), MetricValue("psi", object(), feature="x")],  # type: ignore[arg-type]
        row_count=5,
        reference_row_count=5,
    )
    with pytest.raises(TypeError):
        store.record("b1", bad, model="m")
    assert store.get("b1").metric("data_drift") == 0.1
    assert store.labels() == ["b1"]


def test_bad_batch_writes_nothing(store_url, model, quarters):
    store = EvaluationStore.open("mes-bad-input", store_url)
    broken = quarters["2017Q2"].drop(columns=["card_age"])
    with pytest.raises(InputDataError, match="lacks model feature.*'card_age'"):
        store.evaluate(model, broken, quarters["2017Q1"], label="2017Q2")
    assert store.labels() == []


def test_delete_and_not_found_messages(store_url):
    store = EvaluationStore.open("mes-delete", store_url)
    store.record("a", ComputedEvaluation([MetricValue("auc", 0.8)], 1, 1), model="m")
    store.record("b", ComputedEvaluation([MetricValue("auc", 0.7)], 1, 1), model="m")
    store.delete("a")
    assert store.labels() == ["b"]
    assert _count(store, evaluations) >= 1
    with pytest.raises(NotFoundError, match=r"no evaluation labelled 'a'; evaluations: b"):
        store.get("a")
    with pytest.raises(NotFoundError, match=r"no evaluation labelled 'zz'"):
        store.delete("zz")
    with pytest.raises(NotFoundError, match=r"has metric 'acu'; available: auc"):
        store.history("acu")


def test_stores_in_one_database_are_separate(store_url):
    one = EvaluationStore.open("store-one", store_url)
    two = EvaluationStore.open("store-two", store_url)
    one.record("x", ComputedEvaluation([MetricValue("auc", 0.8)], 1, 1), model="m")
    assert two.labels() == []
    assert EvaluationStore.open("store-one", store_url).labels() == ["x"]


def test_unreachable_store_says_what_to_check():
    with pytest.raises(StoreError, match=r"cannot reach the store at postgresql\+psycopg://"
                                         r"nobody:\*\*\*@127.0.0.1:9/none.*running"):
        connect("postgresql://nobody:secret@127.0.0.1:9/none")
    with pytest.raises(StoreError, match="is not a database URL"):
        connect("not a url")


def test_migrations_match_the_schema(store_url):
    import importlib
    import pkgutil

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import scenarist.stores
    from scenarist.stores.schema import metadata

    for module in pkgutil.iter_modules(scenarist.stores.__path__):  # each feature's tables
        importlib.import_module(f"scenarist.stores.{module.name}")  # join the shared metadata

    engine = connect(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": "scenarist_alembic_version"}
        )
        assert compare_metadata(context, metadata) == []
