"""`scenarist validate` finds in one pass what a run would fail on: unknown keys, names a
template or condition reads in any branch, metric names, expressions the sandbox refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from reporter_helpers import MONITOR, edit_project
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.errors import ConfigError
from scenarist.flows.conditions import evaluate_expression
from scenarist.validation import load_project, validate_project

STEP = f"scenarios.{MONITOR}.steps[1]"
REPORTER = f"scenarios.{MONITOR}.reporters[0]"


def _problems(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in validate_project(root):
        found[problem.location] = found.get(problem.location, "") + problem.message + "\n"
    return found


def _scenario(data: dict) -> dict:
    return data["scenarios"][MONITOR]


def test_one_pass_reports_an_unknown_key_a_bad_template_and_a_misspelt_condition(project_copy):
    def change(data: dict) -> None:
        data["notifications"] = {"slack": True}  # unknown top-level key: the schema fails
        _scenario(data)["reporters"][0]["body_template"] = "drift_warnnig.txt.j2"
        _scenario(data)["steps"][1]["when"] = "stepOutcome_Build_MSE == 'SUCCESS'"

    edit_project(project_copy, change)
    problems = _problems(project_copy)
    assert "unknown key 'notifications'" in problems["notifications"]
    assert "template file 'drift_warnnig.txt.j2' not found" in problems[
        f"{REPORTER}.body_template"]
    assert "stepOutcome_Build_MSE in" in problems[f"{STEP}.when"]
    assert "did you mean stepOutcome_Build_MES?" in problems[f"{STEP}.when"]

    result = CliRunner().invoke(app, ["validate", str(project_copy)])
    assert result.exit_code != 0
    for expected in ("unknown key 'notifications'", "drift_warnnig.txt.j2",
                     "stepOutcome_Build_MSE", "3 problem(s) found"):
        assert expected in result.output


def test_a_reporter_with_an_unknown_key_still_has_its_templates_checked(project_copy):
    def change(data: dict) -> None:
        reporter = _scenario(data)["reporters"][0]
        reporter["subjcet"] = "typo"  # unknown key in the reporter itself
        reporter["subject"] = "{{ scenarioNmae }}"
        data["evaluation_stores"]["the_MES"]["max_rows_per_side"] = "many"  # bad value

    problems = _problems(edit_project(project_copy, change))
    assert "unknown key 'subjcet'" in problems[REPORTER + ".subjcet"]
    assert "undefined variable 'scenarioNmae'; did you mean scenarioName?" in problems[
        f"{REPORTER}.subject"]
    assert "valid integer" in problems["evaluation_stores.the_MES.max_rows_per_side"]
    with pytest.raises(ConfigError):
        load_project(project_copy)


def test_template_names_are_checked_in_every_branch(project_copy):
    body = ('{% if quarter == "2017Q3" %}{{ scenarioNme }}{% endif %}\n'
            "drift {{ evaluation.metrics.data_drfit | fmt }}\n"
            '{{ evaluation.metrics.get("acu") }} {{ evaluation.lable }}\n')
    edit_project(project_copy, lambda d: _scenario(d)["reporters"][0].update(
        body=body, body_template=None))
    message = _problems(project_copy)[f"{REPORTER}.body"]
    assert "undefined variable 'scenarioNme'; did you mean scenarioName?" in message
    assert ("unknown metric 'data_drfit' in evaluation.metrics.data_drfit; did you mean "
            "data_drift?") in message
    assert "unknown metric 'acu' in evaluation.metrics.get('acu'); did you mean auc?" in message
    assert "evaluation has no 'lable'; did you mean label?" in message


def test_known_metrics_pass_built_in_per_feature_intervals_and_custom(project_copy):
    (project_copy / "mymetrics.py").write_text(
        "def approval_rate(current, reference, predictions, labels):\n    return 0.5\n")
    body = ("{{ evaluation.metrics.data_drift | fmt }} {{ evaluation.metrics.auc }}\n"
            '{{ evaluation.metrics["feature_drift[card_age]"] }}\n'
            '{{ evaluation.metrics["auc.lower"] }} {{ evaluation.metrics.estimated_auc }}\n'
            "{{ evaluation.metrics.approval_rate }} {{ evaluation.label }}\n"
            "{% for name, value in evaluation.metrics.items() %}{{ name }}{% endfor %}\n")

    def change(data: dict) -> None:
        data["evaluation_stores"]["the_MES"]["metrics"] = {
            "approval_rate": {"python": "mymetrics:approval_rate"}}
        _scenario(data)["reporters"][0].update(body=body, body_template=None)
        _scenario(data)["steps"][1]["when"] = "evaluation.metrics.approval_rate > 0.4"

    assert validate_project(edit_project(project_copy, change)) == []


UNSAFE = "''.__class__.__mro__"


def test_unsafe_expressions_outside_templates_fail_validate(project_copy):
    def change(data: dict) -> None:
        _scenario(data)["steps"][1]["when"] = UNSAFE
        _scenario(data)["steps"].append({"name": "Decide", "type": "set_variables",
                                         "expressions": {"cls": "quarter.__class__"}})
        data["evaluation_stores"]["the_MES"]["label"] = "{{ quarter.__class__ }}"
        data["datasets"]["transactions_batch"]["path"] = (
            "data/transactions_{{ quarter.__init__.__globals__ }}.parquet")

    problems = _problems(edit_project(project_copy, change))
    refused = "which the sandbox refuses"
    assert "reads '__class__', " + refused in problems[f"{STEP}.when"]
    assert refused in problems[f"scenarios.{MONITOR}.steps[2].expressions.cls"]
    assert refused in problems["evaluation_stores.the_MES.label"]
    assert "reads '__globals__'" in problems["datasets.transactions_batch.path"]
    with pytest.raises(Exception, match="unsafe"):  # what the run would have said instead
        evaluate_expression(UNSAFE, {})


def test_a_single_equals_sign_is_named_with_its_location(project_copy):
    edit_project(project_copy, lambda d: _scenario(d)["reporters"][0].update(
        when="stepOutcome_MES_Warn = 'WARNING'"))
    message = _problems(project_copy)[f"{REPORTER}.when"]
    assert "expected token ')', got '='; use == to compare" in message
