"""Promotion gates on the tutorial project: v2 (drift soft_max 0.45) passes them; v3
(soft_max 0.2) is refused by a 4-messages-a-month budget over the automation workspace's own
generated 30-week history — with the numbers a brute-force count gives — and deploys with
--override-gates, the reason and who kept in the release history."""

from __future__ import annotations

import getpass
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from scenarist.bundles import Workspace, load_workspace
from scenarist.bundles.gates import Gates
from scenarist.cli import app
from scenarist.errors import ConfigError
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.build import open_store
from scenarist.project.config import load_project
from scenarist.stores.database import connect
from scenarist.stores.runs import record_scenario_end, record_scenario_start
from tests.bundles.conftest import use_version

runner = CliRunner()
WEEKS = 30
START = datetime(2026, 1, 5, tzinfo=timezone.utc)
GATES = {"backtest_max_alerts_per_month": 4, "design_runs_ok": 3, "no_new_errors": True}
DRIFT = "data drift < 0.45"  # the check's name stays; v3 changes its bound


def invoke(*args: str, project: Path):
    return runner.invoke(app, [*args, "--project", str(project)])


def _with_gates(automation: Path, gates: dict) -> None:
    data = yaml.safe_load(automation.read_text())
    automation.write_text(yaml.safe_dump({**data, "gates": gates}))


def _record_runs(design: Path, scenario: str, outcomes: list[str]) -> None:
    """Runs of `scenario` in the design workspace's store, as scenario_flow records them."""
    project = load_project(design)
    engine = connect(project.connections["store"].resolved_url(), project.root)
    for outcome in outcomes:
        run_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
        record_scenario_start(engine, run_id=run_id, project=project.project, scenario=scenario,
                              trigger=None, parent_run_id=None, url=None, variables={},
                              started_at=now)
        record_scenario_end(engine, run_id=run_id, outcome=outcome, ended_at=now, message=None,
                            log="", steps=[])


def _history(release: Path) -> tuple[list[str], np.ndarray]:
    """30 weekly evaluations of the_MES in the workspace's store: drift mostly between 0.2
    and 0.45, with one drifting episode."""
    rng = np.random.default_rng(11)
    weeks = np.arange(WEEKS)
    drift = np.clip(0.3 + 0.2 * ((weeks >= 12) & (weeks < 15)) + rng.normal(0, 0.05, WEEKS),
                    0.21, 1.0)
    store = open_store(load_project(release), "the_MES")
    months = []
    for week, value in enumerate(drift):
        start = START + timedelta(weeks=week)
        store.record(f"2026-W{week + 2:02d}", ComputedEvaluation(
            [MetricValue("data_drift", float(value))], 100, 100), model="fraud_model",
            time_range=(start, start + timedelta(days=7)))
        months.append(start.strftime("%Y-%m"))
    return months, drift


def test_v3_refused_by_the_alert_budget_then_overridden(design, automation, wide_console):
    ws = automation.stem
    _with_gates(automation, GATES)
    use_version(design, "v3")  # both scenarios, the drift monitor with its mail reporter
    for scenario in ("Evaluate quarter", "Data drift monitor"):
        _record_runs(design, scenario, ["SUCCESS", "FAILED", "WARNING", "SUCCESS"])
    data = ["--include-data", "transactions_train", "--include-data", "transactions_batch"]
    assert invoke("bundle", "create", "v2", *data, project=design).exit_code == 0
    assert invoke("bundle", "publish", "v2", project=design).exit_code == 0
    first = invoke("bundle", "deploy", "v2", "--to", ws, project=design)
    assert first.exit_code == 0, first.output
    assert "gate backtest_max_alerts_per_month: passed" in first.output  # no history yet
    space = Workspace(load_workspace(ws, design))
    months, drift = _history(space.project_path("v2"))

    file = design / "scenarist.yaml"
    file.write_text(file.read_text().replace("soft_max: 0.45", "soft_max: 0.2"))
    assert invoke("bundle", "create", "v3", *data, project=design).exit_code == 0
    assert invoke("bundle", "publish", "v3", project=design).exit_code == 0
    refused = invoke("bundle", "deploy", "v3", "--to", ws, project=design)

    # brute force: the drift monitor's reporter mails on each WARNING (drift > bound)
    def per_month(bound: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for month, value in zip(months, drift, strict=True):
            counts[month] = counts.get(month, 0) + int(value > bound)
        return counts

    before, after = per_month(0.45), per_month(0.2)
    assert max(before.values()) <= 4 < max(after.values())
    worst = max(after, key=lambda m: (after[m], -months.index(m)))
    assert refused.exit_code == 4, refused.output  # a refused bundle (README's exit codes)
    text = " ".join(refused.output.split())
    assert (f"backtest_max_alerts_per_month: FAILED — {after[worst]} messages in {worst} > 4 "
            f"allowed ({WEEKS} evaluation(s) of the_MES replayed") in text
    assert "per month: " + ", ".join(f"{m} {n}" for m, n in after.items()) in text
    assert "alerting evaluations in " + worst in text and DRIFT in text
    assert "design_runs_ok: passed" in text and "no_new_errors: passed" in text
    assert "release v2 remains active" in text and "--override-gates" in text
    assert space.active_version() == "v2"

    usage = invoke("bundle", "deploy", "v3", "--to", ws, "--override-gates", project=design)
    assert usage.exit_code == 3 and "--reason" in usage.output
    reason = "accepting more mails while the drift model is retrained"
    done = invoke("bundle", "deploy", "v3", "--to", ws, "--override-gates", "--reason", reason,
                  project=design)
    assert done.exit_code == 0, done.output
    assert space.active_version() == "v3"
    last = space.history()[-1]
    assert (last.version, last.override_reason, last.by) == ("v3", reason, getpass.getuser())
    assert any(line.startswith("backtest_max_alerts_per_month: FAILED") for line in last.gates)
    status = invoke("bundle", "status", "--to", ws, project=design)
    assert f"overridden: {reason}" in " ".join(status.output.split())


def test_design_runs_and_new_errors_refuse(design, automation, wide_console):
    ws = automation.stem
    _with_gates(automation, {"design_runs_ok": 2, "no_new_errors": True})
    use_version(design, "v3")
    _record_runs(design, "Evaluate quarter", ["SUCCESS", "WARNING"])
    _record_runs(design, "Data drift monitor", ["FAILED", "SUCCESS", "ABORTED"])
    data = ["--include-data", "transactions_train", "--include-data", "transactions_batch"]
    assert invoke("bundle", "create", "v2", *data, project=design).exit_code == 0
    refused = invoke("bundle", "deploy", "v2", "--to", ws, "--archive",
                     str(design / ".scenarist" / "bundles" / "v2.tar.gz"), project=design)
    assert refused.exit_code == 4
    text = " ".join(refused.output.split())
    assert ("design_runs_ok: FAILED — scenarios with fewer than 2 runs completed without FAILED "
            "in the design workspace: 'Data drift monitor' 1") in text
    _record_runs(design, "Data drift monitor", ["WARNING"])
    ok = invoke("bundle", "deploy", "v2", "--to", ws, "--archive",
                str(design / ".scenarist" / "bundles" / "v2.tar.gz"), project=design)
    assert ok.exit_code == 0, ok.output
    space = Workspace(load_workspace(ws, design))
    store = open_store(load_project(space.project_path("v2")), "the_MES")
    store.record("2026-W02", ComputedEvaluation([MetricValue("data_drift", 0.42)], 100, 100),
                 model="fraud_model", time_range=(START, START + timedelta(days=7)))

    file = design / "scenarist.yaml"  # v3: a hard bound the latest evaluation (0.42) crosses
    file.write_text(file.read_text().replace("soft_max: 0.45", "soft_max: 0.3, hard_max: 0.4"))
    assert invoke("bundle", "create", "v3", *data, project=design).exit_code == 0
    refused = invoke("bundle", "deploy", "v3", "--to", ws, "--archive",
                     str(design / ".scenarist" / "bundles" / "v3.tar.gz"), project=design)
    assert refused.exit_code == 4, refused.output
    text = " ".join(refused.output.split())
    assert (f"no_new_errors: FAILED — 1 check(s) OK under the active release are ERROR under "
            f"the new one: '{DRIFT}' on the_MES/2026-W02: OK → ERROR") in text
    assert "0.42" in text  # the evaluation's value, in the check's message
    assert space.active_version() == "v2"


def test_gates_config_is_validated(design, tmp_path):
    assert Gates.model_validate(GATES).design_runs_ok == 3
    file = design / "workspaces" / "bad.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(yaml.safe_dump({"root": str(tmp_path / "bad"),
                                    "gates": {"backtest_max_alerts": 4, "design_runs_ok": 0}}))
    with pytest.raises(ConfigError, match=r"gates\.backtest_max_alerts.*[Ee]xtra") as error:
        load_workspace("bad", design)
    assert "gates.design_runs_ok" in str(error.value)
