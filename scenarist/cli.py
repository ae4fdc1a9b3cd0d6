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
    scenarist export STORE [--label L] [--format parquet|csv] [-o FILE]
    scenarist deployments export ID -o FILE [--start --end | --batch B]
    scenarist deployments secondary ID [--dataset NAME=FILE --key K | --clear]
    scenarist demo [--dir DIR] [--smtp HOST:PORT]
    scenarist init --example fraud DIR
    scenarist serve --model DEPLOYMENT_ID=model.joblib [--host H --port P]
    scenarist keys create NAME --scope predict --deployment ID | list | revoke KEY_ID

User mistakes (a bad project file, a missing column, an unreachable store) print one clear
message and exit 1; they never print a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scenarist.commands import (
    bundle,
    checks,
    demo,
    deployments,
    export,
    outbox,
    report,
    scenarios,
    serve,
    store,
    ui,
)
from scenarist.commands.common import err, out
from scenarist.project.config import validate_project

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
app.add_typer(serve.app, name="keys")
app.command("run")(scenarios.run)
app.command("report")(report.report)
app.command("export")(export.export)
app.command("demo")(demo.demo)
app.command("init")(demo.init)
app.command("serve")(serve.serve)
app.command("ui")(ui.ui)


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
