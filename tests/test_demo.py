"""The demo pipeline in-process: Q4 warns with card_age and card_fico_score on top, Q2 and Q3
are OK, the warning mail arrives with its log and report, and a second run replaces. The
project file it leaves is `init`'s: the sink's temporary port is never written."""

from __future__ import annotations

import os
import re
from importlib import resources

from typer.testing import CliRunner

from scenarist.checks.outcome import StepOutcome
from scenarist.cli import app
from scenarist.demo.run import run_demo
from scenarist.project.config import load_project

TEMPLATE = (resources.files("scenarist.demo") / "project" / "scenarist.yaml").read_text()


def test_demo_end_to_end_and_rerun(tmp_path, prefect_api):
    folder = tmp_path / "demo"
    result = run_demo(folder, rows=3_000)

    assert result.outcome is StepOutcome.WARNING
    assert result.check_outcomes == {"2017Q2": "OK", "2017Q3": "OK", "2017Q4": "WARNING"}
    assert set(result.top_drifted["2017Q4"][:2]) == {"card_age", "card_fico_score"}
    assert list(result.store.index) == ["2017Q2", "2017Q3", "2017Q4"]
    assert result.store.loc["2017Q4", "data_drift"] > 0.45 > result.store.loc["2017Q2",
                                                                                 "data_drift"]

    (mail,) = result.mails  # only Q4 warns
    assert mail["Subject"] == 'scenario "Data drift monitor" issued a warning'
    assert mail["To"] == "me@example.com" and mail["From"] == "mlops@example.com"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "data drift < 0.45: WARNING" in body and "Evaluation 2017Q4 of the_MES" in body
    assert "/runs/flow-run/" in body
    attachments = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert set(attachments) == {"scenario.log", "2017Q4.html"}
    assert "check 'data drift < 0.45': WARNING" in attachments["scenario.log"]
    assert result.report is not None
    assert attachments["2017Q4.html"] == result.report.read_text()

    # the mail reached the sink through the environment; the file keeps the defaults
    written = result.project_file.read_text()
    assert written == TEMPLATE and re.search(r"port: *\d", written) is None
    assert 'port: "${SCENARIST_SMTP_PORT:-1025}"' in written
    assert "SCENARIST_SMTP_PORT" not in os.environ and "SCENARIST_SMTP_HOST" not in os.environ
    mail_connection = load_project(result.project_file).connections["mail"]
    assert (mail_connection.resolved("host"), mail_connection.resolved_port()) == ("localhost",
                                                                                 1025)

    again = run_demo(folder, rows=3_000)
    assert list(again.store.index) == ["2017Q2", "2017Q3", "2017Q4"]  # replaced, not added
    # each quarter's run checks the evaluation it built, not the store's latest (Q4)
    assert again.check_outcomes == {"2017Q2": "OK", "2017Q3": "OK", "2017Q4": "WARNING"}
    assert len(again.mails) == 1


def test_init_writes_a_valid_project(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "mine"
    result = runner.invoke(app, ["init", str(folder), "--example", "fraud", "--rows", "500"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 0
    assert (folder / "scenarist.yaml").read_text() == TEMPLATE  # the demo's file, too
    again = runner.invoke(app, ["init", str(folder), "--rows", "500"])
    assert again.exit_code == 3 and "already exists" in again.output
    other = runner.invoke(app, ["init", str(tmp_path / "x"), "--example", "churn"])
    assert other.exit_code == 3 and "unknown example 'churn'; available examples: fraud" in \
        other.output
