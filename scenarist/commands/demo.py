"""`scenarist demo` (what `make demo` runs) and `scenarist init --example fraud DIR`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from scenarist.commands.common import CommandLineError, err, fmt, friendly_errors, out

OUTCOME_STYLE = {"OK": "green", "WARNING": "yellow", "ERROR": "red", "EMPTY": "dim"}


@friendly_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the example project is written.")
    ] = Path(".scenarist/demo"),
    rows: Annotated[int, typer.Option(help="Transactions per quarter.", min=200)] = 20_000,
    smtp: Annotated[
        str | None,
        typer.Option(help="HOST:PORT of an SMTP server to send the alert to (default: a "
                     "local sink that prints what it receives)."),
    ] = None,
) -> None:
    """The fraud-monitoring story end to end.

    Data, model, evaluation store for Q2–Q4 built by scenarios on Prefect, the
    `data drift < 0.45` check, the warning mail, the HTML report."""
    from scenarist.demo.run import CHECK, STORE, run_demo

    with err.status("starting") as status:
        result = run_demo(folder, rows=rows, smtp=_address(smtp),
                          progress=lambda message: status.update(message))
    out.print(f"project: [bold]{result.project_file}[/]   scenario outcome: {result.outcome}")

    table = Table(title=f"evaluation store {STORE}")
    table.add_column("quarter", no_wrap=True)
    for column in ("rows", "data drift", "drift share", "auc", f"check {CHECK}"):
        table.add_column(column, justify="right")
    table.add_column("top drifted features", overflow="fold")
    for quarter, row in result.store.iterrows():
        outcome = result.check_outcomes[quarter]
        table.add_row(str(quarter), str(row["row_count"]), fmt(row.get("data_drift")),
                      fmt(row.get("drift_share")), fmt(row.get("auc")),
                      f"[{OUTCOME_STYLE.get(outcome, 'dim')}]{outcome}[/]",
                      "\n".join(result.top_drifted[quarter][:3]) or "-")
    out.print(table)

    for mail in result.mails:
        body = mail.get_body(preferencelist=("plain",))
        attachments = [part.get_filename() for part in mail.iter_attachments()]
        out.print(Panel(
            f"From: {mail['From']}\nTo: {mail['To']}\nSubject: {mail['Subject']}\n\n"
            f"{body.get_content().strip() if body else ''}\n\n"
            f"attachments: {', '.join(attachments) or 'none'}",
            title="mail received by the local SMTP sink", expand=False,
        ), markup=False, highlight=False)
    if not result.mails and smtp is None:
        out.print("[yellow]no mail arrived[/]")
    if result.report is not None:
        out.print(f"HTML report: [bold]{result.report}[/]")
    from scenarist.flows.context import log_hint

    link = result.run_url or log_hint(result.run_id, result.project_file.parent)
    out.print(f"run: {link}", markup=False, highlight=False)
    if not os.environ.get("PREFECT_API_URL"):
        out.print("(the runs went through an ephemeral Prefect API, stopped when the demo exits; "
                  "start `prefect server start` and set PREFECT_API_URL to keep them in the "
                  "Prefect UI)")
    out.print(f"open it in the console: scenarist ui -p {folder}", markup=False, highlight=False)


@friendly_errors
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to write the project into.")],
    example: Annotated[str, typer.Option(help="Which example: fraud.")] = "fraud",
    rows: Annotated[int, typer.Option(help="Transactions per quarter.", min=200)] = 20_000,
) -> None:
    """Write an example project (data, model, scenarist.yaml) to start from."""
    from scenarist.demo.project import write_example

    if example != "fraud":
        raise CommandLineError(f"unknown example {example!r}; available examples: fraud")
    if (folder / "scenarist.yaml").exists():
        raise CommandLineError(f"{folder / 'scenarist.yaml'} already exists; choose an empty "
                               "folder")
    with err.status("generating data and training the model"):
        project_file = write_example(folder, rows=rows)
    out.print(f"wrote [bold]{project_file}[/]; try `scenarist run \"Data drift monitor\" "
              f"-p {folder}`")


def _address(smtp: str | None) -> tuple[str, int] | None:
    if smtp is None:
        return None
    host, _, port = smtp.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"{smtp!r} is not HOST:PORT, e.g. smtp.example.com:587",
                                 param_hint="--smtp")
    return host, int(port)
