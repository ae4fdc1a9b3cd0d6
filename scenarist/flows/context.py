"""The state of one scenario run, and the variables it exposes (DESIGN.md §6).

Conditions, set_variables expressions and reporter templates all read `RunContext.variables()`:

    scenarioName, scenarioRunId, scenarioRunURL, triggerName
    outcome                  the scenario outcome so far ("SUCCESS" before any step ends)
    stepOutcome_<Step_Name>  for every step of the scenario (spaces → "_"); None until it ran
    checks                   results of the run's run_checks steps (name, outcome, value, …)
    evaluation               the last evaluation built in the run: label, store, metrics, …
    + project variables, scenario variables, run parameters and variables set by steps
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarist.checks.outcome import StepOutcome
from scenarist.project.config import Project

FIXED_NAMES = (
    "scenarioName",
    "scenarioRunId",
    "scenarioRunURL",
    "triggerName",
    "outcome",
    "checks",
    "evaluation",
)


def step_variable(step_name: str) -> str:
    """`stepOutcome_<Step_Name>`: the variable holding a step's outcome."""
    return "stepOutcome_" + re.sub(r"\s+", "_", step_name.strip())


@dataclass
class RunContext:
    """Everything a scenario run knows; steps read it and add to it."""

    project: Project
    scenario: str
    run_id: str
    run_url: str | None = None
    trigger: str | None = None
    user_variables: dict[str, Any] = field(default_factory=dict)
    step_outcomes: dict[str, StepOutcome | None] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    evaluation_report_path: Path | None = None  # the HTML report of `evaluation`, once written

    @property
    def outcome(self) -> StepOutcome:
        """The worst outcome of the steps that ran so far (SUCCESS when none did)."""
        ran = [o for o in self.step_outcomes.values() if o is not None]
        return StepOutcome.worst(ran, default=StepOutcome.SUCCESS)

    def variables(self) -> dict[str, Any]:
        """The variables of DESIGN.md §6, as conditions and templates see them."""
        values: dict[str, Any] = dict(self.user_variables)
        values.update(
            {
                step_variable(name): (None if outcome is None else str(outcome))
                for name, outcome in self.step_outcomes.items()
            }
        )
        values.update(
            scenarioName=self.scenario,
            scenarioRunId=self.run_id,
            scenarioRunURL=self.run_url or "",
            triggerName=self.trigger or "manual",
            outcome=str(self.outcome),
            checks=list(self.checks),
            evaluation=self.evaluation,
        )
        return values
