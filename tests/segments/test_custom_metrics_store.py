"""Custom metrics: computed with the built-ins, stored, in history, charted, checked, per
segment; a failing one is EMPTY with its error kept and the others unaffected."""

from __future__ import annotations

import math

import joblib
import numpy as np
import pandas as pd
import pytest
from segment_data import frame

from scenarist.checks.outcome import Outcome
from scenarist.errors import ConfigError
from scenarist.metrics.custom import custom_metric_values, with_custom_metrics
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.checking import run_checks
from scenarist.project.config import load_project
from scenarist.reports.html import write_report

MODULE = '''
import numpy as np

def approval_rate(current, reference, predictions, labels):
    return float(np.mean(predictions == 0))

def mean_shift(current, reference, predictions, labels):
    return {c: float(current[c].mean() - reference[c].mean()) for c in ("x1", "x2")}

def broken(current, reference, predictions, labels):
    raise RuntimeError("the revenue table is unreachable")

def label_rate(current, reference, predictions, labels):
    return float("nan") if labels is None else float(labels.mean())
'''

STORE = {"segment_by": ["device"], "segment_min_rows": 100, "metrics": {
    "approval_rate": {"python": "teammetrics:approval_rate"},
    "mean_shift": {"python": "teammetrics:mean_shift"},
    "broken": {"python": "teammetrics:broken"},
    "label_rate": {"python": "teammetrics:label_rate"},
}}
CHECKS = {"approvals": {"store": "s", "metric": "approval_rate", "soft_min": 0.45},
          "approvals per device": {"store": "s", "metric": "approval_rate", "soft_min": 0.45,
                                   "segment": "all"},
          "broken": {"store": "s", "metric": "broken", "soft_max": 1},
          "approval drop per device": {"type": "relative_change", "store": "s",
                                       "metric": "approval_rate", "direction": "decrease",
                                       "soft_max_change": 0.5, "segment": "all"}}


@pytest.fixture
def evaluated(make_project):
    root = make_project(STORE, checks=CHECKS, metrics_module=MODULE)
    frame(3000, 2).to_parquet(root / "batch_Q1.parquet", index=False)
    frame(3000, 3, shift=2.5).to_parquet(root / "batch_Q2.parquet", index=False)
    project = load_project(root)
    for quarter in ("Q1", "Q2"):
        build_evaluation(project, "s", {"q": quarter})
    return project


def test_custom_metric_in_history_checks_and_report(evaluated, tmp_path):
    project = evaluated
    root = project.root
    estimator = joblib.load(root / "model.joblib")
    expected = []
    for quarter in ("Q1", "Q2"):
        batch = pd.read_parquet(root / f"batch_{quarter}.parquet")
        expected.append(float(np.mean(estimator.predict(batch[["x1", "x2"]]) == 0)))
    store = open_store(project, "s")
    history = store.history("approval_rate")
    assert history.index.tolist() == ["Q1", "Q2"]
    assert history.tolist() == pytest.approx(expected, abs=1e-12)

    latest = store.get("Q2")
    reference = pd.read_parquet(root / "reference.parquet")
    batch = pd.read_parquet(root / "batch_Q2.parquet")
    assert latest.metric("mean_shift", "x1") == pytest.approx(batch.x1.mean() -
                                                                reference.x1.mean())
    assert latest.metric("label_rate") == pytest.approx(batch.y.mean())
    assert math.isnan(latest.metric("broken"))
    assert latest.details["custom_metrics"]["broken"] == {
        "error": "RuntimeError: the revenue table is unreachable"}
    assert not math.isnan(latest.metric("auc"))  # the built-ins are unaffected

    tablet = batch[batch.device == "tablet"]
    assert store.get("Q2", segment="device=tablet").metric("approval_rate") == pytest.approx(
        float(np.mean(estimator.predict(tablet[["x1", "x2"]]) == 0)))

    results = run_checks(project)
    by = {(r.name, r.segment): r for r in results}
    assert by[("approvals", None)].value == pytest.approx(expected[1])
    assert by[("approvals", None)].outcome is (Outcome.OK if expected[1] >= 0.45
                                                else Outcome.WARNING)
    assert by[("approvals per device", "device=tablet")].outcome is Outcome.WARNING
    assert by[("broken", None)].outcome is Outcome.EMPTY
    drop = by[("approval drop per device", "device=tablet")]  # vs Q1's tablet segment
    q1_tablet = store.get("Q1", segment="device=tablet").metric("approval_rate")
    q2_tablet = store.get("Q2", segment="device=tablet").metric("approval_rate")
    assert drop.outcome is Outcome.WARNING and drop.value == pytest.approx(q2_tablet)
    assert (q1_tablet - q2_tablet) / q1_tablet > 0.5
    assert by[("approval drop per device", "device=mobile")].outcome is Outcome.OK

    html = write_report(project, "s", output=tmp_path / "r.html").read_text()
    assert 'id="history-approval_rate"' in html
    custom = html.split('<table id="custom-metrics">', 1)[1].split("</table>", 1)[0]
    assert "RuntimeError: the revenue table is unreachable" in custom
    assert "approval_rate" in html.split('<table id="segments">', 1)[1].split("</table>")[0]


def _computed() -> ComputedEvaluation:
    return ComputedEvaluation(values=[MetricValue("auc", 0.9)], row_count=3,
                              reference_row_count=3, details={})


class _Model:
    features = ("x",)
    target = "y"

    def predict(self, data):
        return (data["x"].to_numpy() > 1).astype(int), None


def test_bad_returns_and_name_clashes_are_errors_of_that_metric_only():
    rows = pd.DataFrame({"x": [0.0, 2.0, 3.0], "y": [0, 1, 1]})
    functions = {
        "text": lambda *a: "high",
        "flag": lambda *a: True,
        "per_feature_text": lambda *a: {"x": "a"},
        "auc": lambda *a: 0.1,
        "ok": lambda c, r, p, labels: float(p.sum() + labels.sum()),
    }
    computed = with_custom_metrics(_computed(), functions, _Model(), rows, rows)
    facts = computed.details["custom_metrics"]
    assert list(facts) == list(functions)
    assert facts["text"]["error"].startswith("TypeError: custom metric 'text' returned str")
    assert "returned bool" in facts["flag"]["error"]
    assert "returned str['x']" in facts["per_feature_text"]["error"]
    assert "name of a built-in metric" in facts["auc"]["error"]
    values = {v.key: v.value for v in computed.values}
    assert values["auc"] == 0.9 and values["ok"] == 4.0
    assert math.isnan(values["text"])


def test_labels_none_without_target_and_no_functions_is_a_no_op():
    rows = pd.DataFrame({"x": [0.0, 2.0]})
    seen = {}
    values, _ = custom_metric_values({"m": lambda c, r, p, labels: seen.setdefault("l", labels)
                                      is None and 1.0}, _Model(), rows, rows)
    assert seen["l"] is None and values == [MetricValue("m", 1.0)]
    assert with_custom_metrics(_computed(), {}, _Model(), rows, rows) == _computed()


def test_bad_references_are_config_errors(make_project):
    root = make_project({"metrics": {"m": {"python": "not a reference"}}})
    with pytest.raises(ConfigError, match='is not "module:function"'):
        load_project(root)
    root = make_project({"metrics": {"m": {"python": "teammetrics:nope"}}},
                        metrics_module=MODULE)
    with pytest.raises(ConfigError, match=r"evaluation_stores.s.metrics.m.python.*nope"):
        load_project(root)
