"""Events out, read back from a real Prefect API: a scenario whose check ends WARNING emits
`scenarist.check.warning` carrying the stored result (an OK check emits nothing), a
`scenarist.step.finished` and a `scenarist.scenario.finished`; its mail reporter (a real SMTP
server) emits `scenarist.alert.sent` and its webhook to a closed port `scenarist.alert.failed`;
`scenarist checks run` outside a scenario emits too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from events_helpers import OK_CHECK, STORE, WARNING_CHECK, make_project, wait_for_events
from prefect.events.filters import EventRelatedFilter, EventResourceFilter
from prefect.settings import PREFECT_API_URL

from scenarist import events
from scenarist.demo.smtp_sink import SmtpSink
from scenarist.flows.scenario import run_scenario
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.build import open_store
from scenarist.operations.checking import check_history, store_engine
from scenarist.operations.revisions import revise_verdicts
from scenarist.project.config import load_project


@pytest.fixture(scope="module")
def ran(example_project, tmp_path_factory, prefect_api):
    """The "Checks" scenario run once: (project folder, project name, run result, sink)."""
    with SmtpSink() as sink:
        folder, name = make_project(example_project, tmp_path_factory.mktemp("events") / "p",
                                    smtp_port=sink.port)
        started = time.perf_counter()
        result = run_scenario(folder, "Checks")
        print(f"\nscenario run {time.perf_counter() - started:.2f} s, load {os.getloadavg()}")
    return folder, name, result, sink


def _of_run(run_id: str) -> dict:
    return {"related": EventRelatedFilter(id=[f"prefect.flow-run.{run_id}"])}


def test_a_warning_check_emits_the_stored_result_and_an_ok_check_nothing(ran):
    folder, name, result, _ = ran
    # the alerts are emitted last: once they are stored, every event of the run is
    wait_for_events("scenarist.alert.", 2, **_of_run(result.run_id))
    events = wait_for_events("scenarist.check.", 1, **_of_run(result.run_id))

    assert [e.event for e in events] == ["scenarist.check.warning"]  # none for the OK check
    event = events[0]
    stored = check_history(store_engine(load_project(folder), STORE), store=STORE)
    row = stored[(stored.check == WARNING_CHECK)
                 & (stored.scenario_run_id == result.run_id)].iloc[0]
    assert event.resource.id == f"scenarist.check.{name}.{STORE}.{WARNING_CHECK}"
    assert {k: v for k, v in event.resource.root.items() if k.startswith("scenarist.")} == {
        "scenarist.project": name, "scenarist.store": STORE, "scenarist.check": WARNING_CHECK,
        "scenarist.metric": "data_drift", "scenarist.evaluation": row.evaluation_label,
        "scenarist.outcome": "WARNING",
    }
    assert event.resource.name == WARNING_CHECK
    payload = event.payload
    assert (payload["outcome"], payload["value"], payload["bounds"], payload["message"],
            payload["evaluation_label"], payload["run_id"]) == (
        row.outcome, row.value, dict(row.bounds), row.message, row.evaluation_label,
        row.scenario_run_id)
    assert payload["soft_max"] == 0.45 and payload["hard_max"] is None
    assert "scenarist.store." + f"{name}.{STORE}" in {r.id for r in event.related}
    assert set(stored.loc[stored.scenario_run_id == result.run_id, "outcome"]) == {
        "WARNING", "OK"}  # the OK result was stored, and sent no event
    assert not [e for e in wait_for_events("scenarist.check.", 0,
                                           resource=EventResourceFilter(
                                               id=[f"scenarist.check.{name}.{STORE}.{OK_CHECK}"]))]


def test_the_step_and_the_scenario_emit_their_outcomes(ran):
    _, name, result, _ = ran
    steps = wait_for_events("scenarist.step.finished", 1, **_of_run(result.run_id))
    ends = wait_for_events("scenarist.scenario.finished", 1, **_of_run(result.run_id))

    assert [(e.resource.get("scenarist.step"), e.resource.get("scenarist.outcome"),
             e.payload["outcome"]) for e in steps] == [("MES_Warn", "WARNING", "WARNING")]
    (end,) = ends
    assert end.resource.id == f"scenarist.scenario.{name}.Checks"
    assert end.resource.get("scenarist.outcome") == "WARNING"
    assert {k: end.payload[k] for k in ("outcome", "run_id", "project", "scenario")} == {
        "outcome": "WARNING", "run_id": result.run_id, "project": name, "scenario": "Checks"}
    assert end.payload["duration_seconds"] > 0


def test_alert_deliveries_emit_sent_and_failed(ran):
    _, name, result, sink = ran
    events = wait_for_events("scenarist.alert.", 2, **_of_run(result.run_id))
    by_reporter = {e.resource.get("scenarist.reporter"): e for e in events}

    sent, failed = by_reporter["Mail"], by_reporter["Hook"]
    assert (sent.event, sent.resource.get("scenarist.channel")) == ("scenarist.alert.sent", "mail")
    assert sent.payload["delivery_id"] == sink.messages[0]["Message-ID"]
    assert (failed.event, failed.resource.get("scenarist.channel")) == (
        "scenarist.alert.failed", "webhook")
    assert failed.resource.id == f"scenarist.reporter.{name}.Checks.Hook"
    assert failed.payload["attempt"] == 1 and failed.payload["will_retry"] is False
    assert failed.resource.get("scenarist.will_retry") == "false"  # given up: one attempt
    assert "scenarist.will_retry" not in sent.resource.root
    assert failed.payload["delivery_id"] and failed.payload["error"]
    assert failed.payload["run_id"] == result.run_id


def test_checks_run_outside_a_scenario_emits_too(ran):
    """`scenarist checks run` in a process of its own: Prefect is not loaded, PREFECT_API_URL
    names the server, so the result is emitted (and flushed before the command exits)."""
    folder, name, _, _ = ran
    resource = EventResourceFilter(id=[f"scenarist.check.{name}.{STORE}.{WARNING_CHECK}"])
    before = len(wait_for_events("scenarist.check.warning", 1, resource=resource))

    command = [str(Path(sys.executable).with_name("scenarist")), "checks", "run", STORE,
               WARNING_CHECK, "-p", str(folder)]
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    outcome = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr  # WARNING

    events = wait_for_events("scenarist.check.warning", before + 1, resource=resource)
    assert len(events) == before + 1
    assert sorted(e.payload["run_id"] is None for e in events)[-1] is True


def test_a_revised_verdict_emits_its_change(ran):
    """Labels arrived: the evaluation's revision brings data_drift under the bound, and the
    check's verdict WARNING → OK is emitted as `scenarist.verdict.revised`."""
    folder, name, _, _ = ran
    project = load_project(folder)
    revised = open_store(project, STORE).record(
        "2017Q4", ComputedEvaluation([MetricValue("data_drift", 0.30),
                                      MetricValue("auc", 0.80)], 100, 100),
        model="fraud_model", revision="labels arrived")
    report = revise_verdicts(project, STORE, revised, deliver=False)
    assert [(v.check, v.before, v.after) for v in report.verdicts] == [
        (WARNING_CHECK, "WARNING", "OK")]

    (event,) = wait_for_events("scenarist.verdict.revised", 1, resource=EventResourceFilter(
        id=[f"scenarist.check.{name}.{STORE}.{WARNING_CHECK}"]))
    assert {k: event.resource.get(k) for k in (
        "scenarist.outcome", "scenarist.previous_outcome", "scenarist.evaluation")} == {
        "scenarist.outcome": "OK", "scenarist.previous_outcome": "WARNING",
        "scenarist.evaluation": "2017Q4"}
    assert {k: event.payload[k] for k in ("before", "after", "value_before", "value_after",
                                          "revision", "reason")} == {
        "before": "WARNING", "after": "OK", "value_before": 0.49, "value_after": 0.30,
        "revision": report.revision, "reason": "labels arrived"}


def test_emitting_never_raises_and_outside_a_run_needs_a_server(prefect_api, caplog):
    too_big = events.emit("scenarist.test.too_big", {"prefect.resource.id": "scenarist.test"},
                          {"blob": "x" * 3_000_000})  # over Prefect's maximum event size
    assert too_big is False
    assert "could not emit Prefect event scenarist.test.too_big" in caplog.text

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    probe = ("import sys, scenarist.events as e; "
             "emit = lambda: e.emit('scenarist.test', {'prefect.resource.id': 'x'}, {}); "
             "print(emit(), 'prefect' in sys.modules); import prefect; "
             "print(emit(), 'prefect.server.api.server' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    # a command without a server: Prefect not imported for an event; and once it is loaded,
    # outside a run, no ephemeral Prefect API is started for one
    assert shown == ["False", "False", "False", "False"]
