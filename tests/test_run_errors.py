"""`scenarist run` as a user runs it (a real subprocess, a real Prefect API): a store on a closed
port and a batch missing a feature give one clear line each, no Python traceback on the
terminal; the traceback is kept in the run's log."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import prefect.settings
import pytest

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_run

MONITOR = "Data drift monitor"


def scenarist(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "200"}
    return subprocess.run([str(Path(sys.executable).parent / "scenarist"), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def project(project_copy: Path, prefect_api) -> Path:
    return project_copy


def test_a_store_on_a_closed_port_is_one_error_line(project: Path):
    path = project / "scenarist.yaml"
    url = f"postgresql+psycopg://monitor:pw@127.0.0.1:{_closed_port()}/monitoring"
    path.write_text(path.read_text().replace("sqlite:///.scenarist/store.db", url))

    ran = scenarist("run", MONITOR, "-p", str(project), cwd=project)

    assert ran.returncode not in (0, 1, 2, 3), ran.stderr  # not a scenario outcome
    assert "Traceback" not in ran.stderr and "Traceback" not in ran.stdout
    (error,) = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert "cannot reach the store" in error and "database server is running" in error


def test_a_batch_missing_a_feature_fails_its_step_without_a_traceback(project: Path):
    batch = project / "data" / "transactions_2017Q4.parquet"
    pd.read_parquet(batch).drop(columns=["card_age"]).to_parquet(batch)

    ran = scenarist("run", MONITOR, "-p", str(project), cwd=project)

    assert ran.returncode == 2, ran.stderr  # FAILED
    assert "Traceback" not in ran.stderr and "Traceback" not in ran.stdout
    assert "lacks model feature(s) 'card_age'" in ran.stdout
    # the traceback is in the run's log, where `scenarist scenarios log` shows it
    run_id = re.search(r"flow-run/([0-9a-f-]{36})", ran.stdout)[1]
    run, _steps = scenario_run(project_engine(load_project(project)), run_id)
    assert "Traceback (most recent call last)" in run["log"]
    assert "InputDataError: the current batch lacks model feature(s) 'card_age'" in run["log"]
