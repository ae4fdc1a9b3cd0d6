"""A release's triggers on a real Prefect API: a poller deployment per polling trigger that
starts the scenario's Prefect deployment with the file's variables, an automation per event
trigger, and pause/resume through Prefect's deployment pause."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from triggers_helpers import add_scenarios

import scenarist.triggers as triggers
from scenarist.bundles.prefect_deployments import (
    plan_deployments,
    read_deployments,
    sync_deployments,
)
from scenarist.bundles.workspace import WorkspaceConfig
from scenarist.project.config import load_project
from scenarist.triggers.flow import trigger_flow

SCENARIOS = """
  On new batch:
    triggers:
      - {name: new batch, dataset_changed: {dataset: transactions_batch, every: 5m}}
      - {name: on drift, event: {match: "scenarist.check.*", where: {scenarist.store: the_MES}}}
    steps: [{name: note, type: set_variables, values: {seen: true}}]
  Dormant:
    auto_triggers: false
    triggers: [{cron: "0 5 * * *"}]
    steps: [{name: note, type: set_variables, values: {seen: true}}]
"""


@pytest.fixture
def released(prefect_api, project_copy: Path):
    add_scenarios(project_copy, SCENARIOS)
    q4 = project_copy / "data" / "transactions_2017Q4.parquet"
    data = q4.read_bytes()
    q4.unlink()
    pool = f"triggers-{uuid.uuid4().hex[:6]}"

    async def create_pool():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=pool, type="process"))

    asyncio.run(create_pool())
    workspace = WorkspaceConfig(root=project_copy, work_pool=pool, name=pool)
    project = load_project(project_copy)
    sync_deployments(plan_deployments(project, workspace, "v1", project_copy), pool,
                     project.project)
    return project_copy, pool, data


def test_a_release_polls_and_starts_the_scenario_deployment(released):
    project, workspace, data = released
    deployments = {d.name: d for d in read_deployments(workspace, "fraud-monitoring")}
    base = f"{workspace}.fraud-monitoring.on-new-batch.new-batch"
    poller, target = deployments[f"{base}.poll"], deployments[base]
    assert [s.schedule.interval.total_seconds() for s in poller.schedules] == [300]
    assert target.schedules == [] and poller.parameters["deployment"] == (
        f"scenarist-scenario/{base}")
    dormant = deployments[f"{workspace}.fraud-monitoring.dormant.trigger-1"]
    assert dormant.paused and not target.paused

    async def automations(name):
        async with get_client() as client:
            return await client.read_resource_related_automations(
                f"prefect.deployment.{deployments[name].id}")

    (automation,) = asyncio.run(automations(f"{workspace}.fraud-monitoring.on-new-batch.on-drift"))
    assert automation.trigger.expect == {"scenarist.check.*"} and automation.enabled

    assert trigger_flow(str(project), "On new batch", "new batch",
                        poller.parameters["deployment"])[0]["action"] == "baseline"
    (project / "data" / "transactions_2017Q4.parquet").write_bytes(data)
    started = [r for r in trigger_flow(str(project), "On new batch", "new batch",
                                       poller.parameters["deployment"])
               if r["action"] == "started"]
    assert [r["variables"] for r in started] == [{"quarter": "2017Q4"}]

    async def flow_run(run_id):
        async with get_client() as client:
            return await client.read_flow_run(run_id)

    run = asyncio.run(flow_run(started[0]["run_id"]))
    assert run.deployment_id == target.id
    assert run.parameters["variables"] == {"quarter": "2017Q4"}
    assert run.parameters["trigger"] == "new batch"

    paused = triggers.pause(project, "On new batch")
    assert set(paused.prefect_deployments) == {base, f"{base}.poll",
                                               f"{workspace}.fraud-monitoring.on-new-batch.on-drift"}
    assert paused.automations == 1
    again = {d.name: d for d in read_deployments(workspace, "fraud-monitoring")}
    assert again[f"{base}.poll"].paused
    (automation,) = asyncio.run(automations(f"{workspace}.fraud-monitoring.on-new-batch.on-drift"))
    assert not automation.enabled
    triggers.resume(project, "On new batch")
    again = {d.name: d for d in read_deployments(workspace, "fraud-monitoring")}
    assert not again[f"{base}.poll"].paused


def test_a_claim_left_by_a_dead_poller_is_started_once_through_the_deployment(released):
    """A claim without a run (its poller was killed) is started by the next poll through the
    scenario's deployment; the idempotency key makes a repeated start the same flow run."""
    from scenarist.stores.database import project_engine
    from scenarist.stores.trigger_state import TriggerKey, claim, last_change
    from scenarist.triggers.fingerprints import observe
    from scenarist.triggers.polling import _run_deployment

    project, workspace, data = released
    target = f"scenarist-scenario/{workspace}.fraud-monitoring.on-new-batch.new-batch"
    trigger_flow(str(project), "On new batch", "new batch", target)  # baseline
    (project / "data" / "transactions_2017Q4.parquet").write_bytes(data)
    loaded = load_project(project)
    engine = project_engine(loaded)
    key = TriggerKey("fraud-monitoring", "On new batch", "new batch")
    (seen,) = [o for o in observe(loaded, loaded.scenarios["On new batch"].triggers[0])
               if o.subject == "quarter=2017Q4"]
    seq = claim(engine, key, seen.subject, seen.fingerprint, seen.variables, after=None)
    (resumed,) = [r for r in trigger_flow(str(project), "On new batch", "new batch", target)
                  if r["subject"] == "quarter=2017Q4"]
    assert resumed["action"] == "started" and last_change(engine, key, seen.subject)[2] == (
        "started")
    assert _run_deployment(target, key, seen.subject, seq, seen.variables) == resumed["run_id"]
