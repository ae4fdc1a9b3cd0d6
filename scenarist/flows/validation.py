"""Scenario problems found before any run: conditions that do not parse or read names nothing
defines, python steps whose function does not import, run_scenario cycles.

Called by `scenarist.validation` (`validate_project`, `load_project`) on the project, or on the
parts of it that validate alone when the file does not match the schema; returns
`ConfigProblem`s with their key paths instead of raising, so every problem is reported at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.flows import template_checks
from scenarist.flows.conditions import parse_expression
from scenarist.flows.context import FIXED_NAMES, step_variable
from scenarist.flows.specs import (
    EvaluateDeploymentStep,
    PythonStep,
    ReviseEvaluationsStep,
    RunScenarioStep,
    SetVariablesStep,
)
from scenarist.flows.template_checks import custom_metric_names, did_you_mean, undefined_names
from scenarist.project.config_checks import format_location
from scenarist.project.imports import import_function
from scenarist.project.sections import Unchecked


def scenario_problems(project: Any) -> list[ConfigProblem]:
    """Every problem of the project's scenarios (see the module docstring). Steps and
    reporters that did not validate on their own (`Unchecked`) are skipped."""
    file = str(project.file or "")
    problems: list[ConfigProblem] = []
    metrics = custom_metric_names(project)
    for name, scenario in project.scenarios.items():
        known = _defined_names(project, scenario)
        for i, step in enumerate(scenario.steps):
            loc = _loc(name, "steps", i)
            if isinstance(step, Unchecked):
                continue
            if step.when is not None:
                problems += _expression_problems(step.when, known, file, f"{loc}.when", metrics)
            if isinstance(step, SetVariablesStep):
                for key, text in step.expressions.items():
                    problems += _expression_problems(text, known, file,
                                                     f"{loc}.expressions.{key}", metrics)
            if isinstance(step, PythonStep):
                problems += _import_problems(step.function, project.root, file, f"{loc}.function")
            if isinstance(step, EvaluateDeploymentStep | ReviseEvaluationsStep):
                store = project.evaluation_stores.get(step.store)
                if store is not None and store.deployment is None:
                    problems.append(ConfigProblem(file, f"{loc}.store", (
                        f"store {step.store!r} has no `deployment:`; {step.type} needs a store "
                        "fed by a deployment (use build_evaluation for datasets)")))
            if isinstance(step, RunScenarioStep) and step.scenario not in project.scenarios:
                problems.append(ConfigProblem(file, f"{loc}.scenario", (
                    f"unknown scenario {step.scenario!r}; defined scenarios: "
                    f"{', '.join(project.scenarios)}")))
        for i, reporter in enumerate(scenario.reporters):
            when = getattr(reporter, "when", None)
            if isinstance(when, str):
                problems += _expression_problems(when, known, file,
                                                 f"{_loc(name, 'reporters', i)}.when", metrics)
    problems += _cycle_problems(project, file)
    return problems


def _defined_names(project: Any, scenario: Any) -> set[str]:
    names = set(FIXED_NAMES) | set(project.variables) | set(scenario.variables)
    for step in scenario.steps:
        if isinstance(step, Unchecked):
            names.add(step_variable(step.name))
            continue
        names.add(step_variable(step.name))
        if isinstance(step, SetVariablesStep):
            names |= set(step.values) | set(step.expressions)
    return names


def _expression_problems(expression: str, known: set[str], file: str, location: str,
                         metrics: set[str]) -> list[ConfigProblem]:
    """An expression checked as the run would: parsed in the sandbox, its names against the
    run's variables, `evaluation.metrics.X` against the metric names, refused attributes."""
    try:
        tree = parse_expression(expression)
    except ConfigError as exc:
        return [ConfigProblem(file, location, problem.message) for problem in exc.problems]
    found = []
    unknown = undefined_names(tree, known)
    if unknown:
        hints = "".join(did_you_mean(name, known) for name in unknown)
        found.append(f"{', '.join(unknown)} in {expression!r} is not defined by any step, the "
                     f"scenario's `variables` or the project's{hints}; defined: "
                     f"{', '.join(sorted(known))}")
    found += [f"{message} (in {expression!r})" for message in template_checks.problems(
        tree, known | set(unknown), custom_metrics=metrics)]
    return [ConfigProblem(file, location, message) for message in found]


def _import_problems(reference: str, root: Path, file: str, location: str) -> list[ConfigProblem]:
    try:
        import_function(reference, root)
    except ConfigError as exc:
        return [ConfigProblem(file, location, problem.message) for problem in exc.problems]
    return []


def _cycle_problems(project: Any, file: str) -> list[ConfigProblem]:
    """A scenario that (through run_scenario steps) runs itself."""
    calls = {
        name: [s.scenario for s in scenario.steps if isinstance(s, RunScenarioStep)]
        for name, scenario in project.scenarios.items()
    }
    problems: list[ConfigProblem] = []
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        for callee in calls.get(name, []):
            if callee in path:
                cycle = path[path.index(callee):] + [callee]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append(ConfigProblem(file, format_location(("scenarios", cycle[0])), (
                        "run_scenario cycle: " + " → ".join(cycle)
                        + "; a scenario cannot run itself, directly or through others")))
            elif callee in calls:
                visit(callee, path + [callee])

    for name in calls:
        visit(name, [name])
    return problems


def _loc(scenario: str, part: str, index: int) -> str:
    return format_location(("scenarios", scenario, part, index))
