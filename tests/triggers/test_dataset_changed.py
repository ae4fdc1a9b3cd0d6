"""dataset_changed on a templated path: a new file starts exactly one run with the variables
read from its name; the same bytes again start none, other bytes start one; two pollers that
see one change at once start one run; a paused scenario starts none until resumed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import prefect.settings
import pytest
from triggers_helpers import add_scenarios, runs_of, set_store

import scenarist.triggers as triggers
from scenarist.project.config import load_project
from scenarist.stores.database import project_engine
from scenarist.stores.trigger_state import TriggerKey, claim, last_change

SCENARIO = "On new batch"
WATCH = f"""
  {SCENARIO}:
    triggers:
      - {{name: new batch, dataset_changed: {{dataset: transactions_batch, every: 5m}}}}
    steps:
      - {{name: note, type: set_variables, values: {{seen: true}}}}
"""


@pytest.fixture
def watched(project_copy: Path) -> tuple[Path, bytes]:
    """The example project watching transactions_batch, without its Q4 file (returned)."""
    add_scenarios(project_copy, WATCH)
    q4 = project_copy / "data" / "transactions_2017Q4.parquet"
    data = q4.read_bytes()
    q4.unlink()
    return project_copy, data


def actions(results) -> list[tuple[str, str]]:
    return sorted((r.subject, r.action) for r in results if r.action not in ("unchanged",))


def test_a_new_file_starts_one_run_with_the_variables_of_its_name(prefect_api, watched):
    project, data = watched
    q4 = project / "data" / "transactions_2017Q4.parquet"
    first = triggers.poll(project, SCENARIO)
    assert actions(first) == [("quarter=2017Q1", "baseline"), ("quarter=2017Q2", "baseline"),
                              ("quarter=2017Q3", "baseline")]
    assert runs_of(project, SCENARIO).empty

    q4.write_bytes(data)
    (started,) = [r for r in triggers.poll(project, SCENARIO) if r.action == "started"]
    assert started.variables == {"quarter": "2017Q4"}
    (run,) = runs_of(project, SCENARIO).itertuples()
    assert run.id == started.run_id and run.outcome == "SUCCESS"
    assert run.variables["quarter"] == "2017Q4" and run.trigger == "new batch"

    assert actions(triggers.poll(project, SCENARIO)) == []  # polled again: nothing
    q4.write_bytes(data)  # re-saved, same bytes, a later mtime
    os.utime(q4, (q4.stat().st_atime + 60, q4.stat().st_mtime + 60))
    assert actions(triggers.poll(project, SCENARIO)) == []
    assert len(runs_of(project, SCENARIO)) == 1

    q4.write_bytes((project / "data" / "transactions_2017Q3.parquet").read_bytes())
    assert actions(triggers.poll(project, SCENARIO)) == [("quarter=2017Q4", "started")]
    assert len(runs_of(project, SCENARIO)) == 2
    states = {s.subject: s for s in triggers.trigger_states(project, SCENARIO)}
    assert states["quarter=2017Q4"].last_change == "started" and states["quarter=2017Q4"].runs == 2


def test_a_paused_scenario_starts_nothing_and_resume_does(prefect_api, watched, wide_console):
    from typer.testing import CliRunner

    from scenarist.cli import app
    from scenarist.flows.scenario import run_scenario

    project, data = watched
    runner = CliRunner()
    triggers.poll(project, SCENARIO)  # baseline
    paused = runner.invoke(app, ["scenarios", "pause", SCENARIO, "-p", str(project)])
    assert paused.exit_code == 0 and f"scenario {SCENARIO}: paused" in paused.output
    listed = runner.invoke(app, ["scenarios", "list", "-p", str(project)]).output
    assert "dataset_changed transactions_batch (every 5m)" in listed
    assert [line.split("│")[4].strip() for line in listed.splitlines()
            if SCENARIO in line] == ["paused"]
    (project / "data" / "transactions_2017Q4.parquet").write_bytes(data)
    assert {r.action for r in triggers.poll(project, SCENARIO)} == {"paused"}
    assert runs_of(project, SCENARIO).empty
    assert triggers.scenario_status(load_project(project))[SCENARIO] == "paused"
    assert run_scenario(project, SCENARIO).outcome == "SUCCESS"  # by hand: still runs

    triggers.resume(project, SCENARIO)
    assert actions(triggers.poll(project, SCENARIO)) == [("quarter=2017Q4", "started")]
    assert len(runs_of(project, SCENARIO)) == 2
    assert list(runs_of(project, SCENARIO)["trigger"].fillna("by hand")) == [
        "new batch", "by hand"]


def test_auto_triggers_false_pauses_and_cannot_be_resumed_by_command(project_copy):
    add_scenarios(project_copy, WATCH.replace("    triggers:", "    auto_triggers: false\n"
                                              "    triggers:"))
    assert {r.action for r in triggers.poll(project_copy, SCENARIO)} == {"paused"}
    with pytest.raises(ValueError, match=r"auto_triggers is false in the project file; set it"):
        triggers.resume(project_copy, SCENARIO)


def test_two_pollers_claiming_one_change_one_wins(store_url, project_copy):
    """The claim is a unique row: of two pollers that read the same last change at once, one
    insert succeeds (SQLite and PostgreSQL)."""
    set_store(project_copy, store_url)
    engine = project_engine(load_project(project_copy))
    key = TriggerKey("race", f"s-{os.getpid()}-{id(store_url)}", "t")
    claim(engine, key, "quarter=2017Q4", "a", {}, after=None)
    after, _, _ = last_change(engine, key, "quarter=2017Q4")
    barrier, won = threading.Barrier(8), []

    def poller():
        barrier.wait()
        won.append(claim(engine, key, "quarter=2017Q4", "b", {"quarter": "2017Q4"}, after=after))

    threads = [threading.Thread(target=poller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won, key=str) == [2, *[None] * 7]
    assert last_change(engine, key, "quarter=2017Q4") == (2, "b", "claimed")


def test_two_poll_processes_at_once_start_one_run(prefect_api, postgres_url, watched):
    project, data = watched
    set_store(project, postgres_url)
    triggers.poll(project, SCENARIO)  # baseline
    (project / "data" / "transactions_2017Q4.parquet").write_bytes(data)
    env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    command = [str(Path(sys.executable).parent / "scenarist"), "triggers", "poll", SCENARIO,
               "-p", str(project)]
    pollers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=180)[0] for p in pollers]
    assert [p.returncode for p in pollers] == [0, 0], outputs
    runs = runs_of(project, SCENARIO)
    assert list(runs["variables"].map(lambda v: v["quarter"])) == ["2017Q4"], outputs


def test_a_poller_killed_between_claim_and_start_never_starts_a_second_run(watched):
    """kill -9 after the claim: the change stays claimed without a run; later polls start
    nothing for it (at most once), and `triggers list` shows the claim."""
    project, data = watched
    triggers.poll(project, SCENARIO)  # baseline
    (project / "data" / "transactions_2017Q4.parquet").write_bytes(data)
    command = [str(Path(sys.executable).parent / "scenarist"), "triggers", "poll", SCENARIO,
               "-p", str(project)]
    killed = subprocess.run(command, env={**os.environ, "SCENARIST_FAULT_POINT":
                                          "trigger-claimed:1"}, capture_output=True, timeout=180)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert actions(triggers.poll(project, SCENARIO)) == []
    assert runs_of(project, SCENARIO).empty
    (state,) = [s for s in triggers.trigger_states(project, SCENARIO)
                if s.subject == "quarter=2017Q4"]
    assert state.last_change == "claimed" and state.run_id is None
