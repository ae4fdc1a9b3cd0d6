"""The tutorial, end to end on a real Prefect API: v1 deployed to an automation workspace, v3
("adds scenario for monitoring data drift") diffed and deployed as an update, its Prefect
deployment read back and run from the API against the remapped store, then rolled back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import prefect.settings
from prefect import get_client
from typer.testing import CliRunner

from scenarist.bundles import Registry, Workspace, load_workspace, rollback
from scenarist.bundles.workspace import deployed_where
from scenarist.cli import app
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_runs
from tests.bundles.conftest import deployments_of, use_version

runner = CliRunner()


def cli(*args: str, project: Path) -> str:
    result = runner.invoke(app, [*args, "--project", str(project)])
    assert result.exit_code == 0, result.output
    return result.output


def test_tutorial_v1_then_v3_update_run_and_rollback(design, automation, tmp_path):
    ws = automation.stem
    data = ["--include-data", "transactions_train", "--include-data", "transactions_batch"]
    cli("bundle", "create", "v1", "--notes", "first release", *data, project=design)
    cli("bundle", "publish", "v1", project=design)
    output = cli("bundle", "deploy", "v1", "--to", ws, project=design)
    assert "deployed" in output and "release v1" in output

    space = Workspace(load_workspace(ws, design))
    assert space.active_version() == "v1"
    (weekly,) = deployments_of(ws).values()
    assert weekly.parameters["scenario"] == "Evaluate quarter"
    assert "bundle:v1" in weekly.tags

    use_version(design, "v3")
    cli("bundle", "create", "v3", "--notes", "adds scenario for monitoring data drift", *data,
        project=design)
    cli("bundle", "publish", "v3", project=design)
    diff = cli("bundle", "diff", "v1", "v3", project=design)
    assert "~ scenarist.yaml" in diff
    assert "added scenario 'Data drift monitor'" in diff
    assert "added reporter 'Data drift monitor/Data drift warning'" in diff
    assert "Evaluate quarter" not in diff  # unchanged definitions are not listed

    output = cli("bundle", "deploy", "v3", "--to", ws, project=design)
    assert "updated" in output and "(was v1)" in output
    assert space.active_version() == "v3"
    assert os.readlink(space.root / "current") == "releases/v3"

    # the Prefect deployment of Data drift monitor, read back through the Prefect client
    deployments = deployments_of(ws)
    assert len(deployments) == 2
    monitor = next(d for d in deployments.values()
                   if d.parameters["scenario"] == "Data drift monitor")
    release_project = space.root / "releases" / "v3" / "project"
    assert [(s.schedule.cron, s.schedule.timezone) for s in monitor.schedules] == [
        ("0 6 1 */3 *", "UTC")]
    assert {"bundle:v3", f"workspace:{ws}", "project:fraud-monitoring", "production"} <= set(
        monitor.tags)
    assert monitor.version == "v3"
    assert monitor.parameters["project"] == str(release_project)
    assert monitor.work_pool_name == automation.read_text().split("work_pool: ")[1].split()[0]
    assert monitor.entrypoint == "scenarist.flows.scenario.scenario_flow"
    assert monitor.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
        "directory": str(release_project)}}]

    # the release's own scenarist.yaml carries the remapped store; running the deployment from
    # the API executes the scenario there and records it in the automation store
    released = load_project(release_project)
    assert released.connections["store"].url == f"sqlite:///{space.root}/store/prod.db"
    run_id = _run_deployment(monitor.id)
    runs = scenario_runs(project_engine(released), "Data drift monitor")
    (recorded,) = runs.itertuples()
    assert recorded.id == str(run_id)
    assert recorded.outcome == "WARNING"  # 2017Q4 has drifted
    assert recorded.trigger == "trigger-1"
    assert not (design / ".scenarist" / "store.db").exists()  # the design store was not used

    status = cli("bundle", "status", "--to", ws, project=design)
    assert "active release v3" in status and "update" in status and "deploy" in status
    listing = cli("bundle", "list", project=design)
    assert "v1" in listing and "v3" in listing
    assert deployed_where(design) == {"v1": [ws], "v3": [f"{ws} (active)"]}

    output = cli("bundle", "rollback", "--to", ws, project=design)
    assert "from v3 to v1" in output
    assert space.active_version() == "v1"
    (weekly,) = deployments_of(ws).values()  # Data drift monitor's deployment is gone
    assert weekly.parameters["scenario"] == "Evaluate quarter"
    assert "bundle:v1" in weekly.tags and weekly.version == "v1"
    assert [e.action for e in space.history()] == ["deploy", "update", "rollback"]
    registry = Registry.open(project_root=design)
    assert [b.version for b in registry.versions("fraud-monitoring")] == ["v1", "v3"]

    result = runner.invoke(app, ["bundle", "rollback", "--to", ws, "--project", str(design)])
    assert result.exit_code == 4
    assert "no earlier release to roll back to" in result.output
    assert rollback  # the Python API is the CLI's


def _run_deployment(deployment_id) -> str:
    async def create():
        async with get_client() as client:
            return (await client.create_flow_run_from_deployment(deployment_id)).id

    run_id = asyncio.run(create())
    env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "flow-run", "execute", str(run_id)],
        env=env, capture_output=True, text=True, timeout=300, cwd="/",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    async def state():
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).state

    assert asyncio.run(state()).is_completed()
    return run_id
