"""A shadow check with a tighter bound runs for 10 weekly runs through Prefect: no run outcome
changes, the shadow reporter's messages stay in the outbox as `shadow` (the SMTP server gets
only the live reporter's), and `shadow-report` shows exactly the runs where the two disagree —
checked against a brute-force replay of DESIGN.md §5 written here again."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from typer.testing import CliRunner

import scenarist
from scenarist.cli import app
from scenarist.flows.scenario import project_engine, run_scenario
from scenarist.project.config import load_project
from scenarist.stores.check_results import check_history
from scenarist.stores.outbox import claim_due, outbox_messages, outbox_table, requeue
from tests.shadow.conftest import LIVE, SHADOW, START, WEEKLY, record_week

DRIFT = np.array([0.10, 0.35, 0.50, 0.20, 0.40, 0.31, 0.60, 0.28, 0.44, 0.46])


def _outcome(value: float, soft_max: float) -> str:
    return "WARNING" if value > soft_max else "OK"  # numeric range, inclusive-OK


def test_ten_weekly_runs_with_a_shadow_check(shadow_project, smtp_server, prefect_api,
                                             wide_console):
    runs = []
    for week, drift in enumerate(DRIFT):
        label = record_week(shadow_project, week, float(drift))
        result = run_scenario(shadow_project, WEEKLY)
        runs.append((result.run_id, label, result))

    # brute force: the live outcome alone decides the run; the shadow one is only recorded
    live = [_outcome(v, 0.45) for v in DRIFT]
    shadow = [_outcome(v, 0.3) for v in DRIFT]
    for (_, _, result), expected in zip(runs, live, strict=True):
        assert str(result.outcome) == ("WARNING" if expected == "WARNING" else "SUCCESS")
        assert [c["name"] for c in result.checks] == [LIVE]  # no shadow in `checks`
    assert shadow != live  # the tighter bound disagrees somewhere

    project = load_project(shadow_project)
    engine = project_engine(project)
    history = check_history(engine, store="the_MES")
    mine = history[history["check"] == SHADOW]
    assert mine["shadow"].all() and len(mine) == 10
    assert list(mine["outcome"].astype(str)) == shadow
    assert not history[history["check"] == LIVE]["shadow"].any()

    # the SMTP server received the live reporter's mails only; the shadow ones are kept
    recipients = [m.rcpt_tos for m in smtp_server.messages]
    assert recipients == [["live@example.com"]] * live.count("WARNING")
    trial = outbox_messages(engine, project.project, statuses=["shadow"])
    assert len(trial) == 10 and {m.reporter for m in trial} == {"trial"}
    assert all(m.attempts == 0 and m.sent_at is None for m in trial)
    assert claim_due(engine, project.project, limit=100) == []  # never claimed …
    assert requeue(engine, project.project) == 0  # … nor retried
    with engine.connect() as conn:
        assert conn.execute(select(outbox_table.c.status).where(
            outbox_table.c.reporter == "trial")).scalars().all() == ["shadow"] * 10

    # shadow-report: exactly the runs where they disagree, and the messages per month
    report = scenarist.shadow_report(shadow_project, since=START.date())
    (pair,) = report.pairs
    assert (pair.shadow, pair.live, pair.store) == (SHADOW, LIVE, "the_MES")
    differ = [i for i in range(10) if live[i] != shadow[i]]
    assert differ == [1, 4, 5, 8]
    assert list(pair.disagreements["run_id"]) == [runs[i][0] for i in differ]
    assert list(pair.disagreements["evaluation"]) == [runs[i][1] for i in differ]
    assert list(pair.runs["run_id"]) == [run_id for run_id, _, _ in runs]
    months = [(START + timedelta(weeks=w)).strftime("%Y-%m") for w in range(10)]
    # two live reporters alert on a WARNING of the check: "live" here, and the design's "Data
    # drift warning" (its Data drift monitor runs the same check); "trial" is a shadow
    for column, outcomes in (("live", live), ("shadow", shadow)):
        expected = {m: 2 * sum(o == "WARNING" and mm == m for o, mm in zip(outcomes, months,
                                                                       strict=True))
                    for m in sorted(set(months))}
        assert pair.messages_per_month[column].to_dict() == expected, column

    output = CliRunner().invoke(app, ["checks", "shadow-report", "-p", str(shadow_project),
                                      "--since", "2026-01-01", "--json"])
    assert output.exit_code == 0, output.output
    document = json.loads(output.output)
    assert document["pairs"][0]["disagreeing_runs"] == sorted(runs[i][0] for i in differ)
    table = CliRunner().invoke(app, ["checks", "shadow-report", "-p", str(shadow_project),
                                     "--since", "2026-01-01"])
    assert table.exit_code == 0, table.output
    assert "they disagree in 4" in table.output
