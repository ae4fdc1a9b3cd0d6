"""`scenarist store …`: evaluate a batch into an evaluation store and read its history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.build import build_evaluation, open_store
from scenarist.commands.common import (
    ProjectOption,
    VarOption,
    delayed_progress,
    fmt,
    friendly_errors,
    out,
    parse_variables,
)
from scenarist.config import load_project

app = typer.Typer(
    help="Evaluate a batch into an evaluation store and read its history.", no_args_is_help=True
)
KEY_COLUMNS = ("data_drift", "drift_share", "prediction_drift", "auc", "f1_macro", "rmse")


@app.command("evaluate")
@friendly_errors
def store_evaluate(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    var: VarOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Evaluate the store's input batch and append (or replace) it in the store."""
    variables = parse_variables(var or [])
    loaded = load_project(project)
    with delayed_progress() as on_stage:
        evaluation = build_evaluation(loaded, store, variables, on_stage=on_stage)
    out.print(
        f"[green]evaluated[/] {evaluation.label!r} into store {store!r}: "
        f"{evaluation.row_count} rows, data_drift={fmt(evaluation.metric('data_drift'))}, "
        f"drift_share={fmt(evaluation.metric('drift_share'))}"
    )
    top = evaluation.details.get("top_drifted_features") or []
    out.print(f"drifted features: {', '.join(top) if top else 'none'}")


@app.command("show")
@friendly_errors
def store_show(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    project: ProjectOption = Path("."),
) -> None:
    """One row per evaluation with the key metrics."""
    evaluation_store = open_store(load_project(project), store)
    table_data = evaluation_store.list()
    if table_data.empty:
        out.print(f"store {store!r} has no evaluations yet; run `scenarist store evaluate {store}`")
        return
    columns = [c for c in KEY_COLUMNS if c in table_data.columns]
    table = Table(title=f"evaluation store {store}")
    table.add_column("label", no_wrap=True)
    for name in ("rows", *columns):
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("top drifted features", overflow="fold")
    for label, row in table_data.iterrows():
        top = evaluation_store.get(str(label)).details.get("top_drifted_features") or []
        table.add_row(
            str(label),
            str(row["row_count"]),
            *(fmt(row[c]) for c in columns),
            "\n".join(top[:3]) or "-",
        )
    out.print(table)


@app.command("history")
@friendly_errors
def store_history(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    metric: Annotated[str, typer.Argument(help="Metric name, e.g. data_drift, auc, psi.")],
    feature: Annotated[
        str | None, typer.Option("--feature", "-f", help="Feature of a per-feature metric.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """A metric over every evaluation of a store, oldest first."""
    series = open_store(load_project(project), store).history(metric, feature)
    name = escape(str(series.name))  # "psi[card_age]" is not rich markup
    table = Table(title=f"{name} in {escape(store)}")
    table.add_column("label", no_wrap=True)
    table.add_column(name, justify="right")
    for label, value in series.items():
        table.add_row(str(label), fmt(value))
    out.print(table)


@app.command("delete")
@friendly_errors
def store_delete(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    label: Annotated[str, typer.Argument(help="Label of the evaluation to delete.")],
    project: ProjectOption = Path("."),
) -> None:
    """Delete one evaluation and its metrics."""
    open_store(load_project(project), store).delete(label)
    out.print(f"deleted evaluation {label!r} from store {store!r}")


