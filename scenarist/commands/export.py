"""`scenarist export STORE`: the exact rows behind one evaluation, as Parquet or CSV."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import typer

from scenarist.commands.common import ProjectOption, friendly_errors, out, project_store


@friendly_errors
def export(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Evaluation label (default: latest).")
    ] = None,
    format: Annotated[
        Literal["parquet", "csv"] | None,
        typer.Option("--format", "-f", help="parquet or csv (default: from the file suffix, "
                     "else parquet)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output file (default STORE_LABEL.parquet|csv)."),
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Write the rows behind an evaluation: features, additional data, labels, predictions."""
    from scenarist.errors import NotFoundError

    _, evaluation_store = project_store(project, store)
    if label is None:
        latest = evaluation_store.latest()
        if latest is None:
            raise NotFoundError(f"store {store!r} has no evaluation yet; nothing to export")
        label = latest.label
    if output is None:
        safe = re.sub(r"[^\w.-]+", "_", f"{store}_{label}")
        output = Path(f"{safe}.{format or 'parquet'}")
    path = evaluation_store.export(label, output, format)
    rows = evaluation_store.get(label).details["snapshot"]["rows"]
    out.print(f"exported {rows} row(s) of evaluation {label!r} of store {store!r} to "
              f"[bold]{path}[/]")
