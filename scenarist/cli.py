"""The `scenarist` command line.

    scenarist validate [PATH]
    scenarist store evaluate STORE [--var quarter=2017Q2] [--project PATH]
    scenarist store show STORE
    scenarist store history STORE METRIC [--feature F]
    scenarist store delete STORE LABEL
    scenarist demo [--dir DIR]

User mistakes (a bad project file, a missing column, an unreachable store) print one clear
message and exit 1; they never print a traceback.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scenarist.build import build_evaluation, open_store
from scenarist.config import load_project, validate_project
from scenarist.errors import ScenaristError

app = typer.Typer(
    name="scenarist",
    help="Model-monitoring scenario engine: evaluation stores, checks, scenarios, reporters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
store_app = typer.Typer(help="Evaluate a batch into an evaluation store and read its history.",
                        no_args_is_help=True)
app.add_typer(store_app, name="store")

out = Console()
err = Console(stderr=True)

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder or its scenarist.yaml.")
]
KEY_COLUMNS = ("data_drift", "drift_share", "prediction_drift", "auc", "f1_macro", "rmse")
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(command: F) -> F:
    """Print a ScenaristError as one message (no traceback) and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ScenaristError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="Project folder or its scenarist.yaml.")] = Path("."),
) -> None:
    """Check a project file and report every problem with its file and key path."""
    problems = validate_project(path)
    if not problems:
        out.print(f"[green]ok[/]: {path} is a valid scenarist project")
        return
    for problem in problems:
        err.print(f"[red]{problem}[/]", highlight=False, soft_wrap=True)
    err.print(f"{len(problems)} problem(s) found")
    raise typer.Exit(1)


@store_app.command("evaluate")
@friendly_errors
def store_evaluate(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    var: Annotated[
        list[str] | None,
        typer.Option("--var", "-v", help="Variable as NAME=VALUE (repeatable)."),
    ] = None,
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


@store_app.command("show")
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


@store_app.command("history")
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


@store_app.command("delete")
@friendly_errors
def store_delete(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    label: Annotated[str, typer.Argument(help="Label of the evaluation to delete.")],
    project: ProjectOption = Path("."),
) -> None:
    """Delete one evaluation and its metrics."""
    open_store(load_project(project), store).delete(label)
    out.print(f"deleted evaluation {label!r} from store {store!r}")


@app.command()
@friendly_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the example project is written.")
    ] = Path(".scenarist/demo"),
    rows: Annotated[int, typer.Option(help="Transactions per quarter.", min=100)] = 20_000,
) -> None:
    """Write the fraud-monitoring example, evaluate Q2, Q3 and Q4 2017, show the store."""
    from scenarist.demo.project import write_example

    with err.status("generating transactions for 2017 and training the model on Q1"):
        project_file = write_example(folder, rows=rows)
    out.print(f"example project written to [bold]{project_file}[/]")
    loaded = load_project(project_file)
    for quarter in ("2017Q2", "2017Q3", "2017Q4"):
        with delayed_progress() as on_stage:
            evaluation = build_evaluation(loaded, "the_MES", {"quarter": quarter},
                                          on_stage=on_stage)
        drift = fmt(evaluation.metric("data_drift"))
        out.print(f"evaluated {evaluation.label}: data_drift={drift}")
    store_show("the_MES", project=project_file)


def parse_variables(pairs: list[str]) -> dict[str, str]:
    """`["quarter=2017Q2"]` → `{"quarter": "2017Q2"}`; a malformed pair is a usage error."""
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE, e.g. --var quarter=2017Q2",
                                     param_hint="--var")
        variables[name.strip()] = value
    return variables


def fmt(value: Any) -> str:
    """A metric value for a table: 4 significant digits, '-' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class delayed_progress:
    """A progress bar over evaluation stages that appears only once a second has passed."""

    STAGES = 9  # loading model, reading ×2, checks, feature drift, dataset drift, predictions,
    #             performance (when labelled), quality

    def __init__(self) -> None:
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  TimeElapsedColumn(), console=err, transient=True)
        self._task = self._progress.add_task("evaluating", total=self.STAGES)
        self._timer = threading.Timer(1.0, self._progress.start)
        self._timer.daemon = True

    def __enter__(self) -> Callable[[str], None]:
        if err.is_terminal:
            self._timer.start()
        return self._advance

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        self._progress.stop()

    def _advance(self, stage: str) -> None:
        self._progress.update(self._task, description=stage, advance=1)


