"""Scenario mistakes are found when the project is validated: nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scenarist.errors import ConfigError
from scenarist.flows.scenario import run_scenario
from scenarist.validation import load_project, validate_project


def _with_scenarios(project: Path, scenarios: dict, module: str | None = None) -> Path:
    path = project / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"] = scenarios
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    if module is not None:
        (project / "my_steps.py").write_text(module)
    return project


def _problems(project: Path) -> dict[str, str]:
    return {p.location: p.message for p in validate_project(project)}


def test_every_scenario_mistake_is_reported_with_its_location(project_copy):
    _with_scenarios(project_copy, {
        "Monitor": {"steps": [
            {"name": "A", "type": "build_evaluation", "store": "the_MES"},
            {"name": "A", "type": "run_checks", "checks": ["data drift < 0.45"]},
            {"name": "B", "type": "teleport"},
        ]},
        "Conditions": {"steps": [
            {"name": "C", "type": "set_variables", "values": {"x": 1},
             "when": "stepOutcome_Nope == 'WARNING'"},
            {"name": "D", "type": "set_variables", "expressions": {"y": "x +"}},
        ]},
        "Python": {"steps": [
            {"name": "E", "type": "python", "function": "no_such_module:run"},
            {"name": "F", "type": "python", "function": "my_steps:missing"},
        ]},
        "Ping": {"steps": [{"name": "G", "type": "run_scenario", "scenario": "Pong"}]},
        "Pong": {"steps": [{"name": "H", "type": "run_scenario", "scenario": "Ping"}]},
    }, module="def present(context):\n    return None\n")
    problems = _problems(project_copy)
    # the unknown step type does not stop the other checks: one pass reports them all
    assert "does not match any of the expected tags" in problems["scenarios.Monitor.steps[2]"]
    assert "'build_evaluation'" in problems["scenarios.Monitor.steps[2]"]
    assert "duplicate step name 'A'" in problems["scenarios.Monitor.steps[1].name"]
    assert "stepOutcome_Nope" in problems["scenarios.Conditions.steps[0].when"]
    assert "run_scenario cycle: Ping → Pong → Ping" in problems["scenarios.Ping"]

    _with_scenarios(project_copy, {
        "Conditions": {"steps": [
            {"name": "C", "type": "set_variables", "values": {"x": 1},
             "when": "stepOutcome_Nope == 'WARNING'"},
            {"name": "D", "type": "set_variables", "expressions": {"y": "x +"}},
        ]},
        "Python": {"steps": [
            {"name": "E", "type": "python", "function": "no_such_module:run"},
            {"name": "F", "type": "python", "function": "my_steps:missing"},
            {"name": "G", "type": "python", "function": "my_steps:present"},
        ]},
        "Ping": {"steps": [{"name": "G", "type": "run_scenario", "scenario": "Pong"}]},
        "Pong": {"steps": [{"name": "H", "type": "run_scenario", "scenario": "Ping"}]},
        "Lost": {"steps": [{"name": "I", "type": "run_scenario", "scenario": "Nowhere"}]},
    })
    problems = _problems(project_copy)
    assert problems.pop("scenarios.Conditions.steps[0].when").startswith(
        "stepOutcome_Nope in \"stepOutcome_Nope == 'WARNING'\" is not defined"
    )
    assert "does not parse" in problems.pop("scenarios.Conditions.steps[1].expressions.y")
    assert "cannot import module 'no_such_module'" in problems.pop(
        "scenarios.Python.steps[0].function")
    assert "has no function 'missing'; functions: present" in problems.pop(
        "scenarios.Python.steps[1].function")
    assert "run_scenario cycle: Ping → Pong → Ping" in problems.pop("scenarios.Ping")
    assert "unknown scenario 'Nowhere'" in problems.pop("scenarios.Lost.steps[0].scenario")
    assert problems == {}


def test_a_bad_project_runs_nothing(project_copy):
    _with_scenarios(project_copy, {
        "Monitor": {"steps": [
            {"name": "Build", "type": "build_evaluation", "store": "the_MES"},
            {"name": "Gate", "type": "run_checks", "checks": ["data drift < 0.45"],
             "when": "undefined_flag"},
        ]},
    })
    with pytest.raises(ConfigError, match="undefined_flag"):
        run_scenario(project_copy, "Monitor", {"quarter": "2017Q2"})
    assert not (project_copy / ".scenarist").exists()  # no store, no run record


def test_step_options_are_validated(project_copy):
    _with_scenarios(project_copy, {"S": {"steps": [
        {"name": "A", "type": "run_checks"},
        {"name": "B", "type": "set_variables", "values": {}, "when": "true",
         "run_condition": "always"},
        {"name": "C", "type": "set_variables", "values": {}, "retries": -1},
    ]}})
    problems = _problems(project_copy)
    assert "needs `checks` (names) or `store`" in problems["scenarios.S.steps[0]"]
    assert "either `run_condition` or `when`" in problems["scenarios.S.steps[1]"]
    assert "greater than or equal to 0" in problems["scenarios.S.steps[2].retries"]
    with pytest.raises(ConfigError):
        load_project(project_copy)


def test_deployment_stores_and_their_step(project_copy):
    path = project_copy / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["evaluation_stores"]["both"] = {"deployment": "abc", "model": "fraud_model"}
    data["evaluation_stores"]["neither"] = {"label": "x"}
    data["scenarios"] = {"S": {"steps": [
        {"name": "A", "type": "evaluate_deployment", "store": "the_MES"},
    ]}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    problems = _problems(project_copy)
    assert problems["evaluation_stores.both"].startswith("a store fed by `deployment` takes no")
    assert problems["evaluation_stores.neither"].startswith("missing model, reference, input")

    del data["evaluation_stores"]["both"], data["evaluation_stores"]["neither"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert "store 'the_MES' has no `deployment:`" in _problems(project_copy)[
        "scenarios.S.steps[0].store"]
