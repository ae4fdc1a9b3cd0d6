"""`scenarist deployments list|show|stats|drift|accuracy|batches` on both backends."""

from __future__ import annotations

import pytest
from deployment_helpers import DAY, TARGET, log_rows
from typer.testing import CliRunner

from scenarist.cli import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


def run(*args: str):
    return runner.invoke(app, ["deployments", *args])


def test_deployment_commands(fraud_deployment, fraud_model, quarters, store_url):
    dep = fraud_deployment
    batch = dep.create_batch("cli-batch")
    frame = quarters["2017Q4"].iloc[:200].reset_index(drop=True)
    _, ids, _, _ = log_rows(dep, fraud_model, frame, batch_id=batch.id, request_ms=12.0)
    dep.log_labels(ids, frame[TARGET])
    url = ("--url", store_url)
    window = ("--start", DAY[0], "--end", DAY[1])

    listed = run("list", *url)
    assert listed.exit_code == 0, listed.output
    assert dep.id in listed.output and "Fraud v1" in listed.output
    shown = run("show", dep.id, *url)
    assert shown.exit_code == 0 and "fraud_model v1" in shown.output
    assert "alert_delay: delay_seconds=259200" in shown.output
    stats = run("stats", dep.id, *window, *url)
    assert stats.exit_code == 0 and "total_predictions" in stats.output and "200" in stats.output
    over = run("stats", dep.id, *window, "--bucket", "PT6H", "--batch", "cli-batch", *url)
    assert over.exit_code == 0 and "2024-05-01 00:00" in over.output and "200" in over.output
    drift = run("drift", dep.id, *window, *url)
    assert drift.exit_code == 0 and "card_age" in drift.output and "target drift" in drift.output
    accuracy = run("accuracy", dep.id, *window, *url)
    assert accuracy.exit_code == 0 and "auc" in accuracy.output
    assert "200 of 200 predictions labelled" in accuracy.output
    assert "labels ready" in accuracy.output
    batches = run("batches", dep.id, *url)
    assert batches.exit_code == 0 and "cli-batch" in batches.output


def test_deployment_command_errors_are_one_line(store_url):
    result = run("show", "missing-id", "--url", store_url)
    assert result.exit_code == 3
    assert "no deployment with id 'missing-id'" in result.output
    assert "Traceback" not in result.output
