"""`scenarist deployments …`: read a deployment's monitoring (list, show, stats, drift, accuracy,
batches), export its logged rows, set its secondary datasets. Writing (logging predictions and
labels) is done from Python or a server.

Every command reads the store at --url, or at the `store` connection of -p/--project, else at
$SCENARIST_STORE_URL, else sqlite:///.scenarist/store.db."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import (
    CommandLineError,
    StoreProjectOption,
    UrlOption,
    fmt,
    friendly_errors,
    out,
    print_table,
    store_url,
)
from scenarist.errors import InputDataError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from scenarist.deployments import Deployment

app = typer.Typer(help="Monitor models in production: predictions, service stats, drift, "
                  "accuracy, batches.", no_args_is_help=True)

IdArgument = Annotated[str, typer.Argument(help="Deployment id (see `deployments list`).")]
StartOption = Annotated[str | None, typer.Option(help="Window start, top of an hour (ISO 8601)."
                                                 " Default: end − 7 days.")]
EndOption = Annotated[str | None, typer.Option(help="Window end, top of an hour (ISO 8601). "
                                               "Default: the next top of the hour.")]
BatchOption = Annotated[list[str] | None, typer.Option(
    "--batch", "-b", help="Only this monitoring batch (id or name; repeatable).")]


@app.command("list")
@friendly_errors
def deployments_list(
    label: Annotated[str | None, typer.Option(help="Label contains this (any case).")] = None,
    deleted: Annotated[bool, typer.Option(help="List deleted deployments instead.")] = False,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """One row per deployment: id, label, model, health."""
    from scenarist.deployments import Deployment, DeploymentListFilters

    found = Deployment.list(DeploymentListFilters(label=label,
                                                  status="deleted" if deleted else "active"),
                            url=store_url(url, project))
    if not found:
        out.print("no deployments; create one with scenarist.Deployment.create(model, label)")
        return
    table = Table(title="deployments")
    for column in ("id", "label", "model", "version", "drift", "accuracy"):
        table.add_column(column, no_wrap=column in ("id", "label", "model"))
    for dep in found:
        table.add_row(dep.id, escape(dep.label), escape(dep.model.name), str(dep.model_version),
                      dep.drift_health, dep.accuracy_health)
    print_table(table)


@app.command("show")
@friendly_errors
def deployments_show(deployment: IdArgument, url: UrlOption = None,
                     project: StoreProjectOption = None) -> None:
    """A deployment's facts, settings and model history."""
    dep = _deployment(deployment, url, project)
    out.print(f"[bold]{escape(dep.label)}[/] ({dep.id}) — {dep.status}")
    if dep.description:
        out.print(escape(dep.description))
    model = dep.model
    out.print(f"model {escape(model.name)} v{dep.model_version}: {model.type}, target "
              f"{escape(model.target)}, {len(model.features)} features; health: drift "
              f"{dep.drift_health}, accuracy {dep.accuracy_health}")
    for section, values in dep.settings.model_dump(mode="json").items():
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        out.print(f"  {section}: {escape(shown)}")
    history = dep.get_model_history()
    table = Table(title="model history")
    for column in ("version", "model", "started", "ended"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for version, row in history.iterrows():
        table.add_row(str(version), escape(row["model"]), f"{row['started_at']:%Y-%m-%d %H:%M}",
                      "-" if row["ended_at"] is None or row["ended_at"] != row["ended_at"]
                      else f"{row['ended_at']:%Y-%m-%d %H:%M}", row["reason"] or "-")
    print_table(table)


@app.command("stats")
@friendly_errors
def deployments_stats(
    deployment: IdArgument,
    start: StartOption = None,
    end: EndOption = None,
    batch: BatchOption = None,
    bucket: Annotated[str | None, typer.Option(help="Show over time, e.g. PT1H, PT6H, P1D.")
                      ] = None,
    metric: Annotated[str, typer.Option(help="Metric over time.")] = "total_predictions",
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Service stats of a window: totals, or one metric per bucket."""
    dep = _deployment(deployment, url, project)
    if bucket:
        series = dep.get_service_stats_over_time(metric, bucket, start, end, batches=batch)
        table = Table(title=f"{metric} per {bucket}")
        table.add_column("start (UTC)")
        table.add_column(metric, justify="right")
        for moment, value in series.items():
            table.add_row(f"{moment:%Y-%m-%d %H:%M}", fmt(float(value)))
        print_table(table)
        return
    stats = dep.get_service_stats(start, end, batches=batch)
    table = Table(title=f"service stats {stats.start:%Y-%m-%d %H:%M} – {stats.end:%Y-%m-%d %H:%M}")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right")
    for name, value in stats.as_dict().items():
        if name not in ("start", "end"):
            table.add_row(name, fmt(float(value)) if isinstance(value, float) else str(value))
    print_table(table)


@app.command("drift")
@friendly_errors
def deployments_drift(deployment: IdArgument, start: StartOption = None, end: EndOption = None,
                      batch: BatchOption = None, url: UrlOption = None,
                      project: StoreProjectOption = None) -> None:
    """Feature drift (PSI and the chosen test per feature) and target drift."""
    dep = _deployment(deployment, url, project)
    features = dep.get_feature_drift(start, end, batches=batch)
    table = Table(title="feature drift")
    for column in ("feature", "method", "score", "psi", "drifted", "importance"):
        table.add_column(column, justify="left" if column in ("feature", "method") else "right",
                         no_wrap=column in ("feature", "method"))
    for feature, row in features.sort_values("psi", ascending=False).iterrows():
        table.add_row(escape(str(feature)), row["method"], fmt(row["score"]), fmt(row["psi"]),
                      "yes" if row["drifted"] else "no", fmt(row["importance"]))
    print_table(table)
    if dep.settings.drift_tracking.target_drift:
        try:
            target = dep.get_target_drift(start, end, batches=batch)
        except NotFoundError:
            return
        out.print(f"target drift ({target.method}): score {fmt(target.score)}, psi "
                  f"{fmt(target.psi)}, {'drifted' if target.drifted else 'not drifted'}")


@app.command("accuracy")
@friendly_errors
def deployments_accuracy(
    deployment: IdArgument,
    start: StartOption = None,
    end: EndOption = None,
    batch: BatchOption = None,
    bucket: Annotated[str | None, typer.Option(help="Show over time, e.g. PT6H.")] = None,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Accuracy metrics of the labelled predictions, and whether labels are ready."""
    dep = _deployment(deployment, url, project)
    if bucket:
        frame = dep.get_accuracy_over_time_frame(None, bucket, start, end, batches=batch)
        table = Table(title=f"accuracy per {bucket}")
        table.add_column("start (UTC)")
        for column in frame.columns:
            table.add_column(column, justify="right")
        for moment, row in frame.iterrows():
            table.add_row(f"{moment:%Y-%m-%d %H:%M}", *(fmt(float(v)) for v in row))
        print_table(table)
        return
    accuracy = dep.get_accuracy(start, end, batches=batch)
    table = Table(title="accuracy")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right")
    for name, value in accuracy.metrics.items():
        table.add_row(name, fmt(value))
    print_table(table)
    readiness = accuracy.readiness
    out.print(f"{accuracy.labelled} of {accuracy.predictions} predictions labelled; labels "
              f"{'ready' if readiness.ready else 'not ready'}: {readiness.reason}")


@app.command("batches")
@friendly_errors
def deployments_batches(deployment: IdArgument, url: UrlOption = None,
                        project: StoreProjectOption = None) -> None:
    """The deployment's monitoring batches."""
    dep = _deployment(deployment, url, project)
    batches = dep.list_batches()
    if not batches:
        out.print(f"deployment {dep.id} has no monitoring batches")
        return
    table = Table(title=f"monitoring batches of {escape(dep.label)}")
    for column in ("id", "name", "created", "locked", "start", "end"):
        table.add_column(column, no_wrap=column in ("id", "label", "model"))
    for b in batches:
        table.add_row(b.id, escape(b.name), f"{b.created_at:%Y-%m-%d %H:%M}",
                      "yes" if b.locked else "no",
                      f"{b.start_time:%Y-%m-%d %H:%M}" if b.start_time else "-",
                      f"{b.end_time:%Y-%m-%d %H:%M}" if b.end_time else "-")
    print_table(table)


@app.command("export")
@friendly_errors
def deployments_export(
    deployment: IdArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet or CSV file.")],
    start: StartOption = None,
    end: EndOption = None,
    batch: Annotated[str | None, typer.Option(
        "--batch", "-b", help="Only this monitoring batch (id or name); its whole time span "
        "unless --start/--end are given.")] = None,
    format: Annotated[Literal["parquet", "csv"] | None, typer.Option(
        "--format", "-f", help="parquet or csv (default: from the file suffix).")] = None,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Export the logged rows of a window or batch.

    Features, additional data, predictions, labels and warnings, to Parquet or CSV."""
    dep = _deployment(deployment, url, project)
    path = dep.export(output, start=start, end=end, batch=batch, format=format)
    out.print(f"exported the logged rows of {dep.id} to [bold]{escape(str(path))}[/]")


@app.command("secondary")
@friendly_errors
def deployments_secondary(
    deployment: IdArgument,
    dataset: Annotated[str | None, typer.Option(
        help="Set a new config joining NAME=FILE (.csv or .parquet) to every logged row.")] = None,
    key: Annotated[list[str] | None, typer.Option(help="Key column (repeatable).")] = None,
    column: Annotated[list[str] | None, typer.Option(
        help="Column to join (repeatable; default: every column but the key).")] = None,
    on_missing: Annotated[Literal["report", "error"], typer.Option(
        help="A logged row whose key the dataset lacks: report (kept, counted) or error.")
    ] = "report",
    clear: Annotated[bool, typer.Option(help="Set a new, empty config (stop joining).")] = False,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Show or set the deployment's secondary dataset config.

    Lists the configs (the active one last); --dataset or --clear sets a new one, its id kept
    in the history."""
    dep = _deployment(deployment, url, project)
    if dataset is not None or clear:
        if dataset is not None and clear:
            raise CommandLineError("give --dataset NAME=FILE or --clear, not both")
        datasets, joins = {}, []
        if dataset is not None:
            name, _, file = dataset.partition("=")
            if not name or not file or not key:
                raise CommandLineError("--dataset takes NAME=FILE and needs --key, e.g. "
                                       "--dataset merchants=merchants.csv --key merchant_id")
            datasets[name] = _read_table(Path(file))
            joins.append({"dataset": name, "key": key, "columns": column or None,
                          "on_missing": on_missing})
        config = dep.update_secondary_dataset_config(datasets, joins)
        out.print(f"secondary dataset config {config.id} is active for {dep.id}")
    history = dep.get_secondary_dataset_config_history()
    if history.empty:
        out.print(f"deployment {dep.id} has no secondary dataset config")
        return
    table = Table(title=f"secondary dataset configs of {escape(dep.label)}")
    for name in ("id", "created", "datasets", "active"):
        table.add_column(name, no_wrap=name == "id")
    for _, row in history.iterrows():
        table.add_row(row["id"], f"{row['created_at']:%Y-%m-%d %H:%M:%S}",
                      escape(", ".join(row["datasets"]) or "(none)"),
                      "yes" if row["active"] else "")
    print_table(table)


@app.command("compact")
@friendly_errors
def deployments_compact(
    deployment: Annotated[str | None, typer.Argument(
        help="Deployment id (see `deployments list`); or --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every active deployment.")] = False,
    older_than: Annotated[float | None, typer.Option(
        help="Compact hours that ended more than this many seconds ago (default: the "
        "deployment's allowed lateness).")] = None,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Merge the feature files of closed hours into one per (batch, hour); old days into one.

    Readers are never disturbed (see scenarist.deployments.compaction). Files a killed writer
    left unrecorded are deleted once older than an hour."""
    from scenarist.deployments import Deployment, compact_all

    if (deployment is None) == (not all_):
        raise CommandLineError("give a deployment id or --all (not both)")
    results = (compact_all(store_url(url, project), older_than) if all_ else
               {deployment: Deployment.get(deployment, url=store_url(url, project))
                .compact(older_than)})
    for dep_id, result in results.items():
        out.print(f"{dep_id}: {result.merged} merged file(s) from {result.files_retired} "
                  f"small ones; {result.files_deleted} retired file(s) deleted; "
                  f"{result.orphans_deleted} unrecorded file(s) swept")


def _deployment(deployment_id: str, url: str | None, project: Path | None) -> Deployment:
    from scenarist.deployments import Deployment

    return Deployment.get(deployment_id, url=store_url(url, project))


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputDataError(f"{path} does not exist")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    raise InputDataError(f"cannot read {path}: name it .csv or .parquet")
