"""Flow-run states tell what the scenario saw, read back from a real Prefect API: a FAILED
scenario is a Failed flow run naming its step, a WARNING one a Completed state named "Warning";
run_scenario, nested scenarios and the CLI still get the outcome."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml
from prefect import get_client
from prefect.client.schemas.objects import StateType

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.scenario import run_scenario

STEPS = '''
def ok(context):
    pass


def warn(context):
    return "WARNING"


def boom(context):
    raise RuntimeError("the source table is locked")
'''


def _py(name: str, function: str, **options) -> dict:
    return {"name": name, "type": "python", "function": f"state_steps:{function}", **options}


@pytest.fixture
def project(project_copy: Path, prefect_api) -> Path:
    path = project_copy / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"].update({
        "Green": {"steps": [_py("Fine", "ok")]},
        "Amber": {"steps": [_py("Fine", "ok"), _py("Soft bound", "warn")]},
        "Red": {"steps": [_py("Fine", "ok"), _py("Load table", "boom"),
                          _py("Cleanup", "ok", run_condition="always")]},
        "Nested red": {"steps": [
            {"name": "Child", "type": "run_scenario", "scenario": "Red", "retries": 2},
            _py("After", "ok", run_condition="always"),
        ]},
    })
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (project_copy / "state_steps.py").write_text(STEPS)
    return project_copy


def _flow_run(run_id: str):
    async def read():
        async with get_client() as client:
            return await client.read_flow_run(uuid.UUID(run_id))

    return asyncio.run(read())


def _child_run_ids(project: Path, parent_run_id: str) -> list[str]:
    """The recorded runs whose parent is `parent_run_id` (their ids are flow-run ids)."""
    from sqlalchemy import select

    from scenarist.flows.scenario import project_engine
    from scenarist.project.config import load_project
    from scenarist.stores.runs import scenario_runs_table

    with project_engine(load_project(project)).connect() as conn:
        return list(conn.execute(select(scenario_runs_table.c.id).where(
            scenario_runs_table.c.parent_run_id == parent_run_id)).scalars())


def test_a_failing_step_ends_in_a_failed_flow_run_naming_it(project):
    result = run_scenario(project, "Red")
    assert result.outcome is StepOutcome.FAILED  # the caller still gets the outcome
    assert [s.outcome for s in result.steps] == ["SUCCESS", "FAILED", "SUCCESS"]

    state = _flow_run(result.run_id).state
    assert state.type is StateType.FAILED and state.name == "Failed"
    assert "step 'Load table' FAILED" in state.message
    assert "RuntimeError: the source table is locked" in state.message


@pytest.mark.parametrize(("scenario", "outcome", "name", "message"), [
    ("Amber", StepOutcome.WARNING, "Warning", "step 'Soft bound' WARNING"),
    ("Green", StepOutcome.SUCCESS, "Completed", None),
])
def test_warning_and_success_are_completed_states_named_after_them(project, scenario, outcome,
                                                                    name, message):
    result = run_scenario(project, scenario)
    assert result.outcome is outcome
    state = _flow_run(result.run_id).state
    assert state.type is StateType.COMPLETED and state.name == name
    assert state.message == message if message is None else message in state.message


def test_a_failed_nested_scenario_is_an_outcome_not_a_retried_crash(project):
    """The child's flow run ends Failed; its parent step takes FAILED once (a FAILED child is
    not retried: retries are for runs that raise), and the parent run is Failed too."""
    result = run_scenario(project, "Nested red")
    assert result.outcome is StepOutcome.FAILED
    child, after = result.steps
    assert (child.outcome, child.attempts) == ("FAILED", 1)
    assert child.message == "scenario 'Red' → FAILED"
    assert after.outcome == "SUCCESS"

    parent = _flow_run(result.run_id).state
    assert parent.type is StateType.FAILED and "step 'Child' FAILED" in parent.message
    (child_id,) = _child_run_ids(project, result.run_id)
    sub = _flow_run(child_id)
    assert sub.state.type is StateType.FAILED and "step 'Load table'" in sub.state.message
