"""`scenarist store …`: evaluate a batch into an evaluation store and read its history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import (
    CommandLineError,
    ProjectOption,
    VarOption,
    delayed_progress,
    err,
    fmt,
    friendly_errors,
    out,
    parse_variables,
    print_table,
    project_store,
)
from scenarist.commands.profiles import store_window_drift, stream_store

app = typer.Typer(
    help="Evaluate a batch into an evaluation store and read its history.", no_args_is_help=True
)
KEY_COLUMNS = ("data_drift", "drift_share", "prediction_drift", "auc", "f1_macro", "rmse")
app.command("window-drift")(store_window_drift)


@app.command("evaluate")
@friendly_errors
def store_evaluate(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    var: VarOption = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Stream the Parquet datasets in column groups "
                           "within the store's memory_limit (as `streaming: true` does).")
    ] = False,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Replace the label's evaluation as a new "
                                 "revision with this reason (e.g. 'labels arrived'), re-run the "
                                 "checks that had judged it and message changed verdicts.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Evaluate the store's input batch and append (or replace) it in the store."""
    from scenarist.operations.build import build_evaluation

    variables = parse_variables(var or [])
    loaded, _ = project_store(project, store)
    spec = loaded.evaluation_stores[store]
    if revision is not None:
        if stream:
            raise CommandLineError("--stream and --revision do not go together: streamed "
                                   "evaluations have no label-dependent metrics to revise")
        from scenarist.operations.revisions import revise_verdicts

        with delayed_progress() as on_stage:
            evaluation = build_evaluation(loaded, store, variables, on_stage=on_stage,
                                          revision=revision)
        revised = revise_verdicts(loaded, store, evaluation)
    elif stream or spec.streaming:
        evaluation = stream_store(loaded, store, variables)
    else:
        with delayed_progress() as on_stage:
            evaluation = build_evaluation(loaded, store, variables, on_stage=on_stage)
    out.print(
        f"[green]evaluated[/] {evaluation.label!r} into store {store!r}: "
        f"{evaluation.row_count} rows, data_drift={fmt(evaluation.metric('data_drift'))} "
        f"[{fmt(evaluation.metric('data_drift.lower'))}, "
        f"{fmt(evaluation.metric('data_drift.upper'))}], "
        f"drift_share={fmt(evaluation.metric('drift_share'))}"
    )
    top = evaluation.details.get("top_drifted_features") or []
    out.print(f"drifted features: {', '.join(top) if top else 'none'}")
    if revision is not None:
        _print_revised(revised)


@app.command("show")
@friendly_errors
def store_show(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    project: ProjectOption = Path("."),
) -> None:
    """One row per evaluation with the key metrics."""
    from scenarist.metrics import sufficiency

    _, evaluation_store = project_store(project, store)
    table_data = evaluation_store.list()
    if table_data.empty:
        out.print(f"store {store!r} has no evaluations yet; run `scenarist store evaluate {store}`")
        return
    columns = [c for c in KEY_COLUMNS if c in table_data.columns]
    table = Table(title=f"evaluation store {store}")
    table.add_column("label", no_wrap=True)
    for name in ("rows", *columns):
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("top drifted features", no_wrap=True)
    details = {label: evaluation_store.get(str(label)).details for label in table_data.index}
    for label, row in table_data.iterrows():
        top = details[label].get("top_drifted_features") or []
        table.add_row(
            str(label),
            str(row["row_count"]),
            *(fmt(row[c]) for c in columns),
            "\n".join(top[:3]) or "-",
        )
    print_table(table)
    for label, facts in details.items():
        for note in sufficiency.summary(facts):  # why metrics have no value (min_rows)
            out.print(f"{escape(str(label))}: no value: {escape(note)}", highlight=False)
    for label, facts in details.items():
        if facts.get("revision"):  # revised by late labels (scenarist.operations.revisions)
            out.print(f"{escape(str(label))}: revision {facts['revision']} after late labels "
                      f"(scenarist store revisions {escape(store)} {escape(str(label))!r})",
                      highlight=False)


@app.command("history")
@friendly_errors
def store_history(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    metric: Annotated[str, typer.Argument(help="Metric name, e.g. data_drift, auc, psi.")],
    feature: Annotated[
        str | None, typer.Option("--feature", "-f", help="Feature of a per-feature metric.")
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", "-s", help='One segment\'s values, e.g. '
                                 '"device=mobile" (default: all rows).')
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """A metric over every evaluation of a store, oldest first.

    Values that late labels revised are shown as revised."""
    from scenarist.stores.revisions import metric_key

    _, evaluation_store = project_store(project, store)
    if segment is not None:
        _require_segment(evaluation_store, segment)
    series = evaluation_store.history(metric, feature, segment)
    name = escape(str(series.name))  # "psi[card_age]" is not rich markup
    key = metric_key(metric, feature, segment)
    revised: dict[str, list[str]] = {}
    for r in evaluation_store.revisions():
        if key in r.changes:
            before, after = r.changes[key]
            revised.setdefault(r.label, []).append(
                f"{fmt(before)} → {fmt(after)} (revision {r.revision})")
    table = Table(title=f"{name} in {escape(store)}")
    table.add_column("label", no_wrap=True)
    table.add_column(name, justify="right", no_wrap=True)
    if revised:
        table.add_column("revised by late labels")
    for label, value in series.items():
        table.add_row(str(label), fmt(value),
                      *(["\n".join(revised.get(str(label), [])) or "-"] if revised else []))
    print_table(table)


def _require_segment(evaluation_store, segment: str) -> None:
    """A segment no evaluation of the store has is a usage error naming the ones it has."""
    known = dict.fromkeys(s for label in evaluation_store.labels()
                          for s in evaluation_store.segments(label))
    if segment not in known:
        raise CommandLineError(
            f"no evaluation of store {evaluation_store.name!r} has segment {segment!r}; "
            f"segments: {', '.join(known) or 'none (set segment_by on the store and evaluate)'}")


@app.command("segments")
@friendly_errors
def store_segments(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Evaluation label (default: latest).")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """One row per segment of an evaluation (segment_by): rows, key metrics, why it is empty."""
    _, evaluation_store = project_store(project, store)
    latest = evaluation_store.latest() if label is None else None
    if label is None and latest is None:
        out.print(f"store {store!r} has no evaluations yet; run `scenarist store evaluate {store}`")
        return
    chosen = label or latest.label  # type: ignore[union-attr]
    segments = evaluation_store.segment_table(chosen)
    if segments.empty:
        out.print(f"evaluation {chosen!r} of store {store!r} has no segments; set `segment_by` "
                  "on the store and evaluate again")
        return
    columns = [c for c in ("row_count", *KEY_COLUMNS) if c in segments.columns]
    table = Table(title=f"segments of {escape(store)} · {escape(chosen)}")
    table.add_column("segment", no_wrap=True)
    for name in columns:
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("note", overflow="fold")
    for segment, row in segments.iterrows():
        table.add_row(escape(str(segment)), *(fmt(row[c]) for c in columns),
                      escape(str(row["reason"] or "")))
    print_table(table)


@app.command("delete")
@friendly_errors
def store_delete(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    label: Annotated[str, typer.Argument(help="Label of the evaluation to delete.")],
    project: ProjectOption = Path("."),
) -> None:
    """Delete one evaluation and its metrics."""
    project_store(project, store)[1].delete(label)
    out.print(f"deleted evaluation {label!r} from store {store!r}")


@app.command("revise")
@friendly_errors
def store_revise(
    store: Annotated[str, typer.Argument(help="Evaluation store fed by a deployment.")],
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Only this evaluation (repeat).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Revise even if no new label arrived (corrections).")
    ] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Revise evaluations whose labels arrived since they were computed.

    Each becomes a new revision, its checks run again, and "verdict revised" messages go to
    the reporters that sent the original alert."""
    from scenarist.operations.revisions import revise_evaluations

    loaded, _ = project_store(project, store)
    report = revise_evaluations(loaded, store, labels=label or None, force=force)
    for revised in report.revised:
        _print_revised(revised)
    for waiting, reason in report.waiting.items():
        out.print(f"{escape(waiting)!r}: labels not ready ({escape(reason)})")
    for failed, error in report.failed.items():
        err.print(f"[red]not revised[/] {escape(failed)!r}: {escape(error)}")
    out.print(f"{len(report.revised)} revised, {len(report.up_to_date)} up to date, "
              f"{len(report.waiting)} waiting for labels, {len(report.failed)} failed")
    if report.failed:
        raise typer.Exit(1)


def _print_revised(revised) -> None:
    """One revised evaluation: its revision, and each verdict it changed with who was told."""
    out.print(f"[green]revised[/] {escape(revised.label)!r} (revision {revised.revision}: "
              f"{escape(revised.reason)}): {len(revised.changes)} metric(s) changed")
    for verdict in revised.verdicts:
        told = ", ".join(revised.messages) or "no reporter had alerted on it"
        out.print(f"  {escape(verdict.check)!r}: {verdict.headline()} — messages: "
                  f"{escape(told)}")


@app.command("revisions")
@friendly_errors
def store_revisions(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    label: Annotated[str | None, typer.Argument(help="Only this evaluation.")] = None,
    project: ProjectOption = Path("."),
) -> None:
    """How late labels revised the store's evaluations: reason, changed metrics and verdicts."""
    revisions = project_store(project, store)[1].revisions(label)
    if not revisions:
        out.print(f"no revision in store {store!r}"
                  f"{f' for {label!r}' if label else ''}; `scenarist store revise {store}`")
        return
    for r in revisions:
        out.print(f"[bold]{escape(r.label)}[/] revision {r.revision} at "
                  f"{r.revised_at:%Y-%m-%d %H:%M} UTC: {escape(r.reason)}")
        for check, (before, after) in r.verdicts.items():
            out.print(f"  verdict of {escape(check)!r}: {before} → {after}")
        for key, (before, after) in r.changes.items():
            out.print(f"  {escape(key)}: {fmt(before)} → {fmt(after)}")
