"""Backtest on a generated history with known answers: 30 weekly evaluations (Jan–Jul 2026)
of a store, three checks replayed over them, counts and alerts per month cross-checked against
numpy brute force written from the rules in DESIGN.md §5 — and nothing written to the store."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reporter_helpers import MONITOR, edit_project
from sqlalchemy import func, select
from typer.testing import CliRunner

import scenarist
from scenarist.bundles.create import create_bundle
from scenarist.cli import app
from scenarist.errors import BundleError, ConfigError
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.backtesting import backtest, compare
from scenarist.operations.build import open_store
from scenarist.project.config import load_project
from scenarist.stores.alert_state import alert_state_table
from scenarist.stores.check_results import check_results as check_results_table
from scenarist.stores.outbox import outbox_table

WEEKS = 30
START = datetime(2026, 1, 5, tzinfo=timezone.utc)
PERF = "Performance monitor"


def _history(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = np.arange(WEEKS)  # drift comes in episodes, as real drift does, plus noise
    episodes = 0.2 * ((weeks >= 8) & (weeks < 15)) + 0.35 * ((weeks >= 19) & (weeks < 23))
    frame = pd.DataFrame({
        "label": [f"2026-W{w + 2:02d}" for w in range(WEEKS)],
        "start": [START + timedelta(weeks=w) for w in range(WEEKS)],
        "drift": np.clip(0.3 + episodes + rng.normal(0, 0.06, WEEKS), 0.0, 1.0),
        "auc": rng.uniform(0.66, 0.9, WEEKS),
    })
    frame.loc[6, "auc"] = np.nan  # a week without labels: EMPTY
    frame["month"] = [s.strftime("%Y-%m") for s in frame["start"]]
    return frame


def _expected_outcomes(h: pd.DataFrame) -> dict[str, np.ndarray]:
    """DESIGN.md §5 written again with numpy (bounds inclusive-OK)."""
    drift = np.where(h.drift > 0.6, "ERROR", np.where(h.drift > 0.45, "WARNING", "OK"))
    auc = np.where(h.auc.isna(), "EMPTY",
                   np.where(h.auc < 0.7, "ERROR", np.where(h.auc < 0.75, "WARNING", "OK")))
    before = h.auc.shift(1)
    move = np.maximum(0.0, -(h.auc - before) / before.abs())
    drop = np.where(move.isna(), "EMPTY",
                    np.where(move > 0.1, "ERROR", np.where(move > 0.05, "WARNING", "OK")))
    return {"drift": drift, "auc": auc, "auc drop": drop}


@pytest.fixture
def history_project(project_copy: Path) -> tuple[Path, pd.DataFrame]:
    """The example project with three checks, two scenarios with reporters, and a store holding
    the generated history (recorded in shuffled order: history order is by time_start)."""

    def change(data: dict) -> None:
        data["checks"] = {
            "drift": {"store": "the_MES", "metric": "data_drift", "soft_max": 0.45,
                      "hard_max": 0.6},
            "auc": {"store": "the_MES", "metric": "auc", "soft_min": 0.75, "hard_min": 0.7},
            "auc drop": {"type": "relative_change", "store": "the_MES", "metric": "auc",
                         "direction": "decrease", "soft_max_change": 0.05,
                         "hard_max_change": 0.1},
        }
        monitor = data["scenarios"][MONITOR]
        monitor["steps"][1]["checks"] = ["drift", "auc"]
        mail = {"type": "mail", "to": ["me@example.com"]}
        monitor["reporters"] = [
            {**mail, "name": "every run", "on": ["WARNING", "FAILED"]},
            {**mail, "name": "hygienic", "repeat": "once_per_state", "escalate_after": 2,
             "notify_recovery": True},
        ]
        data["scenarios"][PERF] = {
            "steps": [{"name": "Perf checks", "type": "run_checks", "checks": ["auc drop"]}],
            "reporters": [{**mail, "name": "pager", "on": ["FAILED"]}],
        }

    root = edit_project(project_copy, change)
    h = _history()
    store = open_store(load_project(root), "the_MES")
    for i in np.random.default_rng(1).permutation(WEEKS):
        row = h.iloc[i]
        values = [MetricValue("data_drift", float(row.drift)), MetricValue("auc", float(row.auc))]
        store.record(row.label, ComputedEvaluation(values, 100, 100), model="fraud_model",
                     time_range=(row.start, row.start + timedelta(days=7)))
    return root, h


def test_counts_and_outcomes_match_numpy(history_project):
    root, h = history_project
    result = scenarist.backtest(root, "the_MES")
    expected = _expected_outcomes(h)
    assert list(result.counts.index) == ["drift", "auc", "auc drop"]
    for check, outcomes in expected.items():
        got = result.outcomes[result.outcomes["check"] == check]
        assert list(got["evaluation"]) == list(h.label)  # history order
        assert list(got["outcome"]) == list(outcomes), check
        for outcome in ("OK", "WARNING", "ERROR", "EMPTY"):
            assert result.counts.loc[check, outcome] == int((outcomes == outcome).sum())
    assert list(result.outcomes["month"].unique()) == sorted(h.month.unique())
    # every outcome occurs, so the test exercises every branch
    assert (result.counts[["OK", "WARNING", "ERROR"]] > 0).all().all()
    assert result.counts.loc["auc", "EMPTY"] == 1 and result.counts.loc["auc drop", "EMPTY"] == 3


def _hygienic_reference(drift: np.ndarray, auc: np.ndarray) -> list[tuple[int, str]]:
    """once_per_state + escalate_after 2 + notify_recovery, by brute force: (week, kind)."""
    sent = []
    streak = {"drift": 0, "auc": 0}
    alerted: dict[str, str | None] = {"drift": None, "auc": None}
    for week, outcomes in enumerate(zip(drift, auc, strict=True)):
        levels, entered, recovered = {}, False, False
        for name, outcome in zip(("drift", "auc"), outcomes, strict=True):
            streak[name] = streak[name] + 1 if outcome == "WARNING" else 0
            level = "ERROR" if outcome == "WARNING" and streak[name] >= 2 else outcome
            levels[name] = level
            entered |= level in ("WARNING", "ERROR") and level != alerted[name]
            if outcome == "OK":
                recovered |= alerted[name] is not None
                alerted[name] = None
        run_not_ok = any(v in ("WARNING", "ERROR") for v in levels.values())
        if run_not_ok and entered:
            sent.append((week, "alert"))
            for name, level in levels.items():
                if level in ("WARNING", "ERROR"):
                    alerted[name] = level
        if recovered:
            sent.append((week, "recovery"))
    return sent


def test_alerts_per_month_match_brute_force(history_project):
    root, h = history_project
    result = backtest(root, "the_MES")
    expected = _expected_outcomes(h)
    drift, auc, drop = expected["drift"], expected["auc"], expected["auc drop"]
    alerts = result.alerts

    # every run: an alert when drift or auc is WARNING/ERROR (EMPTY alone is SUCCESS)
    not_ok = np.isin(drift, ["WARNING", "ERROR"]) | np.isin(auc, ["WARNING", "ERROR"])
    every = alerts[alerts["reporter"] == "every run"]
    assert list(every["evaluation"]) == list(h.label[not_ok])
    assert set(every["kind"]) == {"alert"}

    # the pager: only auc drop ERROR (the step FAILED)
    pager = alerts[alerts["reporter"] == "pager"]
    assert list(pager["evaluation"]) == list(h.label[drop == "ERROR"])
    assert set(pager["scenario"]) == {PERF}

    hygienic = alerts[alerts["reporter"] == "hygienic"]
    reference = _hygienic_reference(drift, auc)
    assert [(h.label[w], k) for w, k in reference] == list(
        zip(hygienic["evaluation"], hygienic["kind"], strict=True))
    assert {"alert", "recovery"} == set(hygienic["kind"]) and hygienic["escalated"].any()

    per_month = result.alerts_per_month
    months = h.month[not_ok].value_counts().sort_index()
    assert per_month[f"{MONITOR} / every run"].to_dict() == {
        m: int(months.get(m, 0)) for m in per_month.index}
    assert int(per_month.to_numpy().sum()) == len(alerts)


def test_nothing_is_written(history_project):
    root, _ = history_project
    project = load_project(root)
    engine = open_store(project, "the_MES")._engine

    def rows():
        with engine.connect() as conn:
            return [conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in (check_results_table, alert_state_table, outbox_table)]

    assert rows() == [0, 0, 0]
    backtest(project, "the_MES")
    assert rows() == [0, 0, 0]


def test_a_bundles_checks_against_the_projects(history_project):
    root, h = history_project
    create_bundle(root, "v1", notes="drift soft_max 0.45")
    edit_project(root, lambda d: d["checks"]["drift"].update(soft_max=0.55))
    new, old = backtest(root, "the_MES", ["drift"]), backtest(root, "the_MES", ["drift"],
                                                               bundle="v1")
    assert old.source == "v1" and new.source == "project"
    rows, deltas = compare(old, new)
    moved = (h.drift > 0.45) & (h.drift <= 0.55)
    assert moved.sum() > 0
    assert list(rows.loc[rows["changed"], "evaluation"]) == list(h.label[moved])
    assert set(rows.loc[rows["changed"], "outcome_old"]) == {"WARNING"}
    assert set(rows.loc[rows["changed"], "outcome_new"]) == {"OK"}
    assert deltas.loc["drift", "delta_WARNING"] == -moved.sum()
    assert deltas.loc["drift", "delta_OK"] == moved.sum()
    assert deltas.loc["drift", "delta_ERROR"] == 0

    runner = CliRunner()
    shown = runner.invoke(app, ["checks", "backtest", "the_MES", "drift", "--vs", "v1",
                                "-p", str(root)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "project vs bundle v1" in shown.output
    assert f"evaluations whose outcome changes ({moved.sum()})" in shown.output
    assert f"-{moved.sum()}" in shown.output


def test_cli_tables_json_csv_and_errors(history_project):
    root, h = history_project
    runner = CliRunner()
    shown = runner.invoke(app, ["checks", "backtest", "the_MES", "-p", str(root)],
                          env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "backtest of the_MES (project's checks, 30 evaluations)" in shown.output
    assert "messages the reporters would have sent, per month" in shown.output
    assert "2026-01" in shown.output and "total" in shown.output

    as_json = runner.invoke(app, ["checks", "backtest", "the_MES", "auc", "--json",
                                  "-p", str(root)])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    expected = _expected_outcomes(h)["auc"]
    assert document["counts"]["auc"]["WARNING"] == int((expected == "WARNING").sum())
    assert len(document["outcomes"]) == WEEKS
    assert math.isnan(float("nan")) and document["outcomes"][6]["value"] is None

    as_csv = runner.invoke(app, ["checks", "backtest", "the_MES", "--csv", "-p", str(root)])
    frame = pd.read_csv(__import__("io").StringIO(as_csv.output))
    assert len(frame) == 3 * WEEKS and set(frame["source"]) == {"project"}

    unknown = runner.invoke(app, ["checks", "backtest", "the_MES", "no such", "-p", str(root)])
    assert unknown.exit_code == 3
    assert "unknown check 'no such'; defined checks: drift, auc, auc drop" in unknown.output
    with pytest.raises(ConfigError, match="unknown evaluation store 'nope'"):
        backtest(root, "nope")
    with pytest.raises(BundleError, match="bundle v9 of 'fraud-monitoring' is not in the registry"):
        backtest(root, "the_MES", bundle="v9")


def test_segmented_checks_replay_per_segment(project_copy: Path):
    """A check with `segment: all` gives one row per segment, and hygiene keys on it."""

    def change(data: dict) -> None:
        data["evaluation_stores"]["the_MES"]["segment_by"] = ["device"]
        data["checks"] = {"drift per device": {"store": "the_MES", "metric": "data_drift",
                                               "soft_max": 0.45, "segment": "all"}}
        data["scenarios"][MONITOR]["steps"][1]["checks"] = ["drift per device"]
        data["scenarios"][MONITOR]["reporters"] = [
            {"name": "hygienic", "type": "mail", "to": ["me@example.com"],
             "repeat": "once_per_state", "notify_recovery": True}]

    root = edit_project(project_copy, change)
    store = open_store(load_project(root), "the_MES")
    drift = {"device=mobile": [0.1, 0.5, 0.6, 0.2], "device=web": [0.5, 0.5, 0.1, 0.1]}
    for week in range(4):
        values = [MetricValue("data_drift", 0.2)] + [
            MetricValue("data_drift", drift[s][week], segment=s) for s in drift]
        details = {"segments": {s: {"status": "ok", "rows": 50} for s in drift}}
        store.record(f"w{week}", ComputedEvaluation(values, 100, 100, details), model="m",
                     time_range=(START + timedelta(weeks=week),
                                 START + timedelta(weeks=week + 1)))
    result = backtest(root, "the_MES")
    got = result.outcomes.pivot(index="evaluation", columns="segment", values="outcome")
    assert got.to_dict("list") == {
        "device=mobile": ["OK", "WARNING", "WARNING", "OK"],
        "device=web": ["WARNING", "WARNING", "OK", "OK"]}
    assert result.counts.loc["drift per device"].to_dict() == {
        "OK": 4, "EMPTY": 0, "WARNING": 4, "ERROR": 0}
    sent = list(zip(result.alerts["evaluation"], result.alerts["kind"], result.alerts["checks"],
                    strict=True))
    assert sent == [("w0", "alert", "drift per device [device=web]"),  # web enters WARNING
                    ("w1", "alert", "drift per device [device=mobile], "   # mobile enters
                                    "drift per device [device=web]"),
                    ("w2", "recovery", "drift per device [device=web]"),
                    ("w3", "recovery", "drift per device [device=mobile]")]
