"""A backtest reads only what its checks need (`EvaluationStore.evaluations(metrics=,
details=)`) and says exactly what a backtest over the full history says: a check whose metric
is absent still lists every metric, a python check or a gate reading `evaluation` gets them all,
and the console's what-if shares one read between its two backtests."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from reporter_helpers import MONITOR, edit_project

from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.backtesting import (
    backtest,
    needed_metrics,
    now_and_what_if,
    replay,
    replay_alerts,
    what_if,
)
from scenarist.operations.build import open_store
from scenarist.project.config import load_project
from scenarist.stores.evaluation_store import EvaluationStore

START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def _values(week: int) -> list[MetricValue]:
    drift = 0.1 * (week % 7)
    values = [MetricValue("data_drift", drift), MetricValue("data_drift.lower", drift * 0.9),
              MetricValue("data_drift.upper", drift * 1.1),
              MetricValue("psi", drift, feature="f"), MetricValue("psi", 0.5, feature="g"),
              MetricValue("ks_pvalue", 0.2, feature="f"),
              MetricValue("data_drift", 0.9, segment="device=mobile")]
    if week % 3:  # no labels every third week: auc absent
        values.append(MetricValue("auc", math.nan if week == 4 else 0.6 + 0.05 * (week % 5)))
    return values


def _record(store: EvaluationStore, weeks: int) -> None:
    for week in reversed(range(weeks)):  # history order is by time, not by insertion
        moment = START + timedelta(weeks=week)
        details = {"histograms": {"f": [1, 2, 3]}, "top_drifted_features": ["f"],
                   "insufficient_data": {"auc": "no labels"} if week == 4 else {}}
        store.record(f"w{week:02d}", ComputedEvaluation(_values(week), 100, 100, details),
                     model="m", time_range=(moment, moment + timedelta(days=7)))


def test_evaluations_of_some_metrics_equal_the_full_read_restricted(store_url):
    store = EvaluationStore.open("reads", store_url)
    _record(store, 6)
    EvaluationStore.open("reads other", store_url).record(
        "x", ComputedEvaluation([MetricValue("auc", 0.1)], 1, 1), model="m")
    full = store.evaluations()
    wanted = ["auc", "psi[f]", "data_drift.upper", "not stored", "psi[nobody]"]
    got = store.evaluations(metrics=wanted)
    assert got == [replace(e, metrics={k: v for k, v in e.metrics.items() if k in wanted})
                   for e in full]
    assert got[1].metrics == {"data_drift.upper": 0.1 * 1.1, "psi[f]": 0.1, "auc": 0.65}
    assert math.isnan(got[4].metrics["auc"])
    assert [e.metrics for e in store.evaluations(metrics=[])] == [{}] * 6
    keys = ["top_drifted_features", "insufficient_data", "segments"]  # segments: not stored
    assert store.evaluations(metrics=wanted, details=keys) == [
        replace(e, details={k: v for k, v in e.details.items() if k in keys}) for e in got]
    assert store.evaluations(details=[]) == [replace(e, details={}) for e in full]


def _project(project_copy: Path, checks: dict, when: str | None = None) -> Path:
    def change(data: dict) -> None:
        data["checks"] = checks
        monitor = data["scenarios"][MONITOR]
        monitor["steps"][1]["checks"] = list(checks)
        monitor["reporters"] = [{"type": "mail", "to": ["me@example.com"], "name": "hygienic",
                                 "repeat": "once_per_state", "notify_recovery": True,
                                 **({"when": when} if when else {})}]

    root = edit_project(project_copy, change)
    _record(open_store(load_project(root), "the_MES"), 12)
    return root


CHECKS = {
    "drift": {"store": "the_MES", "metric": "data_drift", "soft_max": 0.35, "hard_max": 0.5},
    "auc": {"store": "the_MES", "metric": "auc", "soft_min": 0.7},
    "auc drop": {"type": "relative_change", "store": "the_MES", "metric": "auc",
                 "direction": "decrease", "soft_max_change": 0.05},
    "psi f": {"store": "the_MES", "metric": "psi", "feature": "f", "soft_max": 0.3},
    "psi h": {"store": "the_MES", "metric": "psi", "feature": "h", "soft_max": 0.3},  # absent
}


def _full_backtest(root: Path):
    """The backtest computed the old way: every metric of every evaluation."""
    project = load_project(root)
    store = open_store(project, "the_MES")
    evaluations = store.evaluations()
    outcomes = replay(project.checks, evaluations, store)
    return outcomes, replay_alerts(project, project.checks, outcomes, evaluations)[0]


def test_a_backtest_reading_some_metrics_says_what_the_full_read_says(project_copy: Path):
    root = _project(project_copy, CHECKS)
    assert needed_metrics(load_project(root), load_project(root).checks) == (
        "data_drift", "auc", "psi[f]", "psi[h]")
    result = backtest(root, "the_MES")
    outcomes, alerts = _full_backtest(root)
    pd.testing.assert_frame_equal(result.outcomes, outcomes)
    pd.testing.assert_frame_equal(result.alerts, alerts)
    messages = result.outcomes.set_index(["check", "evaluation"])["message"]
    assert messages["auc", "w00"] == (  # absent: the message lists every dataset-level metric
        "evaluation 'w00' has no metric 'auc'; available: data_drift, data_drift.lower, "
        "data_drift.upper")
    assert messages["auc", "w04"] == "auc has no value in evaluation 'w04': no labels"
    assert messages["psi h", "w01"] == ("evaluation 'w01' has no metric 'psi[h]'; "
                                        "available: psi[f], psi[g]")
    assert set(result.outcomes["outcome"]) == {"OK", "WARNING", "ERROR", "EMPTY"}
    assert len(alerts) > 3


def test_a_gate_reading_evaluation_gets_every_metric(project_copy: Path):
    when = "evaluation.metrics['psi[g]'] > 0.4 and outcome != 'SUCCESS'"
    root = _project(project_copy, {"drift": CHECKS["drift"]}, when=when)
    assert needed_metrics(load_project(root), load_project(root).checks) is None
    result = backtest(root, "the_MES")
    outcomes, alerts = _full_backtest(root)
    pd.testing.assert_frame_equal(result.alerts, alerts)
    assert len(alerts) > 1


def test_a_python_check_sees_every_metric_and_detail(project_copy: Path):
    (project_copy / "seen.py").write_text(
        "def count(evaluation, previous, params):\n"
        "    return 'OK', (f'{len(evaluation.metrics)} metrics: {sorted(evaluation.metrics)}; '\n"
        "                  f'details: {sorted(evaluation.details)}')\n")
    root = _project(project_copy, {"drift": CHECKS["drift"], "seen": {
        "type": "python", "store": "the_MES", "function": "seen:count"}})
    result = backtest(root, "the_MES")
    full = open_store(load_project(root), "the_MES").get("w01")
    seen = result.outcomes.set_index(["check", "evaluation"])["message"]["seen", "w01"]
    assert seen == (f"{len(full.metrics)} metrics: {sorted(full.metrics)}; "
                    f"details: {sorted(full.details)}")
    assert "psi[g]" in seen and "histograms" in seen
    outcomes, _ = _full_backtest(root)
    pd.testing.assert_frame_equal(result.outcomes, outcomes)


def test_now_and_what_if_equal_the_two_backtests(project_copy: Path):
    root = _project(project_copy, CHECKS)
    bounds = {"soft_max": 0.2, "hard_max": None}
    now, then = now_and_what_if(root, "drift", bounds)
    for got, expected in ((now, backtest(root, "the_MES", ["drift"])),
                          (then, what_if(root, "drift", bounds))):
        pd.testing.assert_frame_equal(got.outcomes, expected.outcomes)
        pd.testing.assert_frame_equal(got.alerts, expected.alerts)
        assert (got.store, got.source, got.reporters) == (
            expected.store, expected.source, expected.reporters)
    assert (then.counts.loc["drift"] != now.counts.loc["drift"]).any()
