"""Running a project's checks: the runner and its history on SQLite and PostgreSQL, `scenarist
validate` for python checks, and `scenarist checks run|history` with its exit codes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scenarist.checks import Outcome
from scenarist.cli import app
from scenarist.errors import ConfigError
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.checking import check_history, run_checks, store_engine
from scenarist.project.config import load_project
from scenarist.validation import validate_project

CHECK_MODULE = '''
def drift_below(evaluation, previous, params):
    return "OK" if evaluation.metric("data_drift") < params["limit"] else "ERROR"
'''


def _configure(project: Path, url: str | None = None, **extra_checks) -> str:
    """Give the copy's store a unique name (PostgreSQL is shared by the session), point it at
    `url`, add checks; returns the store name."""
    store = f"mes_{uuid.uuid4().hex[:8]}"
    path = project / "scenarist.yaml"
    config = yaml.safe_load(path.read_text())
    config["evaluation_stores"][store] = config["evaluation_stores"].pop("the_MES")
    for check in config["checks"].values():
        check["store"] = store
    config["checks"].update({name: {"store": store, **spec} for name, spec in extra_checks.items()})
    for scenario in config["scenarios"].values():
        scenario["steps"] = [s for s in scenario["steps"] if s["type"] == "run_checks"]
    if url is not None:
        config["connections"]["store"]["url"] = url
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    (project / "project_checks.py").write_text(CHECK_MODULE)
    return store


def _record(project, store: str, label: str, **metrics: float) -> None:
    values = [MetricValue(k, v) for k, v in metrics.items()]
    open_store(project, store).record(label, ComputedEvaluation(values, 100, 100),
                                      model="fraud_model")


EXTRA = {
    "auc drop": {"type": "relative_change", "metric": "auc", "direction": "decrease",
                 "soft_max_change": 0.05, "hard_max_change": 0.10},
    "drift function": {"type": "python", "function": "project_checks:drift_below",
                       "params": {"limit": 0.6}},
}


def test_run_checks_evaluates_records_and_reads_back(store_url, project_copy):
    store = _configure(project_copy, store_url, **EXTRA)
    project = load_project(project_copy)
    _record(project, store, "2017Q3", data_drift=0.02, auc=0.80)
    _record(project, store, "2017Q4", data_drift=0.49, auc=0.74)

    results = run_checks(project, store=store, scenario_run_id="run-42")

    assert [(r.name, r.outcome) for r in results] == [
        ("data drift < 0.45", Outcome.WARNING),
        ("auc above 0.7", Outcome.WARNING),
        ("auc drop", Outcome.WARNING),      # 7.5% down: past 5%, within 10%
        ("drift function", Outcome.OK),     # imported from the project folder
    ]
    assert {r.evaluation_label for r in results} == {"2017Q4"}
    history = check_history(store_engine(project, store), store=store)
    assert list(history.check) == [r.name for r in results]
    assert set(history.scenario_run_id) == {"run-42"}
    assert history.loc[history.check == "auc drop", "bounds"].iloc[0]["previous_label"] == "2017Q3"

    only = run_checks(project, ["auc above 0.7"], record=False)  # names across stores
    assert [r.name for r in only] == ["auc above 0.7"]
    assert len(check_history(store_engine(project, store), store=store)) == 4


def test_a_store_without_evaluations_gives_empty(store_url, project_copy):
    store = _configure(project_copy, store_url)
    results = run_checks(load_project(project_copy), store=store)
    assert {r.outcome for r in results} == {Outcome.EMPTY}
    assert {r.message for r in results} == {f"store {store!r} has no evaluation yet"}


def test_unknown_names_list_what_is_defined(project_copy):
    store = _configure(project_copy)
    project = load_project(project_copy)
    with pytest.raises(ConfigError, match="unknown check 'auc > 0.7'; defined checks: "
                       "data drift < 0.45, auc above 0.7"):
        run_checks(project, ["auc > 0.7"], store=store)
    with pytest.raises(ConfigError, match=f"unknown evaluation store 'MES'; defined stores: "
                       f"{store}"):
        run_checks(project, store="MES")


def test_validate_reports_a_python_check_that_does_not_import(project_copy):
    _configure(project_copy, broken={"type": "python", "function": "project_checks:nope"},
               gone={"type": "python", "function": "not_a_module_here:f"})
    problems = {p.location: p.message for p in validate_project(project_copy)}
    assert problems["checks.broken.function"].startswith(
        "module 'project_checks' has no function 'nope'; functions: drift_below")
    assert problems["checks.gone.function"].startswith(
        "cannot import module 'not_a_module_here' (ModuleNotFoundError")




def test_cli_exit_codes(project_copy, wide_console):
    store = _configure(project_copy, **{"drift hard": {"metric": "data_drift", "hard_max": 0.3}})
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, ["checks", *args, "-p", str(project_copy)])
        return result.exit_code, result.output

    code, output = run("run", store, "data drift < 0.45")
    assert code == 1 and "has no evaluation yet" in output and "EMPTY" in output

    project = load_project(project_copy)
    build_evaluation(project, store, {"quarter": "2017Q2"})
    code, output = run("run", store, "data drift < 0.45", "drift hard")
    assert code == 0, output
    assert "worst outcome: OK" in output

    build_evaluation(project, store, {"quarter": "2017Q4"})  # data_drift ~0.49
    code, output = run("run", store, "data drift < 0.45")
    assert code == 1, output
    assert "is above the soft maximum 0.45" in output and "2017Q4" in output
    code, output = run("run", store)
    assert code == 2, output
    assert "is above the hard maximum 0.3" in output

    assert run("run", "MES")[0] == 3
    code, output = run("run", store, "auc > 0.7")
    assert code == 3 and "unknown check 'auc > 0.7'; defined checks:" in output
    assert runner.invoke(app, ["checks", "run"]).exit_code == 3  # missing STORE

    code, output = run("history", "data drift < 0.45", "--store", store, "--since", "2000-01-01")
    assert code == 0, output
    assert "1 OK, 1 EMPTY, 2 WARNING" in output  # Q4 was checked twice
    code, output = run("history", "never ran")
    assert code == 0 and "no stored results for check 'never ran'" in output
