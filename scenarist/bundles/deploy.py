"""Deploy, update and roll back releases of a bundle in a workspace.

    release = deploy_bundle("fraud-monitoring", "v3", load_workspace("automation"))
    release = rollback(load_workspace("automation"))
    release = create_and_deploy(project, "v4", "notes", "automation")   # the scenario step

A deploy runs in this order, under the workspace's lock, and any refusal before the last step
leaves the active release and its Prefect deployments exactly as they were:

    1. the Prefect API is reachable and has the workspace's work pool
    2. fetch the bundle (registry: archive sha256 checked) and verify every member and checksum
    3. extract into releases/.staging-… with tarfile's "data" filter
    4. remap connections and variables (remap.py); validate the project (templates render)
    5. reach every store the project uses and run its migrations; the workspace's promotion
       gates (gates.py) pass, or are overridden with a reason
    6. move the release into releases/<version>
    7. create/update one Prefect deployment per scenario trigger; delete the project's others
       (on failure: the previous release's Prefect deployments are registered again)
    8. point `current` at the release (os.replace of a symlink) and append to history.json
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scenarist.bundles.archive import verify_archive
from scenarist.bundles.create import create_bundle
from scenarist.bundles.manifest import check_version
from scenarist.bundles.prefect_deployments import (
    check_work_pool,
    plan_deployments,
    sync_deployments,
)
from scenarist.bundles.registry import Registry
from scenarist.bundles.remap import remap_project
from scenarist.bundles.workspace import Event, Workspace, WorkspaceConfig, load_workspace
from scenarist.errors import BundleError, ConfigError, ScenaristError, StoreError
from scenarist.project.config import Project
from scenarist.stores.database import connect
from scenarist.validation import load_project


@dataclass(frozen=True)
class Release:
    """A release made active in a workspace by a deploy, update or rollback."""

    workspace: str
    version: str
    previous: str | None
    action: str
    project_path: Path
    prefect_deployments: list[str]
    gates: tuple[str, ...] = ()  # each promotion gate's line (gates.py)
    override_reason: str | None = None  # set when failed gates were overridden


def deploy_bundle(
    project: str,
    version: str,
    workspace: WorkspaceConfig,
    *,
    registry: Registry | None = None,
    archive: Path | None = None,
    design: Project | None = None,
    override_reason: str | None = None,
) -> Release:
    """Install bundle `version` of `project` (from `registry`, or the local `archive`) into
    `workspace` and make it the active release. BundleError/ConfigError on any refusal, with the
    previous release still active.

    The workspace's promotion gates (gates.py; `design`: the design project whose runs
    `design_runs_ok` counts) must pass, unless `override_reason` says why to deploy anyway: it
    is kept in the release history with who deployed."""
    check_version(version)
    if override_reason is not None and not override_reason.strip():
        raise ConfigError("overriding the promotion gates needs a reason, e.g. --reason "
                          '"accepted: more pages during the migration"')
    space = Workspace(workspace)
    registry = registry or Registry.open(workspace.registry)
    with space.lock():
        previous = space.active_version()
        keep = f"release {previous} remains active" if previous else "nothing was activated"
        with tempfile.TemporaryDirectory(prefix="scenarist-bundle-") as temp:
            try:
                check_work_pool(workspace.work_pool)
                if archive is not None:
                    local, source, digest = archive, str(archive), _sha256(archive)
                else:
                    local, published = registry.fetch(project, version, to=Path(temp))
                    source, digest = registry.url, published.sha256
                manifest = verify_archive(local)
                if (manifest.project, manifest.version) != (project, version):
                    raise BundleError(f"{local.name} holds {manifest.project!r} "
                                      f"{manifest.version}, not {project!r} {version}")
                _refuse_other_content(space, version, digest)
                if previous == version:
                    raise BundleError(f"{version} is already the active release of workspace "
                                      f"{space.name!r}; deploy a new version to change it")
                staging = space.staging(version)
                try:
                    _build(local, staging, workspace, version, digest)
                    gates, overridden = _gates(space, staging / "project", previous, design,
                                               override_reason)
                    space.install(staging, version)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
            except ScenaristError as exc:
                raise _refused(exc, version, space.name, keep) from exc
        loaded = load_project(space.project_path(version))
        names = _register(space, loaded, version, previous, keep)
        action = "update" if previous else "deploy"
        event = _event(action, version, previous, source, digest, names)
        space.activate(version, event.model_copy(update={"gates": list(gates),
                                                         "override_reason": overridden}))
    return Release(space.name, version, previous, action, space.project_path(version), names,
                   tuple(gates), overridden)


def _gates(space: Workspace, staged: Path, previous: str | None, design: Project | None,
           override_reason: str | None) -> tuple[list[str], str | None]:
    """The workspace's promotion gates on the staged release: their lines, and the override
    reason when some failed (GateRefusal when some failed and there is none)."""
    if space.config.gates is None:
        return [], None
    from scenarist.bundles.gates import GateRefusal, evaluate_gates

    active = load_project(space.project_path(previous)) if previous else None
    results = evaluate_gates(space.config.gates, load_project(staged), active, design)
    failed = [r for r in results if not r.passed]
    if failed and override_reason is None:
        raise GateRefusal(results)
    return [r.line for r in results], override_reason if failed else None


def rollback(workspace: WorkspaceConfig, *, to: str | None = None) -> Release:
    """Re-activate the release that was active before the current one (or release `to`) and
    re-register its Prefect deployments."""
    space = Workspace(workspace)
    with space.lock():
        active = space.active_version()
        if active is None:
            raise BundleError(f"workspace {space.name!r} has no active release; nothing to roll "
                              "back")
        target = to or space.rollback_target()
        if target is None:
            raise BundleError(f"release {active} is the first deployed to workspace "
                              f"{space.name!r}; there is no earlier release to roll back to")
        if target not in space.installed():
            raise BundleError(f"release {target} is not installed in workspace {space.name!r}; "
                              f"installed: {', '.join(space.installed()) or 'none'}")
        if target == active:
            raise BundleError(f"release {target} is already active in {space.name!r}")
        check_work_pool(workspace.work_pool)
        loaded = load_project(space.project_path(target))
        names = _register(space, loaded, target, active, f"release {active} remains active")
        manifest_digest = _release_digest(space, target)
        space.activate(target, _event("rollback", target, active, str(space.release_path(target)),
                                      manifest_digest, names))
    return Release(space.name, target, active, "rollback", space.project_path(target), names)


def create_and_deploy(
    project: Project,
    version: str,
    notes: str,
    workspace: str | WorkspaceConfig,
    *,
    include_data: list[str] | tuple[str, ...] = (),
    registry: Registry | None = None,
) -> Release:
    """Create bundle `version` of `project`, publish it and deploy it to `workspace`."""
    config = (workspace if isinstance(workspace, WorkspaceConfig)
              else load_workspace(workspace, project.root))
    registry = registry or Registry.open(config.registry, project_root=project.root)
    archive = create_bundle(project, version, notes=notes, include_data=include_data)
    registry.publish(archive)
    return deploy_bundle(project.project, version, config, registry=registry, design=project)


def _build(archive: Path, staging: Path, workspace: WorkspaceConfig, version: str,
           digest: str) -> None:
    """Extract, remap, validate and connect the stores of a release in `staging`."""
    from scenarist.bundles.archive import extract_archive

    extract_archive(archive, staging)
    (staging / "bundle.sha256").write_text(digest + "\n")
    remap_project(staging / "project", workspace, version)
    loaded = load_project(staging / "project")
    for name in _store_connections(loaded):
        connection = loaded.connections.get(name)
        connect(connection.resolved_url() if connection else None, loaded.root)


def _store_connections(project: Project) -> list[str]:
    names = {"store"} | {spec.connection for spec in project.evaluation_stores.values()}
    return sorted(name for name in names
                  if name in project.connections and project.connections[name].kind == "sql")


def _register(space: Workspace, loaded: Project, version: str, previous: str | None,
              keep: str) -> list[str]:
    plans = plan_deployments(loaded, space.config, version, space.project_path(version))
    try:
        return sync_deployments(plans, space.name, loaded.project)
    except Exception as exc:  # noqa: BLE001 - put the previous deployments back, then report
        restored = "and the previous Prefect deployments could not be restored"
        try:
            if previous is not None:
                before = load_project(space.project_path(previous))
                sync_deployments(plan_deployments(before, space.config, previous,
                                                  space.project_path(previous)),
                                 space.name, loaded.project)
            restored = "previous Prefect deployments restored"
        except Exception:  # noqa: BLE001, S110 - the original error is the one to report
            pass
        raise BundleError(f"registering the Prefect deployments of {version} failed: {exc}; "
                          f"{restored} ({keep})") from exc


def _refuse_other_content(space: Workspace, version: str, digest: str) -> None:
    installed = _release_digest(space, version)
    if installed is not None and installed != digest:
        raise BundleError(
            f"workspace {space.name!r} already has a release {version} from a different bundle "
            f"(sha256 {installed[:12]}…, this one {digest[:12]}…); versions are immutable — "
            "deploy a new version"
        )


def _release_digest(space: Workspace, version: str) -> str | None:
    file = space.release_path(version) / "bundle.sha256"
    return file.read_text().strip() if file.is_file() else None


def _refused(exc: ScenaristError, version: str, workspace: str, keep: str) -> ScenaristError:
    message = f"deploy of {version} to {workspace!r} refused: {exc}\n({keep})"
    if isinstance(exc, ConfigError):
        return ConfigError(message)
    if isinstance(exc, StoreError):
        return StoreError(message)
    return BundleError(message)


def _event(action, version, previous, source, digest, names) -> Event:
    from scenarist.bundles.create import _user

    return Event(action=action, version=version, previous=previous,
                 at=datetime.now(timezone.utc), by=_user(), host=socket.gethostname(),
                 source=source, bundle_sha256=digest, prefect_deployments=names)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
