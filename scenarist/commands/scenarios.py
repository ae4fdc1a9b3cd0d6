"""`scenarist run SCENARIO` and `scenarist scenarios list|runs|log|pause|resume`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scenarist.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_WARNING,
    CommandLineError,
    ProjectOption,
    VarOption,
    command_line_names,
    err,
    friendly_errors,
    load,
    out,
    parse_variables,
    print_table,
)

app = typer.Typer(help="List scenarios, their runs and run logs.", no_args_is_help=True)

EXIT_CODES = {"SUCCESS": EXIT_OK, "WARNING": EXIT_WARNING, "FAILED": EXIT_ERROR,
              "ABORTED": EXIT_ERROR}
RUN_ID_PREFIX = 6  # characters of a run id that `scenarios log` needs at least
OUTCOME_STYLE = {"SUCCESS": "green", "WARNING": "yellow", "FAILED": "red", "ABORTED": "magenta"}


@friendly_errors
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario name from scenarist.yaml.")],
    var: VarOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Run a scenario through Prefect (an ephemeral API when no server is configured).

    Exit code: 0 SUCCESS, 1 WARNING, 2 FAILED or ABORTED; 3 for an unknown scenario, 4 for a
    project or input mistake found before the run starts.
    """
    from scenarist.flows.scenario import run_scenario, scenario_spec

    with command_line_names():
        scenario_spec(load(project), scenario)

    result = run_scenario(project, scenario, parse_variables(var or []))
    table = Table(title=f"scenario {scenario}: {result.outcome}")
    for column in ("step", "type", "outcome", "attempts"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold")
    for step in result.steps:
        outcome = step.outcome or "skipped"
        style = OUTCOME_STYLE.get(outcome, "dim")
        table.add_row(step.name, step.type, f"[{style}]{outcome}[/]", str(step.attempts),
                      step.message or "")
    print_table(table)
    from scenarist.flows.context import log_hint

    out.print(f"run: {result.url or log_hint(result.run_id)}", markup=False, highlight=False)
    raise typer.Exit(EXIT_CODES[str(result.outcome)])


@app.command("list")
@friendly_errors
def list_scenarios(project: ProjectOption = Path(".")) -> None:
    """Scenarios of the project with their steps, triggers and status (active / paused)."""
    from scenarist.triggers.control import scenario_status

    loaded = load(project)
    status = scenario_status(loaded)
    table = Table(title=f"scenarios of {loaded.project}")
    for column in ("scenario", "steps", "triggers", "status", "reporters"):
        table.add_column(column, no_wrap=column != "triggers", overflow="fold")
    for name, spec in loaded.scenarios.items():
        triggers = [(t.name + ": " if t.name else "") + describe_trigger(t) for t in spec.triggers]
        state = status[name]
        table.add_row(
            name,
            "\n".join(f"{s.name} ({s.type})" for s in spec.steps),
            "\n".join(triggers) or "manual only",
            f"[{'green' if state == 'active' else 'yellow'}]{state}[/]",
            "\n".join(r.name for r in spec.reporters) or "-",
        )
    print_table(table)


def describe_trigger(trigger) -> str:
    """One line for a trigger: "cron 0 6 * * *", "dataset_changed transactions (every 5m)"."""
    if trigger.cron:
        return f"cron {trigger.cron}"
    if trigger.interval_seconds:
        return f"every {trigger.interval_seconds}s"
    spec = getattr(trigger, trigger.kind)
    if trigger.kind == "event":
        return f"event {spec.match}"
    watched = {"dataset_changed": "dataset", "sql_changed": "connection",
               "labels_ready": "deployment", "python": "function"}[trigger.kind]
    return f"{trigger.kind} {getattr(spec, watched)} (every {spec.every})"


@app.command("pause")
@friendly_errors
def pause_scenario(
    scenario: Annotated[str, typer.Argument(help="Scenario name from scenarist.yaml.")],
    project: ProjectOption = Path("."),
) -> None:
    """Pause every trigger of a scenario (its polls start nothing; its Prefect deployments and
    event automations are paused when PREFECT_API_URL names a server). `scenarist run` still
    runs it."""
    _switch(scenario, project, paused=True)


@app.command("resume")
@friendly_errors
def resume_scenario(
    scenario: Annotated[str, typer.Argument(help="Scenario name from scenarist.yaml.")],
    project: ProjectOption = Path("."),
) -> None:
    """Resume the triggers of a paused scenario."""
    _switch(scenario, project, paused=False)


def _switch(scenario: str, project: Path, *, paused: bool) -> None:
    from scenarist.triggers.control import pause, resume

    loaded = load(project)
    with command_line_names():
        from scenarist.project.config import scenario_spec

        scenario_spec(loaded, scenario)
    result = (pause if paused else resume)(loaded, scenario)
    where = (f"; Prefect deployments: {', '.join(result.prefect_deployments)}"
             if result.prefect_deployments else "")
    out.print(f"scenario {scenario}: {'paused' if paused else 'active'}{where}", markup=False,
              highlight=False)


@app.command("runs")
@friendly_errors
def list_runs(
    scenario: Annotated[str | None, typer.Argument(help="Only this scenario.")] = None,
    project: ProjectOption = Path("."),
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
) -> None:
    """Recorded scenario runs, newest first."""
    from scenarist.flows.scenario import project_engine
    from scenarist.stores.runs import scenario_runs

    runs = scenario_runs(project_engine(load(project)), scenario, limit)
    if runs.empty:
        out.print("no scenario runs recorded yet; start one with `scenarist run SCENARIO`")
        return
    table = Table(title="scenario runs")
    for column in ("started", "scenario", "outcome", "trigger", "run id"):
        table.add_column(column, no_wrap=True)
    for row in runs.itertuples():
        outcome = row.outcome or "running"
        table.add_row(row.started_at.strftime("%Y-%m-%d %H:%M:%S"), row.scenario,
                      f"[{OUTCOME_STYLE.get(outcome, 'dim')}]{outcome}[/]", row.trigger or "",
                      row.id)
    print_table(table)


@app.command("log")
@friendly_errors
def show_log(
    run_id: Annotated[str, typer.Argument(
        help="Run id, or its first characters (at least 6), from `scenarist scenarios runs`.")],
    project: ProjectOption = Path("."),
) -> None:
    """The whole log of one scenario run."""
    from scenarist.flows.scenario import project_engine
    from scenarist.stores.runs import scenario_run, scenario_runs

    engine = project_engine(load(project))
    if len(run_id) < RUN_ID_PREFIX:
        raise CommandLineError(f"run id {run_id!r} is too short: give at least {RUN_ID_PREFIX} "
                               "characters (`scenarist scenarios runs` lists the ids)")
    found = scenario_runs(engine, limit=10, id_prefix=run_id)
    if len(found) > 1:
        listing = "; ".join(f"{r.id} ({r.scenario}, {r.started_at:%Y-%m-%d %H:%M:%S})"
                            for r in found.itertuples())
        raise CommandLineError(f"run id {run_id!r} matches {len(found)}"
                               f"{'+' if len(found) == 10 else ''} runs: {listing}; give more "
                               "characters")
    run, _steps = scenario_run(engine, found["id"].iloc[0] if len(found) else run_id)
    out.print(run["log"] or "(empty log)", markup=False, highlight=False)
    err.print(f"{run['scenario']}: {run['outcome'] or 'running'}")
