"""The bundle registry (the "Deployer"): where published bundles live, one folder per project.

    registry = Registry.open(url_or_folder)      # any fsspec URL; default .scenarist/registry
    registry.publish(Path("v3.tar.gz"))          # refuses v3 when it exists with other content
    registry.versions("fraud-monitoring")        # [PublishedBundle], oldest first
    registry.fetch("fraud-monitoring", "v3", to=folder)   # local copy, archive sha256 checked

Layout: `<registry>/<project>/<version>.tar.gz` and beside it `<version>.json` — the manifest,
the archive's sha256, who published it and when. The sha256 is checked again when a bundle is
fetched, so a bundle whose manifest and files were both rewritten is refused too.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import fsspec
from fsspec.core import url_to_fs

from scenarist.bundles.archive import verify_archive
from scenarist.bundles.manifest import Manifest
from scenarist.errors import BundleError

REGISTRY_ENV = "SCENARIST_BUNDLE_REGISTRY"


@dataclass(frozen=True)
class PublishedBundle:
    """A bundle in the registry."""

    manifest: Manifest
    sha256: str
    published_at: datetime
    published_by: str

    @property
    def version(self) -> str:
        return self.manifest.version


class Registry:
    """A folder (local or any fsspec URL) of published bundles."""

    def __init__(self, url: str):
        self.url = url
        self._fs, self._root = url_to_fs(url)

    @classmethod
    def open(cls, url: str | Path | None = None, *, project_root: Path | None = None) -> Registry:
        """`url`, else $SCENARIST_BUNDLE_REGISTRY, else `<project_root>/.scenarist/registry`."""
        chosen = url or os.environ.get(REGISTRY_ENV)
        if not chosen:
            chosen = (project_root or Path.cwd()) / ".scenarist" / "registry"
        return cls(str(chosen))

    def publish(self, archive: Path) -> PublishedBundle:
        """Copy a verified archive into the registry. Publishing the same bytes again is a
        no-op; the same version with other content is refused."""
        manifest = verify_archive(archive)
        digest = _sha256(archive)
        existing = self.get(manifest.project, manifest.version)
        if existing is not None:
            if existing.sha256 != digest:
                raise BundleError(
                    f"bundle {manifest.version} of {manifest.project!r} is already published "
                    f"with different content (sha256 {existing.sha256[:12]}…, created "
                    f"{existing.manifest.created_at:%Y-%m-%d %H:%M} by "
                    f"{existing.manifest.created_by}; yours {digest[:12]}…); versions are "
                    "immutable — create a new version"
                )
            return existing
        folder = f"{self._root}/{manifest.project}"
        self._fs.makedirs(folder, exist_ok=True)
        target = f"{folder}/{manifest.version}.tar.gz"
        self._fs.put_file(str(archive), target + ".partial")
        self._fs.mv(target + ".partial", target)
        published = PublishedBundle(manifest, digest, datetime.now(timezone.utc), _user())
        record = {"manifest": json.loads(manifest.to_json()), "sha256": digest,
                  "published_at": published.published_at.isoformat(),
                  "published_by": published.published_by}
        with self._fs.open(f"{folder}/{manifest.version}.json", "w") as handle:
            json.dump(record, handle, indent=2)
        return published

    def get(self, project: str, version: str) -> PublishedBundle | None:
        """The published bundle, or None."""
        path = f"{self._root}/{project}/{version}.json"
        if not self._fs.exists(path):
            return None
        with self._fs.open(path, "r") as handle:
            record = json.load(handle)
        return PublishedBundle(
            manifest=Manifest.model_validate(record["manifest"]),
            sha256=record["sha256"],
            published_at=datetime.fromisoformat(record["published_at"]),
            published_by=record["published_by"],
        )

    def versions(self, project: str) -> list[PublishedBundle]:
        """Every published bundle of `project`, oldest first."""
        folder = f"{self._root}/{project}"
        if not self._fs.exists(folder):
            return []
        names = [p.rsplit("/", 1)[-1] for p in self._fs.ls(folder, detail=False)]
        found = [self.get(project, n.removesuffix(".json")) for n in names if n.endswith(".json")]
        return sorted((b for b in found if b),
                      key=lambda b: (b.manifest.created_at, b.published_at))

    def fetch(self, project: str, version: str, *, to: Path) -> tuple[Path, PublishedBundle]:
        """Copy bundle `version` to the local folder `to`; check the archive's sha256."""
        published = self.get(project, version)
        if published is None:
            known = ", ".join(b.version for b in self.versions(project)) or "none"
            raise BundleError(
                f"bundle {version} of {project!r} is not in the registry {self.url}; published "
                f"versions: {known}. Publish it with `scenarist bundle publish {version}`"
            )
        to.mkdir(parents=True, exist_ok=True)
        local = to / f"{version}.tar.gz"
        self._fs.get_file(f"{self._root}/{project}/{version}.tar.gz", str(local))
        digest = _sha256(local)
        if digest != published.sha256:
            raise BundleError(
                f"bundle {version} in the registry {self.url} was modified after it was "
                f"published (sha256 {digest[:12]}…, published as {published.sha256[:12]}…); "
                "re-create it with a new version and publish that"
            )
        return local, published

    def __repr__(self) -> str:
        return f"Registry({self.url!r})"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with fsspec.open(str(path), "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
