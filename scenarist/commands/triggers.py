"""`scenarist triggers poll|list`: look at the polling triggers once, and what they saw."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scenarist.commands.common import (
    EXIT_ERROR,
    ProjectOption,
    command_line_names,
    friendly_errors,
    load,
    out,
    print_table,
)

app = typer.Typer(help="Poll the scenarios' triggers and list what they saw.",
                  no_args_is_help=True)

ACTION_STYLE = {"started": "green", "failed": "red", "error": "red", "paused": "yellow",
                "baseline": "cyan", "taken": "dim", "unchanged": "dim"}


@app.command("poll")
@friendly_errors
def poll_command(
    scenario: Annotated[str | None, typer.Argument(help="Only this scenario.")] = None,
    project: ProjectOption = Path("."),
    trigger: Annotated[str | None, typer.Option(help="Only this trigger (its name).")] = None,
) -> None:
    """Look once at the polling triggers (dataset_changed, sql_changed, labels_ready, python)
    and start a run (in this process) for each change. Exit 2 when a trigger could not look
    or a run could not start."""
    from scenarist.triggers.polling import poll

    loaded = load(project)
    with command_line_names():
        results = poll(loaded, scenario, trigger)
    if not results:
        out.print("no polling triggers (dataset_changed, sql_changed, labels_ready, python)")
        return
    table = Table(title=f"triggers of {loaded.project}")
    for column in ("scenario", "trigger", "subject", "action", "run id"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold")
    for r in results:
        style = ACTION_STYLE.get(r.action, "")
        table.add_row(r.scenario, r.trigger, r.subject or "-", f"[{style}]{r.action}[/]",
                      r.run_id or "", r.message or "")
    print_table(table)
    if any(r.action in ("failed", "error") for r in results):
        raise typer.Exit(EXIT_ERROR)


@app.command("list")
@friendly_errors
def list_command(
    scenario: Annotated[str | None, typer.Argument(help="Only this scenario.")] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Every trigger with its scenario's status and what it last saw."""
    from scenarist.triggers.state import trigger_states

    loaded = load(project)
    with command_line_names():
        if scenario is not None and scenario not in loaded.scenarios:
            from scenarist.project.config import scenario_spec

            scenario_spec(loaded, scenario)
        states = trigger_states(loaded, scenario)
    table = Table(title=f"triggers of {loaded.project}")
    for column in ("scenario", "trigger", "type", "every", "status", "subject", "last change",
                   "seen", "runs"):
        table.add_column(column, no_wrap=True)
    for s in states:
        table.add_row(s.scenario, s.trigger, s.kind, s.every or "-", s.status, s.subject or "-",
                      s.last_change or "never looked",
                      s.seen_at.strftime("%Y-%m-%d %H:%M:%S") if s.seen_at else "-",
                      str(s.runs))
    print_table(table)
