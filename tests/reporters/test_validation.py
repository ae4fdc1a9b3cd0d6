"""Reporter specs and templates are checked by `scenarist validate`, before any run: every
template is rendered against a sample run with StrictUndefined."""

from __future__ import annotations

from pathlib import Path

import pytest
from reporter_helpers import MONITOR, edit_project
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.reporters.specs import MailReporterSpec, WebhookReporterSpec
from scenarist.validation import load_project, validate_project

LOC = f"scenarios.{MONITOR}.reporters[0]"


def _reporter(data: dict) -> dict:
    return data["scenarios"][MONITOR]["reporters"][0]


def _problems(root: Path) -> dict[str, str]:
    return {p.location: p.message for p in validate_project(root)}


def test_the_example_project_is_valid(project_copy: Path):
    assert validate_project(project_copy) == []
    spec = load_project(project_copy).scenarios[MONITOR].reporters[0]
    assert isinstance(spec, MailReporterSpec) and spec.attach == ["scenario_log",
                                                                  "evaluation_report"]


def test_a_template_syntax_error_fails_validate(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(subject="{{ scenarioName "))
    result = CliRunner().invoke(app, ["validate", str(project_copy)])
    assert result.exit_code == 4
    assert f"{LOC}.subject: template syntax error (inline template, line 1)" in result.output


def test_a_syntax_error_in_a_template_file_names_file_and_line(project_copy: Path):
    (project_copy / "templates" / "drift_warning.txt.j2").write_text(
        "ok\n{% for check in checks %}\n{{ check.name }}\n")
    message = _problems(project_copy)[f"{LOC}.body_template"]
    assert "template syntax error (templates/drift_warning.txt.j2, line 3)" in message


def test_an_undefined_variable_fails_validate(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(
        body="Drift in {{ scenarioNmae }}", body_template=None))
    message = _problems(project_copy)[f"{LOC}.body"]
    assert "undefined variable 'scenarioNmae'; did you mean scenarioName?" in message


def test_an_undefined_attribute_of_a_check_fails_validate(project_copy: Path):
    (project_copy / "templates" / "drift_warning.txt.j2").write_text(
        "{% for c in checks %}{{ c.valeu }}{% endfor %}")
    assert "has no attribute 'valeu'" in _problems(project_copy)[f"{LOC}.body_template"]


def test_a_missing_template_file_lists_where_it_was_looked_for(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(body_template="nope.j2"))
    message = _problems(project_copy)[f"{LOC}.body_template"]
    assert "template file 'nope.j2' not found" in message and "mail_body.txt.j2" in message


def test_the_design_file_name_finds_the_builtin_template(project_copy: Path):
    (project_copy / "templates" / "drift_warning.txt.j2").unlink()
    edit_project(project_copy, lambda d: _reporter(d).update(body_template="drift_warning.txt.j2"))
    assert validate_project(project_copy) == []


def test_gate_and_recipients_are_checked(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(on=["WARNING"]))
    assert "use either `when` (an expression) or `on`" in _problems(project_copy)[LOC]
    edit_project(project_copy, lambda d: _reporter(d).update(on=None, to=[]))
    assert "at least one recipient in `to`, `cc` or `bcc`" in _problems(project_copy)[LOC]


def test_a_database_connection_is_not_a_mail_server(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(connection="store"))
    assert "is a database; a mail connection" in _problems(project_copy)[f"{LOC}.connection"]


def test_an_unknown_mail_connection(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(connection="smtp"))
    assert _problems(project_copy)[f"{LOC}.connection"].startswith(
        "unknown mail connection 'smtp'; mail connections: mail (line ")


def test_unquoted_yaml_on_is_the_outcome_gate(project_copy: Path):
    file = project_copy / "scenarist.yaml"
    file.write_text(file.read_text().replace(
        "        when: \"stepOutcome_MES_Warn == 'WARNING'\"\n", "        on: [WARNING, FAILED]\n"))
    spec = load_project(project_copy).scenarios[MONITOR].reporters[0]
    assert spec.on == ["WARNING", "FAILED"] and spec.when is None


def test_webhook_specs_and_payloads(project_copy: Path):
    def change(data: dict) -> None:
        data["scenarios"][MONITOR]["reporters"] = [
            {"name": "ok", "type": "webhook", "url": "${HOOK}", "preset": "slack"},
            {"name": "bad json", "type": "webhook", "url": "http://x", "payload": "{{ outcome }}"},
            {"name": "ok", "type": "webhook", "url": "http://y"},
        ]

    edit_project(project_copy, change)
    problems = _problems(project_copy)
    reporters = f"scenarios.{MONITOR}.reporters"
    assert "the payload is not valid JSON" in problems[f"{reporters}[1].payload"]
    assert "duplicate reporter name 'ok'" in problems[f"{reporters}[2].name"]
    assert len(problems) == 2
    edit_project(project_copy, lambda d: d["scenarios"][MONITOR]["reporters"][0].update(
        url_block="hook-url"))
    assert "exactly one of `url` and `url_block`" in _problems(project_copy)[f"{reporters}[0]"]


def test_an_unknown_reporter_type_lists_the_types(project_copy: Path):
    edit_project(project_copy, lambda d: _reporter(d).update(type="pager"))
    message = _problems(project_copy)[LOC]
    assert "'pager' found using 'type' does not match any of the expected tags: 'mail', " \
        "'webhook'" in message


@pytest.mark.parametrize("spec", [
    MailReporterSpec(name="m", type="mail", to=["x@example.com"]),
    WebhookReporterSpec(name="w", type="webhook", url="http://x", preset="teams"),
])
def test_specs_round_trip(spec):
    assert type(spec).model_validate(spec.model_dump()) == spec
