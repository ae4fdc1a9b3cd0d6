"""Bundles, the registry, workspaces and releases (DESIGN.md §9).

    create_bundle(project, "v3", notes=...)        -> Path of v3.tar.gz  (create.py)
    Registry.open(url).publish(path)               -> PublishedBundle    (registry.py)
    diff_bundles(v1_path, v3_path)                 -> BundleDiff         (diff.py)
    deploy_bundle(project_name, "v3", workspace)   -> Release            (deploy.py)
    rollback(workspace)                            -> Release
    create_and_deploy(project, "v4", notes, "automation") -> Release (the scenario step)

Modules: manifest (what a bundle is), archive (writing, verifying, extracting), create,
registry, workspace (config and on-disk state), remap, prefect_deployments, deploy, diff.
"""

from scenarist.bundles.archive import extract_archive, read_manifest, verify_archive
from scenarist.bundles.create import create_bundle
from scenarist.bundles.deploy import Release, create_and_deploy, deploy_bundle, rollback
from scenarist.bundles.diff import BundleDiff, DefinitionChange, diff_bundles
from scenarist.bundles.manifest import FileEntry, Manifest
from scenarist.bundles.registry import PublishedBundle, Registry
from scenarist.bundles.workspace import Workspace, WorkspaceConfig, load_workspace
from scenarist.errors import BundleError

__all__ = [
    "BundleDiff",
    "BundleError",
    "DefinitionChange",
    "FileEntry",
    "Manifest",
    "PublishedBundle",
    "Registry",
    "Release",
    "Workspace",
    "WorkspaceConfig",
    "create_and_deploy",
    "create_bundle",
    "deploy_bundle",
    "diff_bundles",
    "extract_archive",
    "load_workspace",
    "read_manifest",
    "rollback",
    "verify_archive",
]
