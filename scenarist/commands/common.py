"""What every `scenarist` sub-command shares: consoles, exit codes, error handling, formatting,
options.

Exit codes (README, "Command reference"; the same for every command):

    0  OK: done; every check OK; the scenario SUCCEEDED; the project is valid
    1  WARNING or EMPTY (a metric without a value); done in part (`store revise`, `outbox retry`)
    2  ERROR or FAILED: a check ERROR; the scenario FAILED or was ABORTED; a run-time failure
    3  usage: unknown command or option, a bad value, a name (store, check, scenario, label,
       run id, deployment, key) that the project or the store does not have
    4  project mistake: an invalid scenarist.yaml, a dataset or model that cannot be read, a
       store that cannot be reached

This module imports nothing heavy (no pandas, scipy, Prefect): `scenarist --help` loads it.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from typer.core import TyperGroup

from scenarist.errors import (
    BundleError,
    ConfigError,
    InputDataError,
    ModelLoadError,
    NotFoundError,
    ScenaristError,
    StoreError,
)

out = Console()
err = Console(stderr=True)

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder or its scenarist.yaml.")
]
StoreProjectOption = Annotated[Path | None, typer.Option(
    "--project", "-p", help="Use this project's `store` connection (a folder or its "
    "scenarist.yaml).")]
UrlOption = Annotated[str | None, typer.Option(
    "--url", "-u", help="Store database URL. Default: the `store` connection of -p, else "
    "$SCENARIST_STORE_URL, else sqlite:///.scenarist/store.db.")]
VarOption = Annotated[
    list[str] | None,
    typer.Option("--var", "-v", help="Variable as NAME=VALUE (repeatable)."),
]
F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_WARNING, EXIT_ERROR, EXIT_USAGE, EXIT_PROJECT = 0, 1, 2, 3, 4
# Recent typer vendors its own click (typer._click): its UsageError is BadParameter's base.
USAGE_ERRORS = tuple({click.UsageError, *(base for base in typer.BadParameter.__mro__
                                          if base.__name__ == "UsageError")})


class CommandLineError(ScenaristError):
    """A name or value given on the command line that does not exist or does not fit: exit 3."""


def exit_code_of(exc: ScenaristError) -> int:
    """The exit code of a ScenaristError that stopped a command (table in the module doc)."""
    if isinstance(exc, NotFoundError | CommandLineError):
        return EXIT_USAGE
    if isinstance(exc, ConfigError | InputDataError | ModelLoadError | StoreError | BundleError):
        return EXIT_PROJECT
    return EXIT_ERROR


def friendly_errors(command: F) -> F:
    """Print a ScenaristError as one message (no traceback) and exit with its code (3 for a
    name that does not exist, 4 for a project mistake, 2 for a run-time failure)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ScenaristError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                      soft_wrap=True)
            raise typer.Exit(exit_code_of(exc)) from None

    return wrapper  # type: ignore[return-value]


class UsageExits3(TyperGroup):
    """The root group: click's usage errors (unknown option, bad value, missing argument) exit
    3 instead of click's 2, which means ERROR/FAILED here."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except USAGE_ERRORS as exc:
            exc.exit_code = EXIT_USAGE
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except USAGE_ERRORS as exc:
            exc.exit_code = EXIT_USAGE
            raise


@contextmanager
def command_line_names() -> Iterator[None]:
    """ConfigErrors raised while looking up names given on the command line (an unknown store,
    check or scenario) are usage errors (exit 3), not project mistakes (4)."""
    try:
        yield
    except ConfigError as exc:
        raise CommandLineError(str(exc)) from None


def load(project: Path) -> Any:
    """The project (`load_project`, imported on first use: it loads the check types)."""
    from scenarist.project.config import load_project

    return load_project(project)


def project_store(project: Path, store: str) -> tuple[Any, Any]:
    """The loaded project and its evaluation store `store` (an unknown store: exit 3)."""
    from scenarist.operations.stores import open_store, store_spec

    loaded = load(project)
    with command_line_names():
        store_spec(loaded, store)
    return loaded, open_store(loaded, store)


def store_url(url: str | None, project: Path | None) -> str | None:
    """The database URL of deployments and API keys: --url, else the `store` connection of
    -p/--project, else $SCENARIST_STORE_URL, else None (the default SQLite file)."""
    if url is not None and project is not None:
        raise CommandLineError("give --url or -p/--project, not both")
    if url is not None:
        return url
    if project is not None:
        from scenarist.stores.database import resolve_url

        loaded = load(project)
        connection = loaded.connections.get("store")
        resolved = resolve_url(connection.resolved_url() if connection else None, loaded.root)
        return resolved.render_as_string(hide_password=False)
    return os.environ.get("SCENARIST_STORE_URL") or None


def print_table(table: Table, console: Console | None = None) -> None:
    """Print `table`; outside a terminal (CI logs, pipes) wide enough that no identifier in a
    `no_wrap` column is cut or folded. In a terminal, a name wider than the screen ends in "…"."""
    console = console or out
    if console.is_terminal:
        console.print(table)
        return
    measure = Console(width=100_000)  # measuring only: no line is cut
    for column in table.columns:
        if column.no_wrap:
            cells = [column.header, *column.cells]
            column.min_width = max(Measurement.get(measure, measure.options, cell).maximum
                                   for cell in cells)
    needed = Measurement.get(measure, measure.options, table).minimum
    if needed <= console.width:
        console.print(table)
        return
    Console(file=console.file, width=needed, no_color=console.no_color,
            color_system=None, highlight=False).print(table)


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
        from rich.progress import (  # not at `scenarist --help`
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

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


