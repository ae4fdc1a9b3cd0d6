"""Remapping: a bundled project made runnable in a workspace.

The bundle keeps connections by name only (`store: {}`). `remap_project` writes the workspace's
definition of each of them — and the workspace's variables over the project's — into the
release's own copy of `scenarist.yaml`, so the release folder is a complete project that
`load_project` and the Prefect flow read like any other. `${ENV_VAR}` references stay
unresolved in the file; they are resolved where the scenario runs. A relative SQLite path in the
workspace config is made absolute against the workspace root, so every release of a workspace
shares one store.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from scenarist.bundles.workspace import WorkspaceConfig
from scenarist.errors import ConfigError
from scenarist.project.config import PROJECT_FILE

_RELATIVE_SQLITE = re.compile(r"^(sqlite(?:\+\w+)?:///)(?!/)(.+)$")


def remap_project(project_folder: Path, workspace: WorkspaceConfig, version: str) -> Path:
    """Rewrite `project_folder/scenarist.yaml` with the workspace's connections and variables.

    ConfigError when the workspace does not define a connection the project names."""
    file = project_folder / PROJECT_FILE
    raw = yaml.safe_load(file.read_text()) or {}
    names = list(raw.get("connections") or {})
    missing = [name for name in names if name not in workspace.connections]
    if missing:
        raise ConfigError(
            f"workspace {workspace.name!r} does not define connection(s) {', '.join(missing)} "
            f"that project {raw.get('project')!r} uses; add them under `connections:` in "
            f"{workspace.file} (bundles keep connections by name only)"
        )
    raw["connections"] = {name: connection_values(workspace, name) for name in names}
    if workspace.variables:
        raw["variables"] = {**(raw.get("variables") or {}), **workspace.variables}
    header = (f"# Release {version} in workspace {workspace.name!r}: connections and variables "
              f"remapped from {workspace.file}.\n")
    file.write_text(header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return file


def connection_values(workspace: WorkspaceConfig, name: str) -> dict:
    """The workspace's connection `name` as YAML values (env references kept as written)."""
    values = workspace.connections[name].model_dump(exclude_none=True, exclude_defaults=True)
    url = values.get("url")
    if url:
        match = _RELATIVE_SQLITE.match(url)
        if match and not match[2].startswith((":memory:", "file:")):
            values["url"] = f"{match[1]}{(workspace.root / match[2]).as_posix()}"
    return values
