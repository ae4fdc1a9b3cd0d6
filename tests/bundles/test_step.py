"""The `create_bundle_and_deploy` scenario step cuts, publishes and deploys a bundle."""

from __future__ import annotations

from scenarist.bundles import Registry, Workspace, load_workspace
from scenarist.checks.outcome import StepOutcome
from scenarist.flows.scenario import run_scenario
from tests.bundles.conftest import deployments_of

SHIP = """\
  Ship:
    steps:
      - name: Release
        type: create_bundle_and_deploy
        version: "auto-{{ scenarioRunId[:8] }}"
        notes: "shipped by {{ scenarioName }}"
        workspace: WORKSPACE
        include_data: [transactions_train]
"""


def test_a_scenario_ships_a_new_release(design, automation):
    file = design / "scenarist.yaml"
    file.write_text(file.read_text() + SHIP.replace("WORKSPACE", automation.stem))

    result = run_scenario(design, "Ship")

    assert result.outcome == StepOutcome.SUCCESS, result.log
    version = f"auto-{result.run_id[:8]}"
    (step,) = result.steps
    assert step.message == f"bundle {version} deployed to {automation.stem!r}"
    assert Workspace(load_workspace(automation.stem, design)).active_version() == version
    (published,) = Registry.open(project_root=design).versions("fraud-monitoring")
    assert published.manifest.notes == "shipped by Ship"
    (deployment,) = deployments_of(automation.stem).values()  # Ship has no trigger
    assert deployment.parameters["scenario"] == "Evaluate quarter"
    assert f"bundle:{version}" in deployment.tags
