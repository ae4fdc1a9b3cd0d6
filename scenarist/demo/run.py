"""The demo, end to end: the example project, its two scenarios through Prefect, the alert.

    result = run_demo(".scenarist/demo")          # what `make demo` / `scenarist demo` runs

1. write the fraud example (data for Q1–Q4 2017, a model trained on Q1, scenarist.yaml: the
   same files as `scenarist init`);
2. start a local SMTP sink (aiosmtpd) unless an SMTP server is given, and point the project's
   mail connection at it for this run only (SCENARIST_SMTP_HOST / SCENARIST_SMTP_PORT, which
   scenarist.yaml reads; the file keeps its defaults, localhost:1025);
3. run "Build MES for all quarters", which runs "Data drift monitor" for Q2, Q3 and Q4 in turn
   (each a Prefect flow run: build the evaluation store, check `data drift < 0.45`, mail when
   the check warns);
4. collect what the user should see: the store, the check outcomes per quarter, the mail that
   arrived and the HTML report.

Re-running replaces the evaluations of Q2–Q4 (same labels), it never duplicates them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from scenarist.checks.outcome import StepOutcome
from scenarist.demo.project import SMTP_HOST_ENV, SMTP_PORT_ENV, write_example
from scenarist.demo.smtp_sink import SmtpSink
from scenarist.project.config import load_project

SCENARIO = "Build MES for all quarters"
CHECK = "data drift < 0.45"
STORE = "the_MES"


@dataclass(frozen=True)
class DemoResult:
    """What the demo shows."""

    project_file: Path
    outcome: StepOutcome
    run_id: str
    run_url: str | None  # None without a Prefect server or console (`scenarios log RUN_ID`)
    store: pd.DataFrame  # EvaluationStore.list(): one row per quarter
    check_outcomes: dict[str, str]  # quarter → outcome of `data drift < 0.45`
    top_drifted: dict[str, list[str]]  # quarter → top drifted features
    mails: list[EmailMessage]
    report: Path | None


def run_demo(
    folder: Path | str,
    *,
    rows: int = 20_000,
    smtp: tuple[str, int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo in `folder`; `smtp` (host, port) sends to a real server instead of a sink."""
    from scenarist.flows.scenario import run_scenario
    from scenarist.operations.build import open_store
    from scenarist.operations.checking import store_engine
    from scenarist.stores.check_results import check_history

    say = progress or (lambda _message: None)
    sink = SmtpSink() if smtp is None else None
    with sink if sink is not None else nullcontext():
        say(f"generating 4 quarters × {rows:,} transactions and training the model on Q1")
        address = ("127.0.0.1", sink.port) if sink is not None else smtp
        project_file = write_example(folder, rows=rows)
        say(f"running scenario {SCENARIO!r} through Prefect (Q2, Q3, Q4)")
        with _smtp_environment(address):
            result = run_scenario(project_file, SCENARIO)
    project = load_project(project_file)
    store = open_store(project, STORE)
    quarters = ["2017Q2", "2017Q3", "2017Q4"]
    history = check_history(store_engine(project, STORE), CHECK, store=STORE)
    latest = history.groupby("evaluation_label", observed=True).tail(1)
    outcomes = {row["evaluation_label"]: str(row["outcome"]) for _, row in latest.iterrows()}
    report = project.root / ".scenarist" / "reports" / STORE / "2017Q4.html"
    return DemoResult(
        project_file=project_file,
        outcome=result.outcome,
        run_id=result.run_id,
        run_url=result.url,
        store=store.list().loc[quarters],
        check_outcomes={q: outcomes.get(q, "EMPTY") for q in quarters},
        top_drifted={
            q: list(store.get(q).details.get("top_drifted_features", [])) for q in quarters
        },
        mails=list(sink.messages) if sink is not None else [],
        report=report if report.is_file() else None,
    )


@contextmanager
def _smtp_environment(address: tuple[str, int] | None) -> Iterator[None]:
    """SCENARIST_SMTP_HOST / _PORT set to `address` while the demo runs, restored after."""
    if address is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in (SMTP_HOST_ENV, SMTP_PORT_ENV)}
    os.environ[SMTP_HOST_ENV], os.environ[SMTP_PORT_ENV] = address[0], str(address[1])
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
