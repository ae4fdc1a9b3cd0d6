"""Workspaces: where a project runs, with its own connections — config and state on disk.

A workspace config, `<project>/workspaces/<name>.yaml`:

    root: /srv/scenarist/automation   # releases live here; relative = to this file's folder
    work_pool: scenarist              # Prefect work pool of the scenarios' Prefect deployments
    connections:                      # every connection the project names, for this workspace
      store: {url: "postgresql://monitor:${PGPASSWORD}@db.prod/monitoring"}
      mail:  {host: smtp.prod.example.com, port: 25, sender: mlops@example.com}
    variables: {environment: production}   # override the project's variables
    tags: [production]                     # extra tags on the Prefect deployments
    gates: {backtest_max_alerts_per_month: 4, design_runs_ok: 3, no_new_errors: true}
                                           # promotion gates (gates.py), enforced by deploy

Its state, under `root`:

    releases/<version>/manifest.json      one folder per installed bundle (never modified
    releases/<version>/project/…          once active); project/ is the project to run
    current -> releases/<version>         the active release: a symlink swapped by os.replace
    history.json                          every deploy/update/rollback, written atomically
                                          (with the gates' results, and who overrode them why)
    .lock                                 held (flock) while a deploy or rollback runs
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scenarist.bundles.gates import Gates
from scenarist.errors import BundleError, ConfigError, ConfigProblem
from scenarist.project.config import Connection

WORKSPACES_DIR = "workspaces"


class WorkspaceConfig(BaseModel):
    """The contents of `workspaces/<name>.yaml`."""

    model_config = ConfigDict(extra="forbid")

    root: Path = Field(description="Folder of the workspace's releases; relative to the file.")
    work_pool: str = Field("scenarist", description="Prefect work pool of the scenarios.")
    connections: dict[str, Connection] = Field(
        default_factory=dict,
        description="Connections by name, replacing the project's; values may use ${ENV_VAR}.",
    )
    variables: dict[str, Any] = Field(
        default_factory=dict, description="Variables overriding the project's."
    )
    tags: list[str] = Field(default_factory=list, description="Extra Prefect deployment tags.")
    registry: str | None = Field(None, description="Bundle registry URL (default: the CLI's).")
    gates: Gates | None = Field(None, description="Promotion gates `bundle deploy` enforces "
                                "before it activates a version (scenarist.bundles.gates).")
    name: str = Field("", exclude=True, description="Workspace name (the file's stem).")
    file: Path | None = Field(None, exclude=True, description="The config file.")


class Event(BaseModel):
    """One line of a workspace's history."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["deploy", "update", "rollback"]
    version: str
    previous: str | None
    at: datetime
    by: str
    host: str
    source: str = Field(description="Registry URL or archive path the bundle came from.")
    bundle_sha256: str | None = None
    prefect_deployments: list[str] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list, description="Each promotion gate's line.")
    override_reason: str | None = Field(None, description="Why `by` deployed over failed gates.")


def load_workspace(name_or_file: str | Path, project_root: Path | None = None) -> WorkspaceConfig:
    """The workspace `name` (`<project_root>/workspaces/<name>.yaml`) or a config file path."""
    candidate = Path(name_or_file)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        file = candidate
    else:
        folder = (project_root or Path.cwd()) / WORKSPACES_DIR
        file = folder / f"{name_or_file}.yaml"
        if not file.is_file():
            known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
            raise ConfigError(
                f"no workspace {str(name_or_file)!r}: {file} does not exist; known workspaces: "
                f"{', '.join(known) or 'none'}. Create it (root, work_pool, connections)"
            )
    try:
        raw = yaml.safe_load(file.read_text()) or {}
        config = WorkspaceConfig.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(str(file), "", f"not valid YAML: {exc}")]) from None
    except ValidationError as exc:
        raise ConfigError([
            ConfigProblem(str(file), ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
        ]) from None
    root = config.root if config.root.is_absolute() else file.parent / config.root
    config = config.model_copy(update={"root": root.resolve(), "name": file.stem, "file": file})
    for cname, connection in config.connections.items():
        connection._name, connection._root, connection._file = cname, config.root, str(file)
    return config


class Workspace:
    """The on-disk state of a workspace: its releases, the active one, its history."""

    def __init__(self, config: WorkspaceConfig):
        self.config = config
        self.root = config.root
        self.releases = self.root / "releases"
        self.history_file = self.root / "history.json"

    @property
    def name(self) -> str:
        return self.config.name

    def release_path(self, version: str) -> Path:
        return self.releases / version

    def project_path(self, version: str) -> Path:
        """The project folder of an installed release (what Prefect deployments run)."""
        return self.release_path(version) / "project"

    def installed(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def active_version(self) -> str | None:
        """The version `current` points to, or None before the first deploy."""
        link = self.root / "current"
        if not link.is_symlink():
            return None
        return Path(os.readlink(link)).name

    def history(self) -> list[Event]:
        if not self.history_file.is_file():
            return []
        data = json.loads(self.history_file.read_text())
        return [Event.model_validate(e) for e in data.get("events", [])]

    def rollback_target(self) -> str | None:
        """The release active before the current one was deployed (None: nothing before)."""
        active = self.active_version()
        for event in reversed(self.history()):
            if event.version == active and event.action in ("deploy", "update"):
                return event.previous
        return None

    def staging(self, version: str) -> Path:
        """A fresh hidden folder under releases/ to build a release in (same file system, so
        it can be renamed into place)."""
        path = self.releases / f".staging-{version}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def install(self, staging: Path, version: str) -> Path:
        """Move a built release into releases/<version> (replacing an inactive older copy)."""
        target = self.release_path(version)
        if target.exists():
            if self.active_version() == version:
                raise BundleError(f"release {version} is active in workspace {self.name!r}; "
                                  "it cannot be replaced")
            trash = self.releases / f".trash-{version}-{uuid.uuid4().hex[:8]}"
            target.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        staging.rename(target)
        return target

    def activate(self, version: str, event: Event) -> None:
        """Point `current` at releases/<version> (atomically), then append `event`."""
        if not self.release_path(version).is_dir():
            raise BundleError(f"release {version} is not installed in workspace {self.name!r}")
        temp = self.root / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(Path("releases") / version, temp)
        os.replace(temp, self.root / "current")
        events = [e.model_dump(mode="json") for e in self.history()]
        events.append(event.model_dump(mode="json"))
        write_atomically(self.history_file,
                         json.dumps({"workspace": self.name, "events": events}, indent=2))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace's lock; a second deploy or rollback waits for the first."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, fsync it, then rename it over `path`."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(temp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def project_workspaces(project_root: Path) -> list[WorkspaceConfig]:
    """Every workspace config under `<project_root>/workspaces/`."""
    folder = project_root / WORKSPACES_DIR
    return [load_workspace(p) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []


def deployed_where(project_root: Path) -> dict[str, list[str]]:
    """{version: ["automation (active)", "staging", …]} over the project's workspaces."""
    where: dict[str, list[str]] = {}
    for config in project_workspaces(project_root):
        space = Workspace(config)
        active = space.active_version()
        for version in space.installed():
            label = f"{space.name} (active)" if version == active else space.name
            where.setdefault(version, []).append(label)
    return where
