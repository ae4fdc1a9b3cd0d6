"""The command line behaves alike across commands: --version, exit codes, -p and --url for the
store of deployments and keys, run-id prefixes, segment filters, identifiers in tables."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.commands import common

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args: str):
    return runner.invoke(app, list(args))


def _use_store(project: Path, url: str) -> None:
    path = project / "scenarist.yaml"
    path.write_text(path.read_text().replace('url: "sqlite:///.scenarist/store.db"',
                                             f'url: "{url}"'))


def test_version_and_help_answer_without_loading_the_engine():
    scenarist = Path(sys.executable).with_name("scenarist")
    version = subprocess.run([str(scenarist), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == "scenarist 0.1.0"
    helped = subprocess.run([str(scenarist), "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "validate" in helped.stdout and "--version" in helped.stdout


def test_exit_codes_are_the_readme_table():
    section = README.read_text().split("## Command reference", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d) \|", section, flags=re.M)}
    assert documented == {common.EXIT_OK, common.EXIT_WARNING, common.EXIT_ERROR,
                          common.EXIT_USAGE, common.EXIT_PROJECT}


def test_usage_mistakes_exit_3_and_project_mistakes_exit_4(project_copy):
    p = ("-p", str(project_copy))
    assert run("store", "show", "--no-such-option", *p).exit_code == 3
    unknown_store = run("store", "show", "nope", *p)
    assert unknown_store.exit_code == 3
    assert "unknown evaluation store 'nope'; defined stores: the_MES" in unknown_store.output
    unknown_check = run("checks", "run", "the_MES", "auc > 0.9", *p)
    assert unknown_check.exit_code == 3 and "unknown check 'auc > 0.9'" in unknown_check.output
    assert run("checks", "history", "--store", "nope", *p).exit_code == 3
    assert run("validate", "-p", str(project_copy)).exit_code == 0
    assert run("validate", str(project_copy), "-p", "elsewhere").exit_code == 3
    (project_copy / "scenarist.yaml").write_text(
        (project_copy / "scenarist.yaml").read_text().replace("model: fraud_model",
                                                              "model: fraud"))
    for args in (("validate", "-p", str(project_copy)), ("store", "show", "the_MES", *p),
                 ("checks", "run", "the_MES", *p), ("scenarios", "list", *p)):
        result = run(*args)
        assert result.exit_code == 4, (args, result.output)
        assert "unknown model 'fraud'" in result.output and "Traceback" not in result.output


def test_keys_and_deployments_read_the_store_of_the_project(project_copy, tmp_path):
    database = tmp_path / "elsewhere" / "store.db"
    database.parent.mkdir()
    _use_store(project_copy, f"sqlite:///{database}")
    p = ("-p", str(project_copy))
    created = run("keys", "create", "console", "--scope", "read", "--deployment", "*", *p)
    assert created.exit_code == 0, created.output
    assert database.is_file() and not (project_copy / ".scenarist" / "store.db").exists()
    for where in (p, ("--url", f"sqlite:///{database}")):
        listed = run("keys", "list", *where)
        assert listed.exit_code == 0 and "console" in listed.output, listed.output
    deployments = run("deployments", "list", *p)
    assert deployments.exit_code == 0 and "no deployments" in deployments.output
    missing = run("deployments", "show", "nope", *p)
    assert missing.exit_code == 3 and "no deployment with id 'nope'" in missing.output
    both = run("keys", "list", *p, "--url", f"sqlite:///{database}")
    assert both.exit_code == 3 and "give --url or -p/--project, not both" in both.output
    for command in (["keys", "list"], ["keys", "revoke", "x"], ["deployments", "list"],
                    ["deployments", "show", "x"], ["serve"]):
        helped = run(*command, "--help")
        assert "--project" in helped.output and "--url" in helped.output, command


def test_scenario_logs_by_a_unique_run_id_prefix(project_copy):
    from scenarist.flows.scenario import project_engine
    from scenarist.project.config import load_project
    from scenarist.stores.runs import record_scenario_end, record_scenario_start

    engine = project_engine(load_project(project_copy))
    ids = ["3f2a9c10-0000-4000-8000-000000000001", "3f2a9c10-1111-4000-8000-000000000002",
           "77aa5501-2222-4000-8000-000000000003"]
    for number, run_id in enumerate(ids):
        record_scenario_start(engine, run_id=run_id, project="fraud-monitoring",
                              scenario="Data drift monitor", trigger=None, parent_run_id=None,
                              url=None, variables={},
                              started_at=datetime(2024, 5, 1, 6, number, tzinfo=timezone.utc))
        record_scenario_end(engine, run_id=run_id, outcome="SUCCESS", message=None,
                            log=f"the log of run {number}", steps=[],
                            ended_at=datetime(2024, 5, 1, 6, number, 30, tzinfo=timezone.utc))
    p = ("-p", str(project_copy))
    found = run("scenarios", "log", "77aa55", *p)
    assert found.exit_code == 0 and "the log of run 2" in found.output, found.output
    ambiguous = run("scenarios", "log", "3f2a9c", *p)
    assert ambiguous.exit_code == 3
    assert "run id '3f2a9c' matches 2 runs" in ambiguous.output
    assert ids[0] in ambiguous.output and ids[1] in ambiguous.output
    assert run("scenarios", "log", "3f2a9c10-1", *p).exit_code == 0
    short = run("scenarios", "log", "77aa5", *p)
    assert short.exit_code == 3 and "at least 6 characters" in short.output
    missing = run("scenarios", "log", "abcdef", *p)
    assert missing.exit_code == 3 and "no scenario run" in missing.output


def test_a_segment_the_store_does_not_have_is_named(project_copy):
    from scenarist.operations.build import build_evaluation
    from scenarist.project.config import load_project

    build_evaluation(load_project(project_copy), "the_MES", {"quarter": "2017Q2"})
    p = ("-p", str(project_copy))
    plain = run("store", "history", "the_MES", "data_drift", *p)
    assert plain.exit_code == 0, plain.output
    result = run("store", "history", "the_MES", "data_drift", "--segment", "device=mobile", *p)
    assert result.exit_code == 3
    assert ("no evaluation of store 'the_MES' has segment 'device=mobile'; segments: none "
            "(set segment_by on the store and evaluate)") in " ".join(result.output.split())


def _table(identifier: str) -> Table:
    table = Table(title="checks")
    table.add_column("check", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("message", overflow="fold")
    table.add_row("drift of " + identifier, escape(f"psi[{identifier}]"), "a long message " * 8)
    return table


@pytest.mark.parametrize("width", [40, 80])
def test_tables_outside_a_terminal_never_split_an_identifier(width):
    identifier = "card_fico_score_of_the_primary_applicant"
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    common.print_table(_table(identifier), console)
    text = console.file.getvalue()
    assert f"psi[{identifier}]" in text and f"drift of {identifier}" in text
    assert "…" not in text and text.count("message") == 9  # folded, but all there


def test_tables_in_a_narrow_terminal_shorten_names_with_an_ellipsis():
    identifier = "card_fico_score_of_the_primary_applicant"
    console = Console(file=io.StringIO(), width=40, force_terminal=True, color_system=None)
    common.print_table(_table(identifier), console)
    text = console.file.getvalue()
    assert "…" in text and f"psi[{identifier}]" not in text
    assert all(len(line) <= 40 for line in text.splitlines())
