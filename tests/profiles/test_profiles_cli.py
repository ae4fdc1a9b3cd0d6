"""`scenarist store evaluate --stream` and `scenarist store window-drift` on the example project."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.metrics.drift import feature_drift
from scenarist.operations.build import build_evaluation, open_store
from scenarist.project.config import load_project
from scenarist.project.datasets import read_dataset

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("wide_console")


def run(*args: str):
    return runner.invoke(app, list(args))


def test_stream_then_window_drift(prefect_api, project_copy):
    project = str(project_copy)
    for quarter in ("2017Q2", "2017Q4"):
        result = run("store", "evaluate", "the_MES", "--stream", "--var", f"quarter={quarter}",
                     "-p", project)
        assert result.exit_code == 0, result.output
        assert f"evaluated '{quarter}'" in result.output
    loaded = load_project(project_copy)
    q4 = open_store(loaded, "the_MES").get("2017Q4")
    assert q4.details["streaming"]["column_groups"] == 1
    reference = read_dataset(loaded, "transactions_train")
    current = read_dataset(loaded, "transactions_batch", {"quarter": "2017Q4"})
    for d in feature_drift(reference, current, columns=q4.details["features"], n_jobs=1):
        assert q4.metric("psi", d.feature) == pytest.approx(d.stats["psi"], rel=1e-12)
        assert q4.metric("drifted", d.feature) == float(d.drifted)

    result = run("store", "window-drift", "the_MES", "--last", "1", "-p", project)
    assert result.exit_code == 0, result.output
    assert "drift of 1 evaluation(s) (2017Q4" in result.output
    card_age = next(line for line in result.output.splitlines() if "card_age" in line)
    assert "yes" in card_age
    result = run("store", "window-drift", "the_MES", "--label", "2017Q2", "--label", "2017Q4",
                 "--sketches", "--all", "-p", project)
    assert result.exit_code == 0, result.output
    assert "2017Q2 … 2017Q4" in result.output and "drift_share=" in result.output

    # an in-memory evaluation keeps profiles too, on the same reference edges
    build_evaluation(loaded, "the_MES", {"quarter": "2017Q3"})
    result = run("store", "window-drift", "the_MES", "-n", "3", "-p", project)
    assert result.exit_code == 0, result.output

    # `streaming: true` makes build_evaluation (and so a scenario's step) stream
    text = (project_copy / "scenarist.yaml").read_text()
    (project_copy / "scenarist.yaml").write_text(text.replace(
        'label: "{{ quarter }}"', 'label: "{{ quarter }}"\n    streaming: true\n'
        '    memory_limit: 64MiB'))
    streamed = build_evaluation(load_project(project_copy), "the_MES", {"quarter": "2017Q3"})
    assert streamed.details["streaming"]["memory_limit"] == 64 * 2**20
    assert "data_drift" not in streamed.details.get("options", {})


def test_window_drift_errors_are_one_line(project_copy):
    result = run("store", "window-drift", "the_MES", "--last", "5", "-p", str(project_copy))
    assert result.exit_code == 3
    assert "has no evaluations yet" in result.output and "Traceback" not in result.output
    text = (project_copy / "scenarist.yaml").read_text()
    (project_copy / "scenarist.yaml").write_text(text.replace(
        'label: "{{ quarter }}"', 'label: "{{ quarter }}"\n    dask_address: tcp://x:8786'))
    result = run("store", "evaluate", "the_MES", "--stream", "-p", str(project_copy))
    assert result.exit_code == 4 and "dask_address` needs `task_runner: dask" in result.output


def test_a_scenario_step_streams_a_streaming_store(prefect_api, project_copy):
    from scenarist.flows.scenario import run_scenario

    text = (project_copy / "scenarist.yaml").read_text()
    (project_copy / "scenarist.yaml").write_text(text.replace(
        'label: "{{ quarter }}"', 'label: "{{ quarter }}"\n    streaming: true'))
    result = run_scenario(project_copy, "Data drift monitor", {"quarter": "2017Q4"})
    steps = {step.name: step.outcome for step in result.steps}
    assert steps["Build MES"] == "SUCCESS", result.log
    q4 = open_store(load_project(project_copy), "the_MES").get("2017Q4")
    assert q4.details["streaming"]["column_groups"] == 1
    assert q4.metric("drifted", "card_age") == 1.0
