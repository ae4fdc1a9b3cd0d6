"""The state of one scenario run, and the variables it exposes (DESIGN.md §6).

Conditions, set_variables expressions and reporter templates all read `RunContext.variables()`:

    scenarioName, scenarioRunId, scenarioRunURL (see `run_url`; "" when none), triggerName
    outcome                  the scenario outcome so far ("SUCCESS" before any step ends)
    stepOutcome_<Step_Name>  for every step of the scenario (spaces → "_"); None until it ran
    checks                   results of the run's run_checks steps (name, outcome, value, …)
    evaluation               the last evaluation built in the run: label, store, metrics, …
    + project variables, scenario variables, run parameters and variables set by steps
"""

from __future__ import annotations

import functools
import os
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


CONSOLE_URL_ENV = "SCENARIST_CONSOLE_URL"


def run_url(run_id: str) -> str | None:
    """scenarioRunURL: a link to the run that outlives the command that started it.

    With a Prefect server (PREFECT_API_URL set) the flow run's page in the Prefect UI. Without
    one the command runs on an ephemeral Prefect API that stops when it exits, so none of its
    URLs: the web console's `/runs/{run_id}` page when SCENARIST_CONSOLE_URL is set, else None
    (say `log_hint(run_id)` instead).
    """
    from prefect.settings import get_current_settings
    from prefect.utilities.urls import url_for

    if get_current_settings().api.url:
        url = url_for("flow-run", obj_id=run_id)
        if url:
            return url
    console = os.environ.get(CONSOLE_URL_ENV, "").strip().rstrip("/")
    return f"{console}/runs/{run_id}" if console else None


def log_hint(run_id: str, project: object | None = None) -> str:
    """What to say instead of a link when a run has none (`project`: its -p option)."""
    option = f" -p {project}" if project is not None else ""
    return f"run `scenarist scenarios log {run_id}{option}`"


@functools.lru_cache(maxsize=1024)  # backtests ask once per step per replayed evaluation
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
