"""Auto-triggers on and off: pause and resume every trigger of a scenario.

    pause(project, scenario)  -> PauseResult     resume(project, scenario) -> PauseResult
    is_paused(project, scenario)                 scenario_status(project) -> {scenario: status}

A scenario is paused when its spec says `auto_triggers: false` or `scenarist scenarios pause`
recorded it in the store (`scenarist_scenario_pauses`): its polls start nothing. Where a Prefect
API is configured (PREFECT_API_URL), pausing also pauses the scenario's Prefect deployments of
the project (tags `scenarist` + `project:<name>`, parameter `scenario`: its scheduled triggers,
its pollers) and the automations of its `event` triggers, and resuming resumes them. A manual
run (`scenarist run`, `run_scenario`) is never refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.project.config import Project, scenario_spec
from scenarist.stores.database import project_engine
from scenarist.stores.trigger_state import paused_states, set_paused


@dataclass(frozen=True)
class PauseResult:
    """What pause/resume changed."""

    scenario: str
    paused: bool
    prefect_deployments: list[str] = field(default_factory=list)
    automations: int = 0


def is_paused(project: Project, scenario: str, *, engine: Any = None) -> bool:
    """Whether the scenario's triggers are off (its spec or the store says so)."""
    if not project.scenarios[scenario].auto_triggers:
        return True
    return paused_states(engine or project_engine(project), project.project).get(scenario, False)


def scenario_status(project: Project) -> dict[str, str]:
    """{scenario: "active" | "paused" | "paused (auto_triggers: false)"} for every scenario."""
    recorded = paused_states(project_engine(project), project.project)
    status = {}
    for name, spec in project.scenarios.items():
        if not spec.auto_triggers:
            status[name] = "paused (auto_triggers: false)"
        else:
            status[name] = "paused" if recorded.get(name) else "active"
    return status


def pause(project: str | Path | Project, scenario: str) -> PauseResult:
    """Pause every trigger of `scenario` (store, and its Prefect deployments when configured)."""
    return _switch(project, scenario, paused=True)


def resume(project: str | Path | Project, scenario: str) -> PauseResult:
    """Resume the triggers of `scenario`; ConfigError when the file says auto_triggers: false."""
    return _switch(project, scenario, paused=False)


def _switch(project: str | Path | Project, scenario: str, *, paused: bool) -> PauseResult:
    loaded = loaded_project(project)
    spec = scenario_spec(loaded, scenario)
    if not paused and not spec.auto_triggers:
        raise ConfigError([ConfigProblem(str(loaded.file or ""),
                                         f"scenarios.{scenario}.auto_triggers", (
            "auto_triggers is false in the project file; set it to true (or remove it) to "
            "resume the triggers"))])
    set_paused(project_engine(loaded), loaded.project, scenario, paused)
    names, automations = _switch_prefect(loaded.project, scenario, paused)
    return PauseResult(scenario, paused, names, automations)


def _switch_prefect(project: str, scenario: str, paused: bool) -> tuple[list[str], int]:
    """Pause/resume the scenario's Prefect deployments and their automations; nothing when no
    Prefect API is configured (an ephemeral API has no deployments)."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return [], 0
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    names, automations = [], 0
    with get_client(sync_client=True) as client:
        tags = DeploymentFilterTags(all_=["scenarist", f"project:{project}"])
        for deployment in client.read_deployments(
                deployment_filter=DeploymentFilter(tags=tags)):
            if (deployment.parameters or {}).get("scenario") != scenario:
                continue
            if paused:
                client.pause_deployment(deployment.id)
            else:
                client.resume_deployment(deployment.id)
            names.append(deployment.name)
            for automation in client.read_resource_related_automations(
                    f"prefect.deployment.{deployment.id}"):
                if paused:
                    client.pause_automation(automation.id)
                else:
                    client.resume_automation(automation.id)
                automations += 1
    return sorted(names), automations


def loaded_project(project: str | Path | Project) -> Project:
    """`project` itself, or the project read (and validated) from its folder or file."""
    if isinstance(project, Project):
        return project
    from scenarist.validation import load_project

    return load_project(project)
