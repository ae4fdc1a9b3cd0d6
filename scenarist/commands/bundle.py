"""`scenarist bundle …`: create, publish, list, diff, deploy, roll back and inspect releases.

    scenarist bundle create v3 --notes "adds scenario for monitoring data drift" \
        --include-data transactions_train
    scenarist bundle publish v3                 # into .scenarist/registry (or --registry URL)
    scenarist bundle list                       # versions, notes, dates, where deployed
    scenarist bundle diff v1 v3                 # files and definitions that changed
    scenarist bundle diff v2 v3 --impact --to automation   # + changed checks' backtests
    scenarist bundle deploy v3 --to automation  # workspaces/automation.yaml (its gates:)
    scenarist bundle deploy v3 --to automation --override-gates --reason "why"
    scenarist bundle rollback --to automation
    scenarist bundle status --to automation
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import ProjectOption, friendly_errors, load, out, print_table
from scenarist.errors import BundleError

if TYPE_CHECKING:
    from scenarist.bundles.registry import Registry
    from scenarist.project.config import Project

app = typer.Typer(help="Versioned bundles of a project, released to workspaces.",
                  no_args_is_help=True)

RegistryOption = Annotated[
    str | None,
    typer.Option("--registry", "-r", help="Bundle registry: a folder or fsspec URL "
                 "(default $SCENARIST_BUNDLE_REGISTRY, else .scenarist/registry)."),
]
WorkspaceOption = Annotated[
    str, typer.Option("--to", "-w", help="Workspace name (workspaces/<name>.yaml) or file.")
]
VersionArgument = Annotated[str, typer.Argument(help="Bundle version, e.g. v3.")]


@app.command("create")
@friendly_errors
def bundle_create(
    version: VersionArgument,
    notes: Annotated[str, typer.Option("--notes", "-n", help="Release notes.")] = "",
    include_data: Annotated[
        list[str] | None,
        typer.Option("--include-data", "-d", help="Dataset whose files go in (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for VERSION.tar.gz.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Pack the project into an immutable VERSION.tar.gz with a manifest of checksums."""
    from scenarist.bundles.create import create_bundle

    path = create_bundle(project, version, notes=notes, include_data=include_data or [],
                         output=output)
    out.print(f"[green]created[/] bundle {version}: {path}")


@app.command("publish")
@friendly_errors
def bundle_publish(
    version: VersionArgument, registry: RegistryOption = None, project: ProjectOption = Path(".")
) -> None:
    """Copy a created bundle into the registry.

    Refused if the version exists there with other content."""
    from scenarist.bundles.create import bundles_folder

    loaded = load(project)
    archive = bundles_folder(loaded) / f"{version}.tar.gz"
    if not archive.is_file():
        raise BundleError(f"no bundle {version} at {archive}; create it first with "
                          f"`scenarist bundle create {version}`")
    target = _registry(registry, loaded)
    published = target.publish(archive)
    out.print(f"[green]published[/] {version} to {target.url} (sha256 {published.sha256[:12]}…)")


@app.command("list")
@friendly_errors
def bundle_list(registry: RegistryOption = None, project: ProjectOption = Path(".")) -> None:
    """Published versions with their notes, dates and the workspaces they are deployed to."""
    from scenarist.bundles.workspace import deployed_where

    loaded = load(project)
    target = _registry(registry, loaded)
    bundles = target.versions(loaded.project)
    if not bundles:
        out.print(f"no bundle of {loaded.project!r} in {target.url}; "
                  "run `scenarist bundle create` then `publish`")
        return
    where = deployed_where(loaded.root)
    table = Table(title=f"bundles of {escape(loaded.project)} in {escape(target.url)}")
    for column in ("version", "created", "by", "notes", "deployed to"):
        table.add_column(column, no_wrap=column in ("version", "created", "by"), overflow="fold")
    for bundle in bundles:
        m = bundle.manifest
        table.add_row(escape(m.version), f"{m.created_at:%Y-%m-%d %H:%M}", escape(m.created_by),
                      escape(m.notes) or "-", escape(", ".join(where.get(m.version, []))) or "-")
    print_table(table)


@app.command("diff")
@friendly_errors
def bundle_diff(
    old: Annotated[str, typer.Argument(help="Older version.")],
    new: Annotated[str, typer.Argument(help="Newer version.")],
    registry: RegistryOption = None,
    impact: Annotated[
        bool, typer.Option("--impact", help="Backtest each changed check under both versions "
                           "over the target workspace's stored history.")
    ] = False,
    to: Annotated[
        str | None, typer.Option("--to", "-w", help="Target workspace of --impact (default: "
                                 "the design project's own store).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the differences (and the impact) as JSON.")
    ] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Files added, removed and changed, changed scenario/check/reporter/trigger definitions
    (with what changed in them) and, with --impact, each changed check's backtest."""
    from scenarist.bundles.diff import diff_bundles
    from scenarist.bundles.read import locate_bundle

    loaded = load(project)
    with tempfile.TemporaryDirectory() as temp:
        paths = [locate_bundle(loaded, version, registry, Path(temp)) for version in (old, new)]
        diff = diff_bundles(*paths)
    if as_json:
        _diff_json(diff, loaded, old, new, to, registry, impact)
        return
    out.print(f"bundle {escape(old)} → {escape(new)}")
    if diff.empty:
        out.print("no differences")
        return
    for sign, files, colour in (("+", diff.added_files, "green"), ("-", diff.removed_files, "red"),
                                ("~", diff.changed_files, "yellow")):
        for name in files:
            out.print(f"[{colour}]{sign} {escape(name)}[/]")
    for change in diff.definitions:
        out.print(f"{change.change:>8} {change.section[:-1].replace('_', ' ')} "
                  f"{escape(change.name)!r}")
        for detail in change.details:
            out.print(f"           {escape(detail)}")
    if impact:
        _print_impact(loaded, old, new, to, registry)


def _impacts(loaded: Project, old: str, new: str, to: str | None, registry: str | None):
    from scenarist.bundles.diff import bundle_impact
    from scenarist.bundles.workspace import load_workspace

    workspace = load_workspace(to, loaded.root) if to else None
    return workspace, bundle_impact(loaded, old, new, workspace, registry)


def _diff_json(diff, loaded: Project, old: str, new: str, to: str | None,
               registry: str | None, impact: bool) -> None:
    import dataclasses
    import json

    document = {"old": old, "new": new, "added_files": diff.added_files,
                "removed_files": diff.removed_files, "changed_files": diff.changed_files,
                "definitions": [dataclasses.asdict(c) for c in diff.definitions]}
    if impact:
        document["impact"] = [i.as_dict() for i in _impacts(loaded, old, new, to, registry)[1]]
    out.file.write(json.dumps(document, indent=2, default=str) + "\n")


def _print_impact(loaded: Project, old: str, new: str, to: str | None,
                  registry: str | None) -> None:
    """`bundle diff --impact`: each changed check's outcomes and alerts, before and after."""
    workspace, impacts = _impacts(loaded, old, new, to, registry)
    where = f"workspace {workspace.name!r}" if workspace else "the design project's store"
    if not impacts:
        out.print(f"impact: no check changed between {escape(old)} and {escape(new)}")
    for item in impacts:
        counts = item.counts.iloc[0]
        out.print(f"[bold]impact of {item.change} check {escape(item.check)!r}[/] on "
                  f"{escape(item.store)} in {escape(where)}: " + ", ".join(
                      f"{o} {int(counts[f'{o}_old'])} → {int(counts[f'{o}_new'])}"
                      for o in ("OK", "WARNING", "ERROR", "EMPTY")))
        table = Table(title=f"outcomes per evaluation ({int(item.rows['changed'].sum())} "
                      "changed)")
        for column in ("evaluation", old, new, ""):
            table.add_column(escape(column), no_wrap=True)
        for row in item.rows.itertuples(index=False):
            where_row = f"{row.evaluation} [{row.segment}]" if row.segment else row.evaluation
            table.add_row(escape(where_row), row.outcome_old, row.outcome_new,
                          "changed" if row.changed else "")
        print_table(table)
        table = Table(title="messages per month, every reporter of the store's scenarios")
        for column in ("month", old, new):
            table.add_column(escape(column), justify="left" if column == "month" else "right")
        for month, row in item.alerts_per_month.iterrows():
            table.add_row(str(month), str(row["before"]), str(row["after"]))
        print_table(table)


@app.command("deploy")
@friendly_errors
def bundle_deploy(
    version: VersionArgument,
    to: WorkspaceOption,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Deploy this VERSION.tar.gz, not the "
                                  "registry's (e.g. copied to an air-gapped machine).")
    ] = None,
    registry: RegistryOption = None,
    override_gates: Annotated[
        bool, typer.Option("--override-gates", help="Deploy even if the workspace's promotion "
                           "gates fail (needs --reason; kept in the release history).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the gates are overridden.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Verify, extract, remap, validate, check the promotion gates, register the Prefect
    deployments, then activate."""
    from scenarist.bundles.deploy import deploy_bundle
    from scenarist.bundles.workspace import load_workspace

    if override_gates and not (reason or "").strip():
        raise typer.BadParameter('--override-gates needs --reason "why", kept in the release '
                                 "history", param_hint="--reason")
    if reason is not None and not override_gates:
        raise typer.BadParameter("--reason goes with --override-gates", param_hint="--reason")
    loaded = load(project)
    workspace = load_workspace(to, loaded.root)
    release = deploy_bundle(loaded.project, version, workspace, archive=archive,
                            registry=_registry(registry or workspace.registry, loaded),
                            design=loaded, override_reason=reason if override_gates else None)
    for line in release.gates:
        out.print(f"  gate {escape(line)}")
    if release.override_reason:
        out.print(f"[yellow]gates overridden[/]: {escape(release.override_reason)}")
    verb = "updated" if release.previous else "deployed"
    was = f" (was {release.previous})" if release.previous else ""
    out.print(f"[green]{verb}[/] {workspace.name!r} to release {version}{was}: "
              f"{release.project_path}")
    for name in release.prefect_deployments:
        out.print(f"  Prefect deployment {escape(name)}")


@app.command("rollback")
@friendly_errors
def bundle_rollback(
    to: WorkspaceOption,
    version: Annotated[
        str | None, typer.Option("--version", help="Installed release to activate instead of "
                                 "the previous one.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Re-activate the previous release and its Prefect deployments."""
    from scenarist.bundles.deploy import rollback
    from scenarist.bundles.workspace import load_workspace

    workspace = load_workspace(to, _project_root(project))
    release = rollback(workspace, to=version)
    out.print(f"[green]rolled back[/] {workspace.name!r} from {release.previous} to "
              f"{release.version}")


@app.command("status")
@friendly_errors
def bundle_status(to: WorkspaceOption, project: ProjectOption = Path(".")) -> None:
    """The active release of a workspace and its history of deploys (who, when, from what)."""
    from scenarist.bundles.workspace import Workspace, load_workspace

    workspace = load_workspace(to, _project_root(project))
    space = Workspace(workspace)
    active = space.active_version()
    out.print(f"workspace {workspace.name!r} ({space.root}): active release "
              f"[bold]{active or 'none'}[/]; installed: {', '.join(space.installed()) or 'none'}")
    table = Table(title="history")
    for column in ("when", "action", "version", "previous", "by", "from", "gates"):
        table.add_column(column, no_wrap=column not in ("from", "gates"), overflow="fold")
    for event in reversed(space.history()):
        gates = f"overridden: {event.override_reason}" if event.override_reason else (
            "passed" if event.gates else "-")
        table.add_row(f"{event.at:%Y-%m-%d %H:%M:%S}", event.action, escape(event.version),
                      escape(event.previous or "-"), escape(f"{event.by}@{event.host}"),
                      escape(event.source), escape(gates))
    print_table(table)


def _project_root(project: Path) -> Path:
    """The project folder of --project (a folder or its scenarist.yaml), without loading it."""
    path = Path(project).resolve()
    return path if path.is_dir() else path.parent


def _registry(url: str | None, project: Project) -> Registry:
    from scenarist.bundles.registry import Registry

    return Registry.open(url, project_root=project.root)
