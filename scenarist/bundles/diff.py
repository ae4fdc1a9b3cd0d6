"""`scenarist bundle diff V1 V2`: what changed between two bundles of a project.

    d = diff_bundles(Path("v1.tar.gz"), Path("v3.tar.gz"))
    d.added_files, d.removed_files, d.changed_files    # from the manifests' checksums
    d.definitions   # [DefinitionChange("scenarios", "Data drift monitor", "added"), …]
    d.definitions[i].details    # ("soft_max: 0.45 → 0.2",) for a changed definition

    impacts = bundle_impact(project, "v2", "v3", workspace)   # `bundle diff v2 v3 --impact`
    impacts[0].rows             # per evaluation of the target store: outcome_old/new, changed
    impacts[0].counts           # outcome counts before (_old), after (_new) and delta_
    impacts[0].alerts_per_month # month × (before, after): messages of the store's reporters

Definitions are compared section by section (scenarios, checks, reporters — keyed
`<scenario>/<reporter>` —, triggers — keyed by scenario —, evaluation stores, datasets,
models) as parsed from each bundle's scenarist.yaml, so reformatting the file alone shows as a
changed file, not a changed definition. The impact of the changed checks is the backtest
(`scenarist.operations.backtesting`) of each version's checks and scenarios over the target
workspace's stored history (its store connection; the design project's store without one).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from scenarist.bundles.archive import verify_archive
from scenarist.bundles.manifest import Manifest
from scenarist.project.config import PROJECT_FILE, Project

if TYPE_CHECKING:
    import pandas as pd

    from scenarist.bundles.workspace import WorkspaceConfig

SECTIONS = ("scenarios", "checks", "reporters", "triggers", "evaluation_stores", "datasets",
            "models")


@dataclass(frozen=True)
class DefinitionChange:
    """One definition added, removed or changed between two bundles."""

    section: str
    name: str
    change: Literal["added", "removed", "changed"]
    details: tuple[str, ...] = ()  # of a changed definition: "soft_max: 0.45 → 0.2", …


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
        if section == "triggers":  # of a scenario in both: an added scenario says it all
            a, b = ({n: v for n, v in d.items() if n in a and n in b} for d in (a, b))
        changes += [DefinitionChange(section, n, "added") for n in b if n not in a]
        changes += [DefinitionChange(section, n, "removed") for n in a if n not in b]
        changes += [DefinitionChange(section, n, "changed", _details(a[n], b[n]))
                    for n in a if n in b and a[n] != b[n]]
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
    sections["triggers"] = {scenario: (spec or {}).get("triggers") or []
                            for scenario, spec in sections["scenarios"].items()}
    return sections


def _details(old: Any, new: Any) -> tuple[str, ...]:
    """What changed inside a definition: one "key: old → new" per key (whole values when they
    are not mappings)."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return (f"{_short(old)} → {_short(new)}",)
    keys = [*old, *(k for k in new if k not in old)]
    return tuple(f"{k}: {_short(old.get(k))} → {_short(new.get(k))}"
                 for k in keys if old.get(k) != new.get(k))


def _short(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


@dataclass(frozen=True)
class CheckImpact:
    """A changed check's backtest under each version over the target store's history."""

    check: str
    store: str
    change: str  # added, removed, changed
    rows: pd.DataFrame  # per (segment ×) evaluation: time, outcome_old, outcome_new, changed
    counts: pd.DataFrame  # one row: <outcome>_old, <outcome>_new, delta_<outcome>
    alerts_per_month: pd.DataFrame  # month × (before, after): the store's reporters together

    def as_dict(self) -> dict[str, Any]:
        rows = self.rows.assign(time=self.rows["time"].map(lambda t: t.isoformat()))
        return {"check": self.check, "store": self.store, "change": self.change,
                "counts": {k: int(v) for k, v in self.counts.iloc[0].items()},
                "alerts_per_month": {m: {k: int(v) for k, v in r.items()}
                                     for m, r in self.alerts_per_month.iterrows()},
                "evaluations": rows.to_dict(orient="records")}


def bundle_impact(project: Project, old: str, new: str,
                  workspace: WorkspaceConfig | None = None,
                  registry: str | None = None) -> list[CheckImpact]:
    """For every check that `new` adds, removes or changes against `old`: both versions'
    backtests over `workspace`'s store (the project's own without one), side by side."""
    import pandas as pd

    from scenarist.bundles.read import bundle_project_file, locate_bundle
    from scenarist.operations.backtesting import backtest, compare

    with tempfile.TemporaryDirectory(prefix="scenarist-impact-") as temp:
        folder = Path(temp)
        raws = [bundle_project_file(locate_bundle(project, v, registry, folder))
                for v in (old, new)]
        specs = [dict(raw.get("checks") or {}) for raw in raws]
        changed = {name: "added" if name not in specs[0] else "removed"
                   if name not in specs[1] else "changed"
                   for name in dict.fromkeys([*specs[0], *specs[1]])
                   if specs[0].get(name) != specs[1].get(name)}
        target = project if workspace is None else _in_workspace(project, workspace, folder)
        impacts, runs = [], {}
        for name, change in changed.items():
            store = (specs[1].get(name) or specs[0].get(name) or {}).get("store")
            if store not in target.evaluation_stores:
                continue
            if store not in runs:
                runs[store] = [backtest(target, store, bundle=v, registry=registry)
                               for v in (old, new)]
            before, after = runs[store]
            rows, deltas = compare(before, after)
            per_month = pd.DataFrame({
                "before": before.alerts_per_month.sum(axis=1),
                "after": after.alerts_per_month.sum(axis=1)}).fillna(0).astype(int)
            per_month.index.name = "month"
            mine = rows[rows["check"] == name].drop(columns="check").reset_index(drop=True)
            impacts.append(CheckImpact(name, store, change, mine, deltas.loc[[name]], per_month))
    return impacts


def _in_workspace(project: Project, workspace: WorkspaceConfig, folder: Path) -> Project:
    """The design project with `workspace`'s connections (its stores), as a release has them."""
    from scenarist.bundles.remap import connection_values

    assert project.file is not None
    raw = yaml.safe_load(project.file.read_text()) or {}
    raw["connections"] = {**(raw.get("connections") or {}), **{
        name: connection_values(workspace, name) for name in workspace.connections}}
    file = folder / f"{workspace.name}-{PROJECT_FILE}"  # read again by the bundle backtests
    file.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return Project.model_validate({**raw, "root": project.root, "file": file})
