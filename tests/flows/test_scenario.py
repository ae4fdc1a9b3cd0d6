"""Scenarios run as real Prefect flows (prefect_test_harness): outcomes, conditions, retries,
timeouts, variables, nested scenarios, run records, logs and artifacts."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.scenario import project_engine, run_scenario
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_run

STEPS_MODULE = '''
import time
from pathlib import Path


def ok(context):
    context.logger.info("ok step ran in scenario %s", context.scenario)


def warn(context):
    return "WARNING"


def boom(context):
    raise RuntimeError("the source table is locked")


def flaky(context, marker, fail_times):
    path = Path(marker)
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    if attempt <= fail_times:
        raise ConnectionError(f"attempt {attempt} failed")
    return {"flaky_attempts": attempt}


def slow(context, seconds):
    time.sleep(seconds)


def outcome_from(context, name):
    return context.variables[name]
'''

S, W, F = StepOutcome.SUCCESS, StepOutcome.WARNING, StepOutcome.FAILED


def py(name: str, function: str, **options) -> dict:
    params = options.pop("params", {})
    return {"name": name, "type": "python", "function": f"my_steps:{function}",
            "params": params, **options}


@pytest.fixture
def project(project_copy: Path, prefect_api) -> Path:
    marker = str(project_copy / "flaky.count")
    scenarios = {
        "Worst of": {"steps": [py("A", "ok"), py("B", "warn"), py("C", "ok")]},
        "Failure path": {"steps": [
            py("Start", "ok"),
            py("Boom", "boom"),
            py("After failure", "ok"),
            py("Always", "ok", run_condition="always"),
            py("On failure", "ok", run_condition="prior_failure"),
            py("On warning", "ok", run_condition="prior_warning"),
        ]},
        "Retries": {"steps": [
            py("Flaky", "flaky", retries=2, params={"marker": marker, "fail_times": 2}),
        ]},
        "Retries exhausted": {"steps": [
            py("Flaky", "flaky", retries=1, params={"marker": marker, "fail_times": 5}),
            py("Best effort", "boom", outcome_on_failure="WARNING"),
        ]},
        "Conditions": {"variables": {"threshold": 3}, "steps": [
            py("First", "warn"),
            {"name": "On warning", "type": "set_variables", "values": {"flag": "raised"},
             "when": "stepOutcome_First == 'WARNING'"},
            {"name": "On success", "type": "set_variables", "values": {"flag": "quiet"},
             "when": "stepOutcome_First == 'SUCCESS'"},
            {"name": "Compute", "type": "set_variables",
             "expressions": {"verdict": "'SUCCESS' if threshold > 2 else 'FAILED'",
                             "summary": "flag ~ '/' ~ outcome"}},
            py("Use it", "outcome_from", params={"name": "verdict"}),
        ]},
        "Timeout": {"steps": [py("Slow", "slow", timeout_seconds=1, params={"seconds": 4})]},
        "Parent": {"steps": [
            {"name": "Child", "type": "run_scenario", "scenario": "Worst of"},
            py("After child", "ok"),
        ]},
    }
    path = project_copy / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"].update(scenarios)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (project_copy / "my_steps.py").write_text(STEPS_MODULE)
    return project_copy


def outcomes(result) -> dict[str, str | None]:
    return {step.name: step.outcome for step in result.steps}


def test_scenario_outcome_is_the_worst_step_outcome(project):
    result = run_scenario(project, "Worst of")
    assert result.outcome is W
    assert outcomes(result) == {"A": "SUCCESS", "B": "WARNING", "C": "SUCCESS"}


def test_a_failing_step_and_the_run_conditions_after_it(project):
    result = run_scenario(project, "Failure path")
    assert result.outcome is F
    assert outcomes(result) == {
        "Start": "SUCCESS",
        "Boom": "FAILED",
        "After failure": None,  # no_prior_failure: skipped
        "Always": "SUCCESS",
        "On failure": "SUCCESS",
        "On warning": None,
    }
    boom = next(s for s in result.steps if s.name == "Boom")
    assert boom.message == "RuntimeError: the source table is locked"
    skipped = next(s for s in result.steps if s.name == "After failure")
    assert skipped.message == "skipped (run_condition: no_prior_failure)"


def test_retries_actually_retry(project):
    result = run_scenario(project, "Retries")
    assert result.outcome is S
    assert result.steps[0].attempts == 3
    assert (project / "flaky.count").read_text() == "3"

    (project / "flaky.count").unlink()
    exhausted = run_scenario(project, "Retries exhausted")
    assert outcomes(exhausted) == {"Flaky": "FAILED", "Best effort": None}
    assert exhausted.steps[0].attempts == 2
    assert exhausted.steps[0].message == "ConnectionError: attempt 2 failed"


def test_outcome_on_failure_turns_a_failure_into_a_warning(project):
    path = project / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"]["Best effort"] = {
        "steps": [py("Try", "boom", outcome_on_failure="WARNING"), py("Then", "ok")]
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_scenario(project, "Best effort")
    assert result.outcome is W
    assert outcomes(result) == {"Try": "WARNING", "Then": "SUCCESS"}


def test_step_outcomes_and_variables_reach_later_steps(project):
    result = run_scenario(project, "Conditions")
    assert outcomes(result) == {
        "First": "WARNING",
        "On warning": "SUCCESS",
        "On success": None,
        "Compute": "SUCCESS",
        "Use it": "SUCCESS",
    }
    assert "set summary = 'raised/WARNING'" in result.log
    assert result.outcome is W


def test_run_parameters_override_scenario_variables(project):
    result = run_scenario(project, "Conditions", {"threshold": 1})
    assert outcomes(result)["Use it"] == "FAILED"  # verdict became 'FAILED'
    assert result.outcome is F


def test_a_step_over_its_timeout_fails(project):
    result = run_scenario(project, "Timeout")
    assert result.outcome is F
    assert "TimeoutError" in result.steps[0].message


def test_run_scenario_step_takes_the_child_outcome(project):
    result = run_scenario(project, "Parent")
    assert outcomes(result) == {"Child": "WARNING", "After child": "SUCCESS"}
    engine = project_engine(load_project(project))
    from sqlalchemy import select

    from scenarist.stores.runs import scenario_runs_table

    with engine.connect() as conn:
        child = conn.execute(
            select(scenario_runs_table).where(
                scenario_runs_table.c.parent_run_id == result.run_id
            )
        ).one()
    assert child.scenario == "Worst of" and child.outcome == "WARNING"


def _use_store(project: Path, url: str) -> None:
    text = (project / "scenarist.yaml").read_text()
    (project / "scenarist.yaml").write_text(
        text.replace("sqlite:///.scenarist/store.db", url)
    )


def test_the_monitor_scenario_records_runs_checks_log_and_artifacts(project, store_url):
    _use_store(project, store_url)
    result = run_scenario(project, "Data drift monitor", {"quarter": "2017Q4"})
    assert result.outcome is W
    assert outcomes(result) == {"Build MES": "SUCCESS", "MES_Warn": "WARNING"}
    assert [c["name"] for c in result.checks] == ["data drift < 0.45"]
    assert result.checks[0]["outcome"] == "WARNING" and result.checks[0]["value"] > 0.45
    assert result.url and result.url.endswith(f"/runs/flow-run/{result.run_id}")

    run, steps = scenario_run(project_engine(load_project(project)), result.run_id)
    assert run["outcome"] == "WARNING" and run["scenario"] == "Data drift monitor"
    assert run["variables"]["quarter"] == "2017Q4"
    assert [s.name for s in steps] == ["Build MES", "MES_Warn"]
    assert steps[1].outcome == "WARNING" and steps[1].started_at is not None
    assert "evaluated '2017Q4' into 'the_MES'" in run["log"]
    assert "check 'data drift < 0.45': WARNING" in run["log"]
    report = project / ".scenarist" / "reports" / "the_MES" / "2017Q4.html"
    assert f"HTML evaluation report: {report}" in run["log"] and report.is_file()

    from scenarist.stores.check_results import check_history

    history = check_history(project_engine(load_project(project)), "data drift < 0.45")
    assert result.run_id in set(history["scenario_run_id"])

    artifacts = asyncio.run(_artifacts(result.run_id))
    assert artifacts["data-drift-monitor-steps"].type == "markdown"
    assert "| 2 | MES_Warn | run_checks | WARNING |" in artifacts["data-drift-monitor-steps"].data
    table = artifacts["data-drift-monitor-checks"]
    assert table.type == "table" and "data drift < 0.45" in str(table.data)


async def _artifacts(run_id: str) -> dict:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(run_id)])
            )
        )
    return {a.key: a for a in found}


def test_cli_run_exits_with_the_outcome_and_lists_scenarios(project, wide_console):
    from typer.testing import CliRunner

    from scenarist.cli import app
    runner = CliRunner()
    p = ("--project", str(project))
    assert runner.invoke(app, ["run", "Worst of", *p]).exit_code == 1  # WARNING
    failed = runner.invoke(app, ["run", "Failure path", *p])
    assert failed.exit_code == 2 and "the source table is locked" in failed.output
    ok = runner.invoke(app, ["run", "Retries", *p])
    assert ok.exit_code == 0, ok.output
    unknown = runner.invoke(app, ["run", "Nope", *p])
    assert unknown.exit_code == 3
    assert "unknown scenario 'Nope'; defined scenarios: Data drift monitor" in unknown.output

    listed = runner.invoke(app, ["scenarios", "list", *p])
    assert "cron 0 6 1 */3 *" in listed.output and "Failure path" in listed.output
    runs = runner.invoke(app, ["scenarios", "runs", "Worst of", *p])
    assert "WARNING" in runs.output
    run_id = run_scenario(project, "Worst of").run_id
    log = runner.invoke(app, ["scenarios", "log", run_id, *p])
    assert "step 'B': WARNING" in log.output


def test_evaluate_deployment_step_feeds_checks(project):
    """A store fed by a deployment's logged predictions, evaluated and checked by a scenario."""
    import numpy as np

    from scenarist.demo.data import FEATURES, generate_quarter
    from scenarist.deployments.deployment import Deployment
    from scenarist.project.models import load_model

    loaded = load_project(project)
    url = loaded.connections["store"].resolved_url()
    model = load_model(loaded, "fraud_model")
    deployment = Deployment.create(model, "Fraud in production",
                                   reference=generate_quarter("2017Q1", 2_000), url=url)
    q4 = generate_quarter("2017Q4", 2_000)
    predictions, probabilities = model.predict(q4[list(FEATURES)])
    deployment.create_batch("october")
    start = np.datetime64("2017-10-02T00:00")
    deployment.log_batch(list(q4["transaction_id"]),
                         [start + np.timedelta64(i, "m") for i in range(len(q4))],
                         q4[list(FEATURES)], predictions, probabilities, batch_id="october")

    path = project / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["evaluation_stores"]["prod_MES"] = {"deployment": deployment.id}
    data["checks"]["prod drift"] = {"store": "prod_MES", "metric": "data_drift", "soft_max": 0.45}
    data["scenarios"]["Production monitor"] = {"steps": [
        {"name": "Evaluate", "type": "evaluate_deployment", "store": "prod_MES",
         "batch": "october"},
        {"name": "Check", "type": "run_checks", "checks": ["prod drift"]},
    ]}
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    result = run_scenario(project, "Production monitor")
    assert outcomes(result) == {"Evaluate": "SUCCESS", "Check": "WARNING"}
    assert result.checks[0]["evaluation_label"] == "october"
    assert result.checks[0]["value"] > 0.45
