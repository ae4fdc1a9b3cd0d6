"""The HTML evaluation report: its content from the store, and the page in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.errors import NotFoundError
from scenarist.operations.build import build_evaluation
from scenarist.operations.checking import run_checks
from scenarist.project.config import load_project
from scenarist.reports.html import render_report, write_report
from scenarist.stores.evaluation_store import EvaluationStore

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory, example_project) -> tuple[Path, Path]:
    project_dir = tmp_path_factory.mktemp("report") / "project"
    shutil.copytree(example_project, project_dir, ignore=shutil.ignore_patterns(".scenarist"))
    project = load_project(project_dir)
    for quarter in ("2017Q2", "2017Q3", "2017Q4"):
        build_evaluation(project, "the_MES", {"quarter": quarter})
        run_checks(project, store="the_MES")
    return project_dir, write_report(project, "the_MES")


def test_report_holds_the_evaluation_and_its_history(report):
    project_dir, path = report
    assert path == project_dir / ".scenarist" / "reports" / "the_MES" / "2017Q4.html"
    html = path.read_text()
    # plotly.js inlined, no script or stylesheet loaded from elsewhere: the file opens offline
    assert "plotly" in html and not re.search(r"<(script|link)[^>]+(src|href)=", html)
    assert "Evaluation store “the_MES” · 2017Q4" in html
    # the check result of this evaluation, and its band on the data_drift history chart
    assert re.search(r"data drift &lt; 0.45</td><td class=\"WARNING\">WARNING", html)
    assert "soft_max 0.45" in html
    for metric in ("data_drift", "drift_share", "auc"):
        assert f'id="history-{metric}"' in html
    # drifted features first, each with its histogram
    rows = re.findall(r"<tr><td>(\w+)</td><td>(?:numeric|categorical)</td>", html)
    assert set(rows[:2]) == {"card_age", "card_fico_score"}
    assert 'id="hist-0"' in html and 'id="hist-1"' in html and 'id="hist-2"' not in html


def test_cli_report_and_unknown_label(report, tmp_path):
    project_dir, _ = report
    runner = CliRunner()
    output = tmp_path / "q2.html"
    result = runner.invoke(app, ["report", "the_MES", "--label", "2017Q2", "-o", str(output),
                                 "-p", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert "· 2017Q2" in output.read_text()
    missing = runner.invoke(app, ["report", "the_MES", "--label", "2016Q1", "-p", str(project_dir)])
    assert missing.exit_code == 3
    assert "no evaluation labelled '2016Q1'" in missing.output
    empty = EvaluationStore.open("never_evaluated", f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NotFoundError, match="store 'never_evaluated' has no evaluation yet"):
        render_report(empty)


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it when it can)")
    _, path = report
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    dom = result.stdout
    # plotly drew every chart: one <svg class="main-svg"> pair per figure, with data points
    charts = len(re.findall(r'id="(?:history|hist)-', dom))
    assert charts >= 5
    assert dom.count('class="main-svg"') >= charts
    assert dom.count('class="point"') + dom.count("class=\"scatterlayer") > 0
