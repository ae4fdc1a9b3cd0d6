"""The Prefect deployments of a release: one per scenario trigger running the scenarist flow
from the release's project folder, plus one poller per polling trigger.

    plans = plan_deployments(project, workspace, version)    # pure: what should exist
    sync_deployments(plans, workspace, project.project)       # create/update them; delete the
                                                              # workspace's others of the project

Registered straight through the Prefect API (no prefect.yaml, no code pushed): entrypoint
`scenarist.flows.scenario.scenario_flow` (the installed package, imported after the pull step),
a pull step `set_working_directory` to the release's project folder, the trigger's schedule,
parameters {project, scenario, variables, trigger}, the workspace's work pool, and tags
`scenarist`, `workspace:<name>`, `project:<name>`, `bundle:<version>`. A deployment's name is
`<workspace>.<project>.<scenario>.<trigger>` (slugs), stable across versions, so an update
replaces it (and its schedules) rather than adding one.

Trigger types (`scenarist.triggers`): a `cron` / `interval_seconds` trigger is the scenario
deployment's schedule. A polling trigger (`dataset_changed`, `sql_changed`, `labels_ready`,
`python`) gets an unscheduled scenario deployment (what a change starts) and a poller
`<…>.<trigger>.poll`: the `scenarist-trigger` flow (`scenarist.triggers.flow.trigger_flow`)
scheduled every `every`, parameters {project, scenario, trigger, deployment}. An `event` trigger
gets an unscheduled scenario deployment with a Prefect automation (a DeploymentEventTrigger:
`match` is the expected event, `where` / `related` the resource filters) that runs it. A scenario
with `auto_triggers: false` gets its deployments paused and its automations disabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from scenarist.bundles.workspace import WorkspaceConfig
from scenarist.errors import BundleError
from scenarist.project.config import Project, TriggerSpec
from scenarist.triggers.specs import trigger_name

FLOW_NAME = "scenarist-scenario"
ENTRYPOINT = "scenarist.flows.scenario.scenario_flow"
POLL_FLOW_NAME = "scenarist-trigger"
POLL_ENTRYPOINT = "scenarist.triggers.flow.trigger_flow"


@dataclass(frozen=True)
class DeploymentPlan:
    """One Prefect deployment to create or update."""

    name: str
    scenario: str
    trigger: str
    trigger_spec: TriggerSpec
    project_path: Path
    version: str
    tags: tuple[str, ...]
    work_pool: str
    parameters: dict[str, Any] = field(default_factory=dict)
    flow: str = FLOW_NAME
    entrypoint: str = ENTRYPOINT
    scheduled: bool = True  # False: started by a poller or an automation, never on a schedule
    paused: bool = False  # the scenario says auto_triggers: false


def deployment_name(workspace: str, project: str, scenario: str, trigger: str) -> str:
    return ".".join(_slug(part) for part in (workspace, project, scenario, trigger))


def base_tags(workspace: str, project: str) -> list[str]:
    """Tags every Prefect deployment of a project in a workspace carries."""
    return ["scenarist", f"workspace:{workspace}", f"project:{project}"]


def plan_deployments(project: Project, workspace: WorkspaceConfig, version: str,
                     project_path: Path) -> list[DeploymentPlan]:
    """One plan per trigger of every scenario of `project`, run from `project_path`."""
    tags = (*base_tags(workspace.name, project.project), f"bundle:{version}", *workspace.tags)
    plans = []
    for scenario, spec in project.scenarios.items():
        for position, trigger in enumerate(spec.triggers):
            name = trigger_name(trigger, position)
            plan = DeploymentPlan(
                name=deployment_name(workspace.name, project.project, scenario, name),
                scenario=scenario,
                trigger=name,
                trigger_spec=trigger,
                project_path=project_path,
                version=version,
                tags=tuple(dict.fromkeys(tags)),
                work_pool=workspace.work_pool,
                parameters={"project": str(project_path), "scenario": scenario,
                            "variables": {}, "trigger": name},
                scheduled=trigger.kind in ("cron", "interval_seconds"),
                paused=not spec.auto_triggers,
            )
            plans.append(plan)
            if trigger.polling is not None:
                plans.append(replace(
                    plan, name=f"{plan.name}.poll", flow=POLL_FLOW_NAME,
                    entrypoint=POLL_ENTRYPOINT, scheduled=True,
                    parameters={"project": str(project_path), "scenario": scenario,
                                "trigger": name, "deployment": f"{FLOW_NAME}/{plan.name}"}))
    return plans


def check_work_pool(name: str) -> None:
    """BundleError when the Prefect API is unreachable or has no work pool `name`."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    with _client() as client:
        try:
            client.read_work_pool(name)
        except (httpx.TransportError, OSError) as exc:
            raise _unreachable(exc) from exc
        except ObjectNotFound:
            raise BundleError(
                f"the Prefect API has no work pool {name!r}; create it with `prefect work-pool "
                f"create {name} --type process` or set work_pool in the workspace config"
            ) from None


def sync_deployments(plans: list[DeploymentPlan], workspace: str, project: str) -> list[str]:
    """Create or update every plan; delete the workspace's other Prefect deployments of the
    project (scenarios or triggers the release does not have). Returns the names kept."""
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    # read from the flows' source, not imported: flows (whose bundle step deploys releases)
    # sit above bundles, and a lower layer never imports a higher one
    schemas = {entrypoint: parameter_schema_from_entrypoint(entrypoint).model_dump_for_openapi()
               for entrypoint in {plan.entrypoint for plan in plans}}
    with _client() as client:
        flow_ids = {flow: client.create_flow_from_name(flow) for flow in {p.flow for p in plans}}
        for plan in plans:
            deployment_id = client.create_deployment(
                flow_id=flow_ids[plan.flow],
                name=plan.name,
                version=plan.version,
                description=_description(plan, project, workspace),
                schedules=_schedules(plan),
                paused=plan.paused,
                parameters=plan.parameters,
                work_pool_name=plan.work_pool,
                tags=list(plan.tags),
                entrypoint=plan.entrypoint,
                path=str(plan.project_path),
                pull_steps=[{"prefect.deployments.steps.set_working_directory": {
                    "directory": str(plan.project_path)}}],
                parameter_openapi_schema=schemas[plan.entrypoint],
                enforce_parameter_schema=True,
            )
            if plan.flow == FLOW_NAME:
                _sync_automation(client, deployment_id, plan)
        keep = {plan.name for plan in plans}
        for deployment in _existing(client, workspace, project):
            if deployment.name not in keep:
                client.delete_resource_owned_automations(f"prefect.deployment.{deployment.id}")
                client.delete_deployment(deployment.id)
    return sorted(keep)


def _description(plan: DeploymentPlan, project: str, workspace: str) -> str:
    what = (f"Polls trigger {plan.trigger!r} of scenario {plan.scenario!r}"
            if plan.flow == POLL_FLOW_NAME
            else f"Scenario {plan.scenario!r} of {project}, trigger {plan.trigger!r}")
    return f"{what}, release {plan.version} of workspace {workspace!r} (scenarist)."


def _schedules(plan: DeploymentPlan) -> list[Any]:
    from prefect.client.schemas.actions import DeploymentScheduleCreate

    if not plan.scheduled:
        return []
    return [DeploymentScheduleCreate(schedule=_schedule(plan.trigger_spec), active=True)]


def _sync_automation(client, deployment_id, plan: DeploymentPlan) -> None:
    """The Prefect automation of an `event` trigger (replacing the deployment's own ones)."""
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    client.delete_resource_owned_automations(f"prefect.deployment.{deployment_id}")
    event = plan.trigger_spec.event
    if event is None:
        return
    trigger = DeploymentEventTrigger(
        name=f"{plan.name} (scenarist event trigger)",
        description=f"Runs scenario {plan.scenario!r} when {event.match!r} is seen.",
        enabled=not plan.paused,
        expect={event.match},
        match=dict(event.where),
        match_related=dict(event.related) if event.related else {},
        parameters={**plan.parameters, "variables": dict(event.variables)},
    )
    trigger.set_deployment_id(deployment_id)
    client.create_automation(trigger.as_automation())


def read_deployments(workspace: str, project: str) -> list[Any]:
    """The Prefect deployments of `project` in `workspace` (DeploymentResponse objects)."""
    with _client() as client:
        return _existing(client, workspace, project)


def _existing(client, workspace: str, project: str) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    tags = DeploymentFilterTags(all_=base_tags(workspace, project))
    return list(client.read_deployments(deployment_filter=DeploymentFilter(tags=tags)))


def _schedule(trigger: TriggerSpec):
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if trigger.cron is not None:
        return CronSchedule(cron=trigger.cron, timezone=trigger.timezone or "UTC")
    polling = trigger.polling
    seconds = polling.seconds if polling is not None else trigger.interval_seconds
    assert seconds is not None
    return IntervalSchedule(interval=timedelta(seconds=seconds),
                            timezone=trigger.timezone or "UTC")


class _client:
    """A sync Prefect client whose connection errors become a BundleError."""

    def __enter__(self):
        from prefect.client.orchestration import get_client

        self._inner = get_client(sync_client=True)
        try:
            return self._inner.__enter__()
        except Exception as exc:  # noqa: BLE001 - any failure to reach the API
            raise _unreachable(exc) from exc

    def __exit__(self, *exc_info):
        return self._inner.__exit__(*exc_info)


def _unreachable(exc: Exception) -> BundleError:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or "the ephemeral API"
    return BundleError(f"cannot reach the Prefect API at {url} ({exc}); start it (prefect "
                       "server start) or set PREFECT_API_URL")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
