"""min_rows: below it metrics have no value (checks give EMPTY) with "insufficient data" kept
in the evaluation's details and shown by checks, `store show` and the report."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from scenarist.checks.outcome import Outcome
from scenarist.cli import app
from scenarist.demo.data import TARGET, generate_quarter, train_model
from scenarist.metrics.evaluation import EvaluationOptions, compute_evaluation
from scenarist.metrics.sufficiency import DETAILS_KEY
from scenarist.operations.checking import run_checks
from scenarist.project.config import load_project
from scenarist.project.models import model_from_estimator
from scenarist.reports.html import write_report


@pytest.fixture(scope="module")
def data():
    q1, q4 = generate_quarter("2017Q1", 600), generate_quarter("2017Q4", 600)
    model = model_from_estimator(train_model(q1), target=TARGET, type="binary", name="fraud")
    return model, q1, q4


def _metrics(computed) -> dict[str, float]:
    return {v.key: v.value for v in computed.values}


def test_a_batch_of_12_rows_gives_no_verdict(data):
    model, q1, q4 = data
    computed = compute_evaluation(model, q4.head(12), q1)  # default min_rows = 30
    metrics, reasons = _metrics(computed), computed.details[DETAILS_KEY]
    for key in ("auc", "auc.lower", "accuracy.upper", "data_drift", "data_drift.lower",
                "drift_share", "n_drifted_features", "prediction_drift", "drifted[card_age]",
                "ks_pvalue[card_age]", "target_drift"):
        assert math.isnan(metrics[key]), key
        assert reasons[key].startswith("insufficient data"), key
    assert reasons["auc"] == "insufficient data: 12 labeled rows, min_rows is 30"
    assert reasons["data_drift"] == "insufficient data: 12 rows in the current batch, min_rows " \
        "is 30"
    assert "card_age" in reasons["drifted[card_age]"]
    assert metrics["row_count"] == 12 and metrics["labeled_rows"] == 12  # facts stay
    assert not computed.details["drifted_features"]


def test_each_family_counts_its_own_rows(data):
    model, q1, q4 = data
    batch = q4.copy()
    batch.loc[batch.index[20:], TARGET] = np.nan  # 20 labeled rows of 600
    batch.loc[batch.index[10:], "card_age"] = np.nan  # 10 values of card_age
    computed = compute_evaluation(model, batch, q1)
    metrics, reasons = _metrics(computed), computed.details[DETAILS_KEY]
    assert math.isnan(metrics["auc"]) and reasons["auc"].startswith("insufficient data: 20 label")
    assert math.isnan(metrics["drifted[card_age]"])
    assert reasons["drifted[card_age]"] == ("insufficient data: 10 non-missing current values of "
                                            "card_age, min_rows is 30")
    assert not math.isnan(metrics["data_drift"]) and not math.isnan(metrics["prediction_drift"])
    others = [v for k, v in metrics.items() if k.startswith("drifted[") and "card_age" not in k]
    assert metrics["drift_share"] == pytest.approx(np.mean(others))
    # with min_rows 10 every family has enough
    relaxed = compute_evaluation(model, batch, q1, options=EvaluationOptions(min_rows=10))
    assert not math.isnan(_metrics(relaxed)["auc"]) and not relaxed.details[DETAILS_KEY]


def test_the_domain_classifier_needs_20_rows_even_below_min_rows(data):
    model, q1, q4 = data
    computed = compute_evaluation(model, q4.head(15), q1, options=EvaluationOptions(min_rows=5))
    metrics = _metrics(computed)
    assert math.isnan(metrics["data_drift"])
    assert computed.details[DETAILS_KEY]["data_drift"].endswith("min_rows is 20")
    assert not math.isnan(metrics["auc"])  # 15 labeled rows ≥ 5


def _small_project(project_copy: Path, **store_options) -> Path:
    path = project_copy / "scenarist.yaml"
    config = yaml.safe_load(path.read_text())
    config["evaluation_stores"]["the_MES"].update(store_options)
    config["checks"]["auc interval"] = {"store": "the_MES", "metric": "auc.lower",
                                        "soft_min": 0.6}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return project_copy


def test_checks_store_show_and_report_say_insufficient_data(project_copy):
    """The example has 3,000 rows a quarter: min_rows 5,000 leaves every verdict empty."""
    root = _small_project(project_copy, min_rows=5_000)
    runner = CliRunner()
    result = runner.invoke(app, ["store", "evaluate", "the_MES", "-p", str(root),
                                 "--var", "quarter=2017Q4"])
    assert result.exit_code == 0, result.output
    results = run_checks(load_project(root), store="the_MES")
    assert {r.outcome for r in results} == {Outcome.EMPTY}
    auc = next(r for r in results if r.metric == "auc")
    assert auc.message == ("auc has no value in evaluation '2017Q4': insufficient data: 3000 "
                           "labeled rows, min_rows is 5000")
    shown = runner.invoke(app, ["store", "show", "the_MES", "-p", str(root)])
    assert shown.exit_code == 0
    assert "2017Q4: no value: insufficient data: 3000 labeled rows, min_rows is 5000" in \
        " ".join(shown.output.split())
    html = write_report(load_project(root), "the_MES").read_text()
    assert "insufficient data: 3000 labeled rows, min_rows is 5000" in html


def test_store_options_are_validated(project_copy):
    from scenarist.errors import ConfigError

    with pytest.raises(ConfigError, match="correction.*benjamini_hochberg"):
        load_project(_small_project(project_copy, correction="holm"))
    with pytest.raises(ConfigError, match="min_rows"):
        load_project(_small_project(project_copy, correction="none", min_rows=0))


def test_options_are_validated_in_python():
    from scenarist.errors import InputDataError

    with pytest.raises(InputDataError, match="min_rows must be at least 1, got 0"):
        EvaluationOptions(min_rows=0)
    with pytest.raises(InputDataError, match="unknown correction 'holm'; choose one of"):
        EvaluationOptions(correction="holm")  # type: ignore[arg-type]
