"""The `scenarist` command line: the root app and the sub-commands of `scenarist/commands/`.

    scenarist validate [PATH]
    scenarist store evaluate STORE [--var quarter=2017Q2] [--project PATH]
    scenarist store show STORE
    scenarist store history STORE METRIC [--feature F]
    scenarist store delete STORE LABEL
    scenarist checks run STORE [CHECK…] | checks history
    scenarist run SCENARIO [--var k=v]
    scenarist scenarios list | runs [SCENARIO] | log RUN_ID
    scenarist outbox list | retry [ID…] | purge [ID…]
    scenarist report STORE [--label L] [-o report.html]
    scenarist demo [--dir DIR]

User mistakes (a bad project file, a missing column, an unreachable store) print one clear
message and exit 1; they never print a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scenarist.build import build_evaluation
from scenarist.commands import bundle, checks, deployments, outbox, report, scenarios, store
from scenarist.commands.common import delayed_progress, err, fmt, friendly_errors, out
from scenarist.config import load_project, validate_project

app = typer.Typer(
    name="scenarist",
    help="Model-monitoring scenario engine: evaluation stores, checks, scenarios, reporters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(store.app, name="store")
app.add_typer(checks.app, name="checks")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(outbox.app, name="outbox")
app.add_typer(deployments.app, name="deployments")
app.add_typer(bundle.app, name="bundle")
app.command("run")(scenarios.run)
app.command("report")(report.report)


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
    store.store_show("the_MES", project=project_file)
