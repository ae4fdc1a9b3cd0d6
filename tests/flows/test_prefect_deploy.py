"""prefect.yaml: `prefect deploy --all` registers the demo scenarios with their schedules, and
a custom run of a deployment (as "Run → Custom run" in the UI does) executes the scenario."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import prefect.settings
from prefect import get_client

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_runs

REPO = Path(__file__).resolve().parents[2]


def prefect_cli(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PWD": str(REPO),  # the pull step's working directory
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_deploy_all_then_a_custom_run_executes_the_scenario(prefect_api, project_copy):
    prefect_cli("work-pool", "create", "scenarist", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--all")

    async def deployed():
        async with get_client() as client:
            return {d.name: d for d in await client.read_deployments()}

    deployments = asyncio.run(deployed())
    monitor = deployments["data-drift-monitor"]
    assert monitor.entrypoint == "scenarist/flows/scenario.py:scenario_flow"
    assert monitor.work_pool_name == "scenarist"
    assert [(s.schedule.cron, s.schedule.timezone) for s in monitor.schedules] == [
        ("0 6 1 */3 *", "UTC")
    ]
    assert monitor.parameters["scenario"] == "Data drift monitor"

    async def custom_run():
        async with get_client() as client:
            run = await client.create_flow_run_from_deployment(
                monitor.id,
                parameters={"project": str(project_copy), "variables": {"quarter": "2017Q2"}},
            )
            return run.id

    run_id = asyncio.run(custom_run())
    prefect_cli("flow-run", "execute", str(run_id))

    async def final_state():
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).state

    assert asyncio.run(final_state()).is_completed()
    runs = scenario_runs(project_engine(load_project(project_copy)), "Data drift monitor")
    (recorded,) = runs.itertuples()
    assert recorded.id == str(run_id)
    assert recorded.outcome == "SUCCESS"  # Q2 has not drifted
    assert recorded.trigger == "quarterly"
    assert recorded.variables["quarter"] == "2017Q2"
