"""Bundles tests: a design project in two versions (v1 without the drift scenario, v3 with it),
an automation workspace in a temp folder, and a work pool on the real Prefect API."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from pathlib import Path

import pytest
import yaml

V1_SCENARIO = """\
  Evaluate quarter:
    variables: {quarter: "2017Q2"}
    triggers: [{name: weekly, cron: "0 7 * * 1", timezone: Europe/Paris}]
    steps:
      - {name: Build MES, type: build_evaluation, store: the_MES}
"""


def use_version(project: Path, version: str) -> None:
    """Rewrite the design project's scenarios as they are in `version` ("v1" or "v3")."""
    file = project / "scenarist.yaml"
    original = project.parent / "original-scenarist.yaml"  # outside the project
    if not original.exists():
        original.write_text(file.read_text())
    head, tail = original.read_text().split("scenarios:\n")
    monitor = re.search(r"^  Data drift monitor:\n(?:(?!  \S).*\n)*", tail, re.M)[0]
    file.write_text(head + "scenarios:\n" + V1_SCENARIO + (monitor if version == "v3" else ""))


@pytest.fixture
def design(project_copy: Path) -> Path:
    """The example project as v1 (scenario "Evaluate quarter" only)."""
    use_version(project_copy, "v1")
    return project_copy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_workspace(design: Path, root: Path, *, store_url: str = "sqlite:///store/prod.db",
                    name: str = "automation", work_pool: str = "bundles-pool") -> Path:
    """workspaces/<name>.yaml of the design project; returns the file."""
    folder = design / "workspaces"
    folder.mkdir(exist_ok=True)
    file = folder / f"{name}.yaml"
    file.write_text(yaml.safe_dump({
        "root": str(root),
        "work_pool": work_pool,
        "connections": {
            "store": {"url": store_url},
            "mail": {"host": "127.0.0.1", "port": free_port(), "sender": "prod@example.com"},
        },
        "tags": ["production"],
    }))
    return file


@pytest.fixture
def automation(design: Path, tmp_path: Path, work_pool: str) -> Path:
    """The automation workspace's config file (root: a temp folder, store: SQLite there).
    Named automation-<random> so tests sharing the session's Prefect API never meet."""
    name = f"automation-{uuid.uuid4().hex[:6]}"
    return write_workspace(design, tmp_path / "automation", name=name, work_pool=work_pool)


@pytest.fixture(scope="session")
def work_pool(prefect_api) -> str:
    """A process work pool on the test Prefect API."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    name = f"bundles-{uuid.uuid4().hex[:6]}"

    async def create():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))

    asyncio.run(create())
    return name


def deployments_of(workspace: str, project: str = "fraud-monitoring") -> dict:
    """{name: DeploymentResponse} of the project's Prefect deployments in the workspace."""
    from scenarist.bundles.prefect_deployments import read_deployments

    return {d.name: d for d in read_deployments(workspace, project)}
