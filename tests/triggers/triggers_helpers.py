"""Helpers of the trigger tests (imported by name: tests are not a package)."""

from __future__ import annotations

from pathlib import Path

from scenarist.project.config import load_project
from scenarist.stores.database import project_engine
from scenarist.stores.runs import scenario_runs

__all__ = ["add_scenarios", "runs_of", "set_store"]


def add_scenarios(project: Path, text: str) -> None:
    """Append scenarios (YAML indented by two spaces) to the project's `scenarios:`."""
    file = project / "scenarist.yaml"
    file.write_text(file.read_text() + text)


def set_store(project: Path, url: str) -> None:
    """Point the project's store connection at `url`."""
    file = project / "scenarist.yaml"
    text = file.read_text().replace('store: {url: "sqlite:///.scenarist/store.db"}',
                                    f'store: {{url: "{url}"}}')
    file.write_text(text)


def runs_of(project: Path, scenario: str):
    """The recorded runs of `scenario`, newest first."""
    return scenario_runs(project_engine(load_project(project)), scenario)
