"""Intervals reach users: checks on `<metric>.lower/.upper`, the report's tables and error bars."""

from __future__ import annotations

import re

import yaml

from scenarist.checks.outcome import Outcome
from scenarist.operations.build import build_evaluation
from scenarist.operations.checking import run_checks
from scenarist.project.config import load_project
from scenarist.reports.html import write_report


def test_interval_checks_and_report(project_copy):
    path = project_copy / "scenarist.yaml"
    config = yaml.safe_load(path.read_text())
    config["checks"] |= {
        "drift surely high": {"store": "the_MES", "metric": "data_drift.lower", "soft_max": 0.1},
        "auc surely low": {"store": "the_MES", "metric": "auc.upper", "hard_min": 0.99},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    project = load_project(project_copy)
    evaluation = build_evaluation(project, "the_MES", {"quarter": "2017Q4"})
    low, high = evaluation.metric("data_drift.lower"), evaluation.metric("data_drift.upper")
    assert low < evaluation.metric("data_drift") < high
    auc = [evaluation.metric(name) for name in ("auc.lower", "auc", "auc.upper")]
    assert auc == sorted(auc) and auc[0] < auc[2]

    results = {r.name: r for r in run_checks(project, store="the_MES")}
    assert results["drift surely high"].outcome is Outcome.WARNING  # Q4 drifts: lower > 0.1
    assert results["drift surely high"].value == low
    assert results["auc surely low"].outcome is Outcome.ERROR

    html = write_report(project, "the_MES").read_text()
    assert "data_drift 95% interval" in html
    assert "<th>95% interval</th>" in html
    assert re.search(r"<td>auc</td><td>[0-9.]+</td><td>\[[0-9.]+, [0-9.]+\]</td>", html)
    assert html.count('"error_y"') >= 2  # data_drift and auc history charts have error bars
