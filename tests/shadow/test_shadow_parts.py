"""The parts of shadow monitoring alone: which checks a step runs, `checks run` (the exit code
ignores a shadow check), the outbox on both backends (a shadow message is never claimed nor
retried), and backtests (a shadow check or reporter never adds an alert)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from reporter_helpers import MONITOR, edit_project
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.operations.backtesting import backtest
from scenarist.operations.checking import store_engine
from scenarist.operations.shadow import counterparts, parse_since, step_checks
from scenarist.project.config import load_project
from scenarist.stores.check_results import check_history
from scenarist.stores.database import connect
from scenarist.stores.outbox import (
    STATUSES,
    Message,
    QueuedMessage,
    claim_due,
    enqueue,
    mark_sent,
    outbox_messages,
    purge,
    requeue,
)
from tests.shadow.conftest import LIVE, SHADOW, record_week


def test_a_step_runs_the_shadows_of_its_checks(shadow_project):
    project = load_project(shadow_project)
    assert counterparts(project) == {SHADOW: LIVE}
    assert step_checks(project, [LIVE]) == [LIVE, SHADOW]
    assert step_checks(project, ["auc above 0.7"]) == ["auc above 0.7"]
    assert step_checks(project, None) is None


def test_checks_run_exit_code_ignores_the_shadow(shadow_project, wide_console):
    record_week(shadow_project, 0, 0.35)  # live OK (≤ 0.45), shadow WARNING (> 0.3)
    result = CliRunner().invoke(app, ["checks", "run", "the_MES", LIVE, SHADOW,
                                      "-p", str(shadow_project)])
    assert result.exit_code == 0, result.output
    assert f"{SHADOW} (shadow)" in result.output and "1 shadow check(s) not counted" in \
        result.output
    history = check_history(store_engine(load_project(shadow_project), "the_MES"))
    assert dict(zip(history["check"], history["shadow"], strict=True)) == {LIVE: False,
                                                                          SHADOW: True}


def test_the_outbox_never_claims_a_shadow_message(store_url):
    engine = connect(store_url)
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    project = f"p-{datetime.now().timestamp()}"
    ids = enqueue(engine, [
        QueuedMessage(project, "s", "run-1", Message("trial", "mail", "b", "s"), shadow=True),
        QueuedMessage(project, "s", "run-1", Message("live", "mail", "b", "s")),
    ], now=past)
    assert requeue(engine, project) == 1  # the live one only
    claimed = claim_due(engine, project, limit=10)
    assert [record.id for record, _ in claimed] == [ids[1]]
    mark_sent(engine, ids[1])
    assert claim_due(engine, project, limit=10, now=past + timedelta(days=1)) == []
    (kept,) = outbox_messages(engine, project, statuses=["shadow"])
    assert (kept.id, kept.attempts, kept.reporter) == (ids[0], 0, "trial")
    # PostgreSQL is shared by the session: leave no row for the other tests' outbox counts
    assert purge(engine, project, statuses=STATUSES) == 2


def test_a_backtest_counts_no_shadow(shadow_project):
    def change(data: dict) -> None:  # the monitor's step lists the shadow check explicitly,
        step = data["scenarios"][MONITOR]["steps"][1]  # and it gets a shadow reporter
        step["checks"] = [LIVE, SHADOW]
        data["scenarios"][MONITOR]["reporters"].append(
            {"name": "trial", "type": "mail", "to": ["t@example.com"], "shadow": True,
             "on": ["SUCCESS", "WARNING"]})

    edit_project(shadow_project, change)
    for week, drift in enumerate([0.1, 0.35, 0.5]):
        record_week(shadow_project, week, drift)
    result = backtest(shadow_project, "the_MES", [LIVE, SHADOW])
    monitor = result.alerts[result.alerts["scenario"] == MONITOR]
    assert list(monitor["evaluation"]) == ["2026-W04"]  # only 0.5 > 0.45 alerts
    assert set(monitor["reporter"]) == {"Data drift warning"}
    assert f"{MONITOR} / trial" not in result.reporters


def test_since():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_since("30d", now) == now - timedelta(days=30)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    with pytest.raises(Exception, match="30d, 12h, 4w"):
        parse_since("last month", now)


def test_a_revised_shadow_verdict_tells_no_one(project_copy):
    from scenarist.demo.data import TARGET, generate_quarter
    from scenarist.metrics.evaluation import EvaluationOptions
    from scenarist.operations.build import open_store
    from scenarist.operations.checking import run_checks
    from scenarist.operations.revisions import revise_verdicts
    from scenarist.project.models import load_model

    trial = "auc above 0.8 (trial)"
    edit_project(project_copy, lambda d: d["checks"].update({trial: {
        "store": "the_MES", "metric": "auc", "soft_min": 0.8, "shadow": True}}))
    project = load_project(project_copy)
    fast = EvaluationOptions(max_rows_per_side=500, n_jobs=1)
    model = load_model(project, "fraud_model")
    reference, batch = generate_quarter("2017Q1", 1_500), generate_quarter("2017Q4", 1_500)
    store = open_store(project, "the_MES")
    store.evaluate(model, batch.drop(columns=TARGET), reference, label="2017Q4", options=fast)
    assert [r.outcome for r in run_checks(project, ["auc above 0.7", trial])] == ["EMPTY"] * 2
    revised = store.evaluate(model, batch, reference, label="2017Q4", options=fast,
                             revision="labels arrived")
    result = revise_verdicts(project, "the_MES", revised, deliver=False)
    assert [r.name for r in result.results] == ["auc above 0.7", trial]  # both re-run …
    assert [v.check for v in result.verdicts] == ["auc above 0.7"]  # … the live one revised
