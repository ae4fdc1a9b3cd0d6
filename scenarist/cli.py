"""The `scenarist` command line: the root app and the sub-commands of `scenarist/commands/`.

    scenarist --version
    scenarist validate [PATH | -p PATH]
    scenarist store evaluate STORE [--var quarter=2017Q2] [--project PATH]
    scenarist store show STORE
    scenarist store history STORE METRIC [--feature F]
    scenarist store delete STORE LABEL
    scenarist checks run STORE [CHECK…] | checks history
    scenarist run SCENARIO [--var k=v]
    scenarist scenarios list | runs [SCENARIO] | log RUN_ID
    scenarist outbox list | retry [ID…] | purge [ID…]
    scenarist report STORE [--label L] [-o report.html]
    scenarist export STORE [--label L] [--format parquet|csv] [-o FILE]
    scenarist deployments list | show ID | … [-p PROJECT | --url URL]
    scenarist deployments export ID -o FILE [--start --end | --batch B]
    scenarist deployments secondary ID [--dataset NAME=FILE --key K | --clear]
    scenarist demo [--dir DIR] [--smtp HOST:PORT]
    scenarist init --example fraud DIR
    scenarist serve --model DEPLOYMENT_ID=model.joblib [--host H --port P]
    scenarist keys create NAME --scope predict --deployment ID | list | revoke KEY_ID

User mistakes (a bad project file, a missing column, an unreachable store) print one clear
message, never a traceback; exit codes are the same for every command (commands/common.py,
README "Command reference"): 0 OK, 1 WARNING/EMPTY, 2 ERROR/FAILED, 3 usage, 4 project mistake.

Only typer, rich and the command modules are imported here: each command imports what it needs
(pandas, Prefect, the metrics, …) when it runs, so `scenarist --help` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scenarist import __version__
from scenarist.commands import (
    bundle,
    checks,
    demo,
    deployments,
    export,
    outbox,
    predict,
    report,
    scenarios,
    serve,
    store,
    triggers,
    ui,
)
from scenarist.commands.common import (
    EXIT_PROJECT,
    UsageExits3,
    err,
    out,
)

app = typer.Typer(
    name="scenarist",
    help="Model-monitoring scenario engine: evaluation stores, checks, scenarios, reporters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=UsageExits3,
)
app.add_typer(store.app, name="store")
app.add_typer(checks.app, name="checks")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(outbox.app, name="outbox")
app.add_typer(deployments.app, name="deployments")
app.add_typer(bundle.app, name="bundle")
app.add_typer(serve.app, name="keys")
app.add_typer(triggers.app, name="triggers")
app.command("run")(scenarios.run)
app.command("report")(report.report)
app.command("export")(export.export)
app.command("demo")(demo.demo)
app.command("init")(demo.init)
app.command("serve")(serve.serve)
app.command("predict")(predict.predict)
app.command("ui")(ui.ui)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"scenarist {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    """Model-monitoring scenario engine: evaluation stores, checks, scenarios, reporters."""


@app.command()
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="Project folder or its scenarist.yaml (or -p).",
                                    show_default=".")
    ] = None,
    project: Annotated[Path | None, typer.Option(
        "--project", "-p", help="Project folder or its scenarist.yaml.")] = None,
) -> None:
    """Check a project file and report every problem with its file and key path (exit 4)."""
    from scenarist import validate_project

    if path is not None and project is not None and path != project:
        raise typer.BadParameter(f"give the project once: {path} or -p {project}",
                                 param_hint="PATH")
    path = path or project or Path(".")
    problems = validate_project(path)
    if not problems:
        out.print(f"[green]ok[/]: {path} is a valid scenarist project")
        return
    for problem in problems:
        err.print(f"[red]{problem}[/]", highlight=False, soft_wrap=True)
    err.print(f"{len(problems)} problem(s) found")
    raise typer.Exit(EXIT_PROJECT)
