"""`scenarist bundle diff V1 V2`: what changed between two bundles of a project.

    d = diff_bundles(Path("v1.tar.gz"), Path("v3.tar.gz"))
    d.added_files, d.removed_files, d.changed_files    # from the manifests' checksums
    d.definitions   # [DefinitionChange("scenarios", "Data drift monitor", "added"), …]

Definitions are compared section by section (scenarios, checks, reporters — keyed
`<scenario>/<reporter>` —, evaluation stores, datasets, models) as parsed from each bundle's
scenarist.yaml, so reformatting the file alone shows as a changed file, not a changed definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scenarist.bundles.archive import verify_archive
from scenarist.bundles.manifest import Manifest

SECTIONS = ("scenarios", "checks", "reporters", "evaluation_stores", "datasets", "models")


@dataclass(frozen=True)
class DefinitionChange:
    """One definition added, removed or changed between two bundles."""

    section: str
    name: str
    change: Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class BundleDiff:
    """Differences from bundle `old` to bundle `new`."""

    old: Manifest
    new: Manifest
    added_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    definitions: list[DefinitionChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added_files or self.removed_files or self.changed_files
                    or self.definitions)


def diff_bundles(old: Path, new: Path) -> BundleDiff:
    """Compare two (verified) bundle archives."""
    before, after = verify_archive(old), verify_archive(new)
    old_files = {f.path: f.sha256 for f in before.files}
    new_files = {f.path: f.sha256 for f in after.files}
    changes: list[DefinitionChange] = []
    old_defs, new_defs = _definitions(old), _definitions(new)
    for section in SECTIONS:
        a, b = old_defs.get(section, {}), new_defs.get(section, {})
        changes += [DefinitionChange(section, n, "added") for n in b if n not in a]
        changes += [DefinitionChange(section, n, "removed") for n in a if n not in b]
        changes += [DefinitionChange(section, n, "changed") for n in a if n in b and a[n] != b[n]]
    return BundleDiff(
        old=before,
        new=after,
        added_files=sorted(set(new_files) - set(old_files)),
        removed_files=sorted(set(old_files) - set(new_files)),
        changed_files=sorted(p for p in old_files if p in new_files
                             and old_files[p] != new_files[p]),
        definitions=changes,
    )


def _definitions(archive: Path) -> dict[str, dict[str, Any]]:
    from scenarist.bundles.read import bundle_project_file

    raw = bundle_project_file(archive)
    sections = {name: dict(raw.get(name) or {}) for name in SECTIONS if name != "reporters"}
    reporters: dict[str, Any] = {}
    for scenario, spec in sections["scenarios"].items():
        for position, reporter in enumerate((spec or {}).get("reporters") or []):
            name = reporter.get("name") or f"reporter {position + 1}"
            reporters[f"{scenario}/{name}"] = reporter
    sections["reporters"] = reporters
    return sections
