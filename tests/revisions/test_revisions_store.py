"""Revision history in the evaluation store (SQLite and PostgreSQL), CBPE in evaluations, and
verdicts revised on a store fed by datasets."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score

from scenarist.demo.data import TARGET, generate_quarter
from scenarist.errors import ConfigError
from scenarist.metrics.evaluation import EvaluationOptions
from scenarist.operations.build import open_store
from scenarist.operations.checking import run_checks
from scenarist.operations.revisions import revise_evaluations, revise_verdicts
from scenarist.project.config import load_project
from scenarist.project.models import load_model, model_from_estimator
from scenarist.reports.html import render_report
from scenarist.stores.evaluation_store import EvaluationStore

FAST = EvaluationOptions(max_rows_per_side=500, n_jobs=1)


def frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) + shift
    y = rng.random(n) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1])))
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y.astype(int)})


@pytest.fixture(scope="module")
def binary():
    reference = frame(3_000, 0.0, 1)
    estimator = LogisticRegression().fit(reference[["x1", "x2"]], reference["y"])
    return model_from_estimator(estimator, target="y", type="binary", name="m"), reference


def test_a_revision_keeps_what_the_labels_changed(store_url, binary):
    model, reference = binary
    current = frame(2_000, 0.7, 2)
    store = EvaluationStore.open(f"rev_{uuid.uuid4().hex[:8]}", store_url)
    unlabelled = store.evaluate(model, current.drop(columns="y"), reference, label="w1",
                                options=FAST)
    assert "accuracy" not in unlabelled.metrics and "revision" not in unlabelled.details
    assert unlabelled.details["cbpe"]["calibration"] in ("none", "isotonic")

    labelled = store.evaluate(model, current, reference, label="w1", options=FAST,
                              revision="labels arrived")
    realized = accuracy_score(current["y"], model.predict(current)[0])
    assert labelled.metric("accuracy") == pytest.approx(realized)
    assert labelled.details["revision"] == 1
    assert labelled.metric("estimated_accuracy") == unlabelled.metric("estimated_accuracy")
    assert abs(labelled.metric("estimated_accuracy_error")) <= 0.02  # calibrated, shifted

    (revision,) = store.revisions("w1")
    assert revision.reason == "labels arrived"
    assert revision.superseded_evaluated_at == unlabelled.evaluated_at
    assert revision.changes["accuracy"] == (None, pytest.approx(realized))
    assert revision.changes["labeled_rows"] == (None, 2_000)
    assert "estimated_accuracy_error" in revision.changes
    assert not any(k.startswith(("data_drift", "estimated_accuracy ", "ks_")) or
                   k == "estimated_accuracy" for k in revision.changes)

    again = store.evaluate(model, current, reference, label="w1", options=FAST,
                           revision="labels corrected")
    assert again.details["revision"] == 2 and store.revisions("w1")[1].changes == {}
    html = render_report(store, label="w1")
    assert '<table id="cbpe">' in html and '<table id="revisions">' in html
    assert "labels arrived" in html and "labels corrected" in html
    store.evaluate(model, current, reference, label="w1", options=FAST)  # plain replace
    assert len(store.revisions()) == 2
    store.delete("w1")
    assert [r.revision for r in store.revisions("w1")] == [1, 2]  # history outlives the row


def test_no_estimate_without_probabilities_of_a_binary_model():
    reference = frame(600, 0.0, 3)
    reference["t"] = 2 * reference["x1"] + reference["x2"]
    estimator = LinearRegression().fit(reference[["x1", "x2"]], reference["t"])
    model = model_from_estimator(estimator, target="t", type="regression", name="r")
    store = EvaluationStore.open("regression", "sqlite://")
    evaluation = store.evaluate(model, frame(300, 0.0, 4).assign(t=0.0), reference,
                                options=FAST)
    assert not [k for k in evaluation.metrics if k.startswith("estimated_")]
    assert evaluation.details["cbpe"] == {}


def test_verdicts_revised_on_a_store_fed_by_datasets(project_copy):
    project = load_project(project_copy)
    model = load_model(project, "fraud_model")
    reference = generate_quarter("2017Q1", 1_500)
    batch = generate_quarter("2017Q4", 1_500)
    store = open_store(project, "the_MES")
    store.evaluate(model, batch.drop(columns=TARGET), reference, label="2017Q4", options=FAST)
    (empty,) = run_checks(project, ["auc above 0.7"], evaluations={"the_MES": "2017Q4"})
    assert empty.outcome == "EMPTY"

    revised = store.evaluate(model, batch, reference, label="2017Q4", options=FAST,
                             revision="labels arrived")
    result = revise_verdicts(project, "the_MES", revised, deliver=False)
    (verdict,) = result.verdicts
    assert verdict.before == "EMPTY" and verdict.after == result.results[0].outcome != "EMPTY"
    assert result.messages == {}  # no reporter had alerted on this evaluation
    assert store.revisions("2017Q4")[0].verdicts == {"auc above 0.7": ("EMPTY", verdict.after)}

    with pytest.raises(ConfigError, match="fed by datasets, not a deployment"):
        revise_evaluations(project, "the_MES")
    with pytest.raises(ConfigError, match="unknown evaluation store 'nope'"):
        revise_evaluations(project, "nope")


def test_no_estimate_from_too_few_rows(binary):
    model, reference = binary
    store = EvaluationStore.open("few", "sqlite://")
    evaluation = store.evaluate(model, frame(12, 0.0, 5).drop(columns="y"), reference,
                                options=FAST)
    assert np.isnan(evaluation.metric("estimated_accuracy"))
    assert "insufficient data: 12 rows" in evaluation.details["insufficient_data"][
        "estimated_accuracy"]


def test_store_evaluate_revision_on_a_dataset_store(project_copy):
    from typer.testing import CliRunner

    from scenarist.cli import app

    runner = CliRunner()
    p = ["--project", str(project_copy)]
    batch = project_copy / "data" / "transactions_2017Q4.parquet"
    labelled = pd.read_parquet(batch)
    labelled.drop(columns=TARGET).to_parquet(batch)  # the labels are not there yet
    first = runner.invoke(app, ["store", "evaluate", "the_MES", "--var", "quarter=2017Q4", *p])
    assert first.exit_code == 0, first.output
    checked = runner.invoke(app, ["checks", "run", "the_MES", "auc above 0.7", *p])
    assert "EMPTY" in checked.output

    labelled.to_parquet(batch)  # they arrived
    revised = runner.invoke(app, ["store", "evaluate", "the_MES", "--var", "quarter=2017Q4",
                                  "--revision", "labels arrived", *p])
    assert revised.exit_code == 0, revised.output
    text = " ".join(revised.output.split())
    assert "revised '2017Q4' (revision 1: labels arrived)" in text
    assert "'auc above 0.7': verdict revised: EMPTY → " in text
    assert "no reporter had alerted on it" in text
    streamed = runner.invoke(app, ["store", "evaluate", "the_MES", "--var", "quarter=2017Q4",
                                   "--stream", "--revision", "x", *p])
    assert streamed.exit_code == 3 and "do not go together" in streamed.output
