"""Run contexts for calling `queue_reports` directly, exactly as the scenario flow does."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import yaml

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.context import RunContext
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.reporters.queue import QueueSummary, queue_reports

MONITOR = "Data drift monitor"
LOG = "2017-12-31 06:00:00 INFO    prefect.flow_runs | scenario started\n"


def warning_context(root: Path, run_id: str, scenario: str = MONITOR,
                    outcome: StepOutcome = StepOutcome.WARNING) -> RunContext:
    """A finished run of the monitor whose drift check warned (data_drift 0.5 > 0.45)."""
    project = load_project(root)
    check = {"name": "data drift < 0.45", "outcome": "WARNING" if outcome > "SUCCESS" else "OK",
             "metric": "data_drift", "feature": None, "value": 0.5,
             "bounds": {"soft_max": 0.45}, "message": "data_drift = 0.5 > soft_max 0.45",
             "evaluation_label": "2017Q4", "checked_at": datetime(2018, 1, 1, tzinfo=timezone.utc),
             "store": "the_MES"}
    return RunContext(
        project=project, scenario=scenario, run_id=run_id,
        run_url=f"http://127.0.0.1:4200/runs/flow-run/{run_id}",
        user_variables={"quarter": "2017Q4"},
        step_outcomes={"Build MES": StepOutcome.SUCCESS, "MES_Warn": outcome},
        checks=[check],
        evaluation={"store": "the_MES", "label": "2017Q4", "row_count": 3000,
                    "metrics": {"data_drift": 0.5}, "top_drifted_features": ["card_age"]},
    )


def queue(ctx: RunContext, log: str = LOG, deliver: bool = True) -> QueueSummary:
    """What scenario_flow does after recording the outcome (the same function, same args)."""
    spec = ctx.project.scenarios[ctx.scenario]
    return asyncio.run(queue_reports(ctx, spec.reporters, log, project_engine(ctx.project),
                                     deliver=deliver))


def edit_project(root: Path, change) -> Path:
    """Apply `change` to the project's YAML mapping and write it back."""
    file = root / "scenarist.yaml"
    data = yaml.safe_load(file.read_text())
    change(data)
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return root
