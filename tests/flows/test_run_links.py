"""Run links never point at a Prefect server about to stop: the Prefect UI with a server, the
console's page when SCENARIST_CONSOLE_URL is set, else no URL and "run `scenarist scenarios
log ID`" (in mails, in the CLI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefect.settings import PREFECT_API_URL, temporary_settings

from scenarist.demo.smtp_sink import SmtpSink
from scenarist.flows.context import run_url
from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_run

RUN_ID = "0b0e5e5e-1111-4222-8333-444455556666"


def test_with_a_prefect_server_the_link_is_the_flow_run_in_its_ui(prefect_api, monkeypatch):
    monkeypatch.setenv("SCENARIST_CONSOLE_URL", "http://console.example:8000")
    api = PREFECT_API_URL.value()
    assert run_url(RUN_ID) == f"{api.removesuffix('/api')}/runs/flow-run/{RUN_ID}"


def test_without_a_server_the_console_page_or_nothing(monkeypatch):
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        monkeypatch.setenv("SCENARIST_CONSOLE_URL", "http://console.example:8000/")
        assert run_url(RUN_ID) == f"http://console.example:8000/runs/{RUN_ID}"
        monkeypatch.delenv("SCENARIST_CONSOLE_URL")
        assert run_url(RUN_ID) is None


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def test_a_mail_of_a_run_without_a_prefect_server_has_no_dead_url(project_copy: Path, sink):
    """`scenarist run` with no PREFECT_API_URL runs on an ephemeral API that stops with the
    command: the warning mail and the CLI say how to read the run's log instead."""
    path = project_copy / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["connections"]["mail"] = {"host": "127.0.0.1", "port": sink.port,
                                   "sender": "mlops@example.com"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    env = {name: value for name, value in os.environ.items()
           if name not in ("PREFECT_API_URL", "SCENARIST_CONSOLE_URL")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")

    ran = subprocess.run(
        [str(Path(sys.executable).parent / "scenarist"), "run", "Data drift monitor",
         "-p", str(project_copy)],
        env=env, capture_output=True, text=True, timeout=400, cwd=project_copy,
    )

    assert ran.returncode == 1, ran.stdout[-2000:] + ran.stderr[-2000:]  # Q4 warns
    (mail,) = sink.messages
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "data drift < 0.45: WARNING" in body
    assert "http" not in body  # no link to the ephemeral server that has stopped
    run_id = re.search(r"run: run `scenarist scenarios log ([0-9a-f-]{36})`", ran.stdout)[1]
    assert f"Run: run `scenarist scenarios log {run_id}`" in body
    attached = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert "/runs/flow-run/" not in attached["scenario.log"]
    run, _steps = scenario_run(project_engine(load_project(project_copy)), run_id)
    assert run["url"] is None
