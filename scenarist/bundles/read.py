"""Reading a bundle's definitions without deploying it (backtests, diffs).

    archive = locate_bundle(project, "v3", registry=None, temp=folder)   # local, else fetched
    raw = bundle_project_file(archive)             # its scenarist.yaml as a mapping
    old = with_bundle_checks(project, "v3")        # the project, with v3's checks and scenarios

A bundle is looked up in the project's own bundles folder (`.scenarist/bundles/`, where
`bundle create` writes it), then in the registry (`--registry`, $SCENARIST_BUNDLE_REGISTRY, else
`.scenarist/registry`), and verified before it is read. A bundle keeps connections by name only
and usually no data, so it cannot be loaded as a project by itself: `with_bundle_checks` puts
its checks, scenarios and variables on the current project, whose connections, stores and
datasets stay as they are — what a backtest of an older (or newer) version of the checks
needs. (A python check of the bundle imports its module from the current project folder.)
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scenarist.bundles.archive import verify_archive
from scenarist.bundles.create import bundles_folder
from scenarist.bundles.manifest import PROJECT_DIR
from scenarist.bundles.registry import Registry
from scenarist.errors import BundleError
from scenarist.project.config import PROJECT_FILE, Project

#: what `with_bundle_checks` takes from a bundle
DEFINITIONS = ("checks", "scenarios", "variables")


def locate_bundle(project: Project, version: str, registry: str | None, temp: Path) -> Path:
    """The local archive of bundle `version`, else a copy fetched from the registry into
    `temp` (BundleError listing the published versions when it is in neither)."""
    local = bundles_folder(project) / f"{version}.tar.gz"
    if local.is_file():
        return local
    source = Registry.open(registry, project_root=project.root)
    path, _ = source.fetch(project.project, version, to=temp / version)
    return path


def bundle_project_file(archive: Path) -> dict[str, Any]:
    """The scenarist.yaml of a (verified) bundle archive, parsed."""
    verify_archive(archive)
    with tarfile.open(archive, "r:gz") as tar:
        stream = tar.extractfile(f"{PROJECT_DIR}/{PROJECT_FILE}")
        raw = yaml.safe_load(stream.read()) if stream else {}
    return raw or {}


def with_bundle_checks(project: Project, version: str, registry: str | None = None) -> Project:
    """`project` with the checks, scenarios and variables of its bundle `version`."""
    with tempfile.TemporaryDirectory(prefix="scenarist-bundle-") as temp:
        bundled = bundle_project_file(locate_bundle(project, version, registry, Path(temp)))
    assert project.file is not None
    raw = yaml.safe_load(project.file.read_text()) or {}
    raw.update({name: bundled.get(name) or {} for name in DEFINITIONS})
    try:
        return Project.model_validate({**raw, "root": project.root, "file": project.file})
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                          for e in exc.errors()[:5])
        raise BundleError(f"the checks and scenarios of bundle {version} do not fit the current "
                          f"project ({where}); was a store or connection renamed since?") from None
