"""`scenarist report STORE`: the HTML evaluation report of a store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scenarist.commands.common import ProjectOption, friendly_errors, out, project_store


@friendly_errors
def report(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Evaluation label (default: latest).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file (default .scenarist/reports/STORE/L.html)."),
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Write the self-contained HTML report of one evaluation and the store's history."""
    from scenarist.reports.html import write_report

    loaded, _ = project_store(project, store)
    path = write_report(loaded, store, label=label, output=output)
    out.print(f"report written to [bold]{path}[/]")
