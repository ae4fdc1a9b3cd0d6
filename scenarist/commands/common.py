"""What every `scenarist` sub-command shares: consoles, error handling, formatting, options."""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from scenarist.errors import ScenaristError

out = Console()
err = Console(stderr=True)

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder or its scenarist.yaml.")
]
VarOption = Annotated[
    list[str] | None,
    typer.Option("--var", "-v", help="Variable as NAME=VALUE (repeatable)."),
]
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(command: F | None = None, *, exit_code: int = 1) -> Any:
    """Print a ScenaristError as one message (no traceback) and exit `exit_code` (1).

    Use bare (`@friendly_errors`) or with a code (`@friendly_errors(exit_code=4)`) for commands
    whose exit codes 1-3 already mean outcomes."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except ScenaristError as exc:
                err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(exit_code) from None

        return wrapper  # type: ignore[return-value]

    return decorate(command) if command is not None else decorate


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


