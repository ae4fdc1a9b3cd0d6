"""The issue's "Done when": a WARNING check's `scenarist.check.warning` event, matched by a
Prefect automation created through the API, starts a run of a second Prefect deployment (a
tiny `retrain` flow served by `flow.serve` in a subprocess), with the event's values as its
parameters. The session's Prefect test server runs the event persister, the reactive triggers
and the actions services (Prefect runs them in its ephemeral/test servers too)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from events_helpers import WARNING_CHECK, closed_port, make_project
from prefect import get_client
from prefect.automations import Automation
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.settings import PREFECT_API_URL

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.scenario import run_scenario

RETRAIN = '''
from prefect import flow


@flow(name="retrain")
def retrain(check: str = "manual", evaluation: str = "") -> str:
    return f"retrained after {check!r} on {evaluation!r}"


if __name__ == "__main__":
    retrain.serve(name="retrain")
'''


@pytest.fixture(scope="module")
def served(tmp_path_factory, prefect_api):
    """The `retrain` Prefect deployment, served by a subprocess polling every second."""
    folder = tmp_path_factory.mktemp("retrain")
    (folder / "retrain_flow.py").write_text(RETRAIN)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    process = subprocess.Popen([sys.executable, "retrain_flow.py"], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _deployment_id(timeout: float = 60.0):
    async def read():
        async with get_client() as client:
            try:
                return (await client.read_deployment_by_name("retrain/retrain")).id
            except Exception:  # noqa: BLE001 - not registered yet
                return None

    deadline = time.monotonic() + timeout
    while (found := asyncio.run(read())) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found is not None, "the retrain deployment was never served"
    return found


def _runs_of(deployment_id):
    async def read():
        async with get_client() as client:
            return await client.read_flow_runs(deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[deployment_id])))

    return asyncio.run(read())


def test_a_warning_check_event_runs_the_retrain_deployment(served, example_project,
                                                             tmp_path_factory):
    folder, name = make_project(example_project, tmp_path_factory.mktemp("drift") / "p",
                                smtp_port=closed_port())
    deployment_id = _deployment_id()
    automation = asyncio.run(Automation(
        name=f"{name}: drift → retrain",
        trigger=EventTrigger(
            expect={"scenarist.check.warning"},
            match={"scenarist.project": name, "scenarist.metric": "data_drift"},
            posture=Posture.Reactive, threshold=1, within=timedelta(0)),
        actions=[RunDeployment(source="selected", deployment_id=deployment_id, parameters={
            "check": "{{ event.payload.check }}",
            "evaluation": "{{ event.resource['scenarist.evaluation'] }}"})],
    ).acreate())
    assert automation.id is not None
    assert _runs_of(deployment_id) == []

    started = time.perf_counter()
    assert run_scenario(folder, "Checks").outcome is StepOutcome.WARNING
    deadline = time.monotonic() + 60
    while not (runs := _runs_of(deployment_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    created = time.perf_counter() - started
    assert len(runs) == 1, "the automation started no run of the retrain deployment"
    assert runs[0].parameters == {"check": WARNING_CHECK, "evaluation": "2017Q4"}

    while not runs[0].state.is_final() and time.monotonic() < deadline:  # the server ran it
        time.sleep(0.5)
        runs = _runs_of(deployment_id)
    print(f"\nscenario + automation → retrain run created in {created:.1f} s, "
          f"{runs[0].state.name} after {time.perf_counter() - started:.1f} s; "
          f"load {os.getloadavg()}")
    assert runs[0].state.is_completed(), runs[0].state
    assert len(_runs_of(deployment_id)) == 1  # one event, one run

    async def delete():  # the session's server outlives this module
        async with get_client() as client:
            await client.delete_automation(automation.id)

    asyncio.run(delete())


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example(kind: str) -> str:
    """The ```kind block of README's "data_drift ERROR → retrain" example holding a trigger."""
    section = README.read_text().split("### Example: data_drift ERROR")[1].split("\n## ")[0]
    blocks = re.findall(rf"```{kind}\n(.*?)```", section, flags=re.S)
    return next(b for b in blocks if "scenarist.check.error" in b)


def test_the_readme_drift_to_retrain_example_creates_its_automation(served):
    deployment_id = _deployment_id()
    exec(compile(_readme_example("python"), "README.md", "exec"), {"__name__": "readme"})

    async def created():
        async with get_client() as client:
            (found,) = await client.read_automations_by_name("data_drift ERROR → retrain")
            await client.delete_automation(found.id)  # no test's ERROR may start it later
            return found

    automation = asyncio.run(created())
    assert automation.trigger.expect == {"scenarist.check.error"}
    assert automation.trigger.match.root["scenarist.metric"] == "data_drift"
    assert automation.actions[0].deployment_id == deployment_id

    (trigger,) = yaml.safe_load(_readme_example("yaml"))["deployments"][0]["triggers"]
    validated = DeploymentEventTrigger.model_validate(trigger)  # prefect.yaml's trigger schema
    assert validated.expect == automation.trigger.expect
    assert validated.match == automation.trigger.match
    assert validated.parameters == automation.actions[0].parameters
