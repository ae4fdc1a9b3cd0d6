"""`scenarist checks …`: run a store's checks on its latest evaluation, read the check history.

Exit codes of `checks run` (so a shell or CI job can branch on the outcome):

    0  every check OK
    1  worst outcome WARNING or EMPTY (EMPTY — a metric with no value — needs a look but is not
       a failure, as in a run_checks step; DESIGN.md §5)
    2  at least one check ERROR
    3  usage or project problem (unknown store or check, bad project file, unreachable store,
       missing argument); nothing was checked
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import click
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand

from scenarist.checking import (
    check_history,
    project_history_engines,
    resolve_checks,
    run_checks,
)
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult
from scenarist.commands.common import ProjectOption, err, fmt, friendly_errors, out
from scenarist.config import load_project
from scenarist.errors import ScenaristError

EXIT_CODES = {Outcome.OK: 0, Outcome.EMPTY: 1, Outcome.WARNING: 1, Outcome.ERROR: 2}
EXIT_USAGE = 3
COLOURS = {Outcome.OK: "green", Outcome.EMPTY: "cyan", Outcome.WARNING: "yellow",
           Outcome.ERROR: "bold red"}

app = typer.Typer(help="Run checks on an evaluation store and read their history.",
                  no_args_is_help=True)


# Recent typer vendors its own click (typer._click): its UsageError is BadParameter's base.
_USAGE_ERRORS = tuple({click.UsageError, *(base for base in typer.BadParameter.__mro__
                                           if base.__name__ == "UsageError")})


class _UsageExits3(TyperCommand):
    """Click's usage errors exit 2, which `checks run` uses for ERROR: make them exit 3."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _USAGE_ERRORS as exc:
            exc.exit_code = EXIT_USAGE
            raise


@app.command("run", cls=_UsageExits3)
def checks_run(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    checks: Annotated[
        list[str] | None,
        typer.Argument(help="Checks to run (default: every check of the store).",
                       show_default=False),
    ] = None,
    project: ProjectOption = Path("."),
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Store the results in the history.")
    ] = True,
) -> None:
    """Run checks on the store's latest evaluation and print their outcomes.

    Exits 0 when every check is OK, 1 when the worst outcome is WARNING or EMPTY (a metric
    without a value), 2 when any check is ERROR, 3 on a usage or project problem.
    """
    try:
        results = run_checks(load_project(project), checks or None, store=store, record=record)
    except ScenaristError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    if not results:
        out.print(f"store {store!r} has no checks; add some under `checks:` in scenarist.yaml")
        return
    out.print(results_table(results, title=f"checks of {store}"))
    worst = Outcome.worst(r.outcome for r in results)
    counts = ", ".join(f"{sum(r.outcome is o for r in results)} {o.value}" for o in Outcome
                       if any(r.outcome is o for r in results))
    out.print(f"worst outcome: [{COLOURS[worst]}]{worst.value}[/] ({counts})")
    raise typer.Exit(EXIT_CODES[worst])


@app.command("history")
@friendly_errors
def checks_history(
    check: Annotated[
        str | None, typer.Argument(help="Check name (default: every check).", show_default=False)
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", "-s", help="Only results of this store.")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="Only results checked at or after this UTC date/time.",
                     formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Stored check results, oldest first, with how often each outcome occurred."""
    loaded = load_project(project)
    if store is not None:
        resolve_checks(loaded, [], store=store)  # an unknown store: ConfigError listing stores
    frames = [check_history(engine, check, store, since)
              for engine in project_history_engines(loaded, store)]
    history = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if history.empty:
        what = f"check {check!r}" if check else "any check"
        out.print(f"no stored results for {what}; run `scenarist checks run STORE` first")
        return
    history = history.sort_values("checked_at", kind="stable")
    table = Table(title="check history")
    for name, justify in (("checked at (UTC)", "left"), ("check", "left"), ("store", "left"),
                          ("evaluation", "left"), ("outcome", "left"), ("value", "right"),
                          ("message", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in history.itertuples(index=False):
        outcome = Outcome(row.outcome)
        table.add_row(
            row.checked_at.strftime("%Y-%m-%d %H:%M:%S"), escape(row.check),
            escape(str(row.store or "-")), escape(str(row.evaluation_label or "-")),
            f"[{COLOURS[outcome]}]{outcome.value}[/]", fmt(row.value), escape(row.message),
        )
    out.print(table)
    counts = history["outcome"].value_counts()
    out.print(", ".join(f"{int(counts[o.value])} {o.value}" for o in Outcome
                        if counts.get(o.value, 0)))


def results_table(results: list[CheckResult], *, title: str) -> Table:
    """A rich table of check results (also used by scenario runs)."""
    table = Table(title=escape(title))
    table.add_column("check", overflow="fold")
    table.add_column("outcome", no_wrap=True)
    table.add_column("metric", overflow="fold")
    table.add_column("value", justify="right")
    table.add_column("bounds", overflow="fold")
    table.add_column("message", overflow="fold")
    table.add_column("evaluation", no_wrap=True)
    for r in results:
        table.add_row(
            escape(r.name), f"[{COLOURS[r.outcome]}]{r.outcome.value}[/]",
            escape(r.metric_key or "-"), fmt(r.value), escape(_bounds(r.bounds)),
            escape(r.message), escape(r.evaluation_label or "-"),
        )
    return table


def _bounds(bounds: Any) -> str:
    shown = []
    for key, value in dict(bounds).items():
        if key in ("previous", "previous_label", "change"):
            continue  # said in the message
        shown.append(f"{key}={fmt(value) if isinstance(value, float) else value}")
    return ", ".join(shown) or "-"
