"""The command line on the example project: validate, evaluate, show, history, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarist.cli import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


def run(*args: str):
    return runner.invoke(app, list(args))


def _use_store(project: Path, url: str) -> None:
    text = (project / "scenarist.yaml").read_text()
    (project / "scenarist.yaml").write_text(
        text.replace('url: "sqlite:///.scenarist/store.db"', f'url: "{url}"')
    )


def test_validate_accepts_the_example(example_project):
    result = run("validate", str(example_project))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_reports_every_problem_with_its_location(project_copy):
    path = project_copy / "scenarist.yaml"
    text = path.read_text().replace("model: fraud_model", "model: fraud").replace(
        "input: transactions_batch", "input: transactions"
    )
    path.write_text(text)
    result = run("validate", str(project_copy))
    assert result.exit_code == 4
    assert "evaluation_stores.the_MES.model" in result.output
    assert "unknown model 'fraud'" in result.output
    assert "evaluation_stores.the_MES.input" in result.output
    assert "2 problem(s) found" in result.output


def test_evaluate_show_history_on_both_backends(project_copy, store_url):
    _use_store(project_copy, store_url)
    p = ("--project", str(project_copy))
    for quarter in ("2017Q2", "2017Q4"):
        result = run("store", "evaluate", "the_MES", "--var", f"quarter={quarter}", *p)
        assert result.exit_code == 0, result.output
        assert f"evaluated '{quarter}'" in result.output
    assert "card_age" in result.output  # Q4's drifted features are named

    # re-running Q2 replaces it
    assert run("store", "evaluate", "the_MES", "--var", "quarter=2017Q2", *p).exit_code == 0

    shown = run("store", "show", "the_MES", *p)
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("2017Q2") == 1 and "2017Q4" in shown.output
    assert "data drift" in shown.output and "card_fico_score" in shown.output

    history = run("store", "history", "the_MES", "psi", "--feature", "card_age", *p)
    assert history.exit_code == 0, history.output
    assert "psi[card_age]" in history.output and "2017Q4" in history.output


@pytest.mark.parametrize(
    "args, message",
    [
        (("store", "evaluate", "nope"), "unknown evaluation store 'nope'; defined stores: the_MES"),
        (("store", "evaluate", "the_MES", "--var", "quarter=2017Q9"),
         "transactions_2017Q9.parquet"),
        (("store", "evaluate", "the_MES", "--var", "quarter"), "is not NAME=VALUE"),
        (("store", "history", "the_MES", "data_drfit"), "has metric 'data_drfit'"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(project_copy, args, message):
    if args[1] == "history":
        run("store", "evaluate", "the_MES", "--var", "quarter=2017Q2", "-p", str(project_copy))
    result = run(*args, "--project", str(project_copy))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_batch_exits_1_and_writes_nothing(project_copy):
    import pandas as pd

    batch = project_copy / "data" / "transactions_2017Q2.parquet"
    frame = pd.read_parquet(batch)
    frame["card_age"] = frame["card_age"].astype(str)  # numbers as text, as from a CSV
    frame.loc[7, "card_age"] = "twelve"
    frame.to_parquet(batch)
    result = run("store", "evaluate", "the_MES", "--var", "quarter=2017Q2", "-p", str(project_copy))
    assert result.exit_code == 4
    assert "column 'card_age' is numeric in the reference but row 7" in result.output
    shown = run("store", "show", "the_MES", "-p", str(project_copy))
    assert "no evaluations yet" in shown.output


def test_unreachable_store(project_copy):
    _use_store(project_copy, "postgresql://postgres@127.0.0.1:9/none")
    result = run("store", "show", "the_MES", "-p", str(project_copy))
    assert result.exit_code == 4
    assert "cannot reach the store" in result.output
