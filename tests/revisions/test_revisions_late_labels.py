"""Late labels revise verdicts, end to end: a deployment's window is evaluated and checked by a
real Prefect scenario that mails a WARNING (real aiosmtpd); labels arrive; the scenario step
`revise_evaluations` stores a new revision and mails "verdict revised: WARNING → OK" through
the reporter that sent the alert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.demo.data import FEATURES, generate_quarter
from scenarist.deployments.deployment import Deployment
from scenarist.flows.scenario import project_engine, run_scenario
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.operations.build import open_store
from scenarist.operations.revisions import revise_evaluations
from scenarist.project.config import load_project
from scenarist.project.models import load_model
from scenarist.stores.outbox import outbox_messages

ROWS, FIRST = 1_000, 300


@pytest.fixture
def monitored(project_copy: Path, prefect_api, smtp_inbox):
    """A deployment with one batch of 1,000 predictions, 30% labelled so that accuracy is 0.5
    (half of those labels contradict the prediction), and the project monitoring it."""
    loaded = load_project(project_copy)
    model = load_model(loaded, "fraud_model")
    deployment = Deployment.create(model, "Fraud in production",
                                   reference=generate_quarter("2017Q1", 2_000),
                                   url=loaded.connections["store"].resolved_url())
    deployment.update_alert_delay_settings(labels_ratio=0.25, delay_seconds=10**9)
    rows = generate_quarter("2017Q2", ROWS)
    predictions, probabilities = model.predict(rows[list(FEATURES)])
    ids = [f"t{i}" for i in range(ROWS)]
    deployment.create_batch("october")
    start = np.datetime64("2017-10-02T00:00")
    deployment.log_batch(ids, [start + np.timedelta64(i, "m") for i in range(ROWS)],
                         rows[list(FEATURES)], predictions, probabilities, batch_id="october")
    wrong = np.where(predictions == 1, 0, 1)
    first = np.r_[wrong[:FIRST // 2], predictions[FIRST // 2:FIRST]]
    deployment.log_labels(ids[:FIRST], first)

    data = yaml.safe_load((project_copy / "scenarist.yaml").read_text())
    data["connections"]["mail"] = {"host": "127.0.0.1", "port": smtp_inbox.port,
                                   "sender": "mlops@example.com"}
    data["evaluation_stores"]["prod_MES"] = {"deployment": deployment.id}
    data["checks"]["prod accuracy"] = {"store": "prod_MES", "metric": "accuracy",
                                       "soft_min": 0.8, "hard_min": 0.3}
    data["scenarios"]["Production monitor"] = {
        "steps": [{"name": "Evaluate", "type": "evaluate_deployment", "store": "prod_MES",
                   "batch": "october"},
                  {"name": "Check", "type": "run_checks", "checks": ["prod accuracy"]}],
        "reporters": [{"name": "Ops mail", "type": "mail", "to": ["ops@example.com"],
                       "when": "stepOutcome_Check == 'WARNING'",
                       "subject": "accuracy warning on {{ evaluation.label }}",
                       "body": "accuracy {{ evaluation.metrics.accuracy }}"}]}
    data["scenarios"]["Revise"] = {"steps": [{"name": "Revise", "type": "revise_evaluations",
                                              "store": "prod_MES"}]}
    (project_copy / "scenarist.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return project_copy, deployment, ids, predictions


def deployment_predictions(project: Path, rows):
    return load_model(load_project(project), "fraud_model").predict(rows[list(FEATURES)])


def test_late_labels_revise_the_verdict_and_mail_the_alerted_reporter(monitored, smtp_inbox):
    project, deployment, ids, predictions = monitored
    alert = run_scenario(project, "Production monitor")
    assert alert.outcome == "WARNING" and alert.checks[0]["value"] == pytest.approx(0.5)
    assert smtp_inbox.subjects() == ["accuracy warning on october"]
    store = open_store(load_project(project), "prod_MES")
    before = store.get("october")
    assert before.metric("labeled_rows") == FIRST and "estimated_accuracy" in before.metrics

    # nothing new yet: the step finds the evaluation up to date and sends nothing
    quiet = run_scenario(project, "Revise")
    assert quiet.outcome == "SUCCESS" and "1 up to date" in quiet.steps[0].message
    assert store.revisions("october") == []

    deployment.log_labels(ids[FIRST:], predictions[FIRST:])  # the late labels: all correct
    revised = run_scenario(project, "Revise")
    assert revised.outcome == "SUCCESS", revised.steps[0].message
    assert "1 evaluation(s) revised, 1 verdict(s) changed" in revised.steps[0].message

    expected = (ROWS - FIRST // 2) / ROWS  # 150 wrong labels of 1,000
    after = store.get("october")
    assert after.metric("accuracy") == pytest.approx(expected)
    assert after.metric("labeled_rows") == ROWS and after.details["revision"] == 1
    assert after.created_at == before.created_at  # same place in the history
    assert after.metric("estimated_accuracy_error") == pytest.approx(
        after.metric("estimated_accuracy") - expected)
    assert after.metric("data_drift") == before.metric("data_drift")  # label-free: unchanged

    (revision,) = store.revisions("october")
    assert revision.revision == 1 and revision.reason == "late labels: 300 → 1000 labelled rows"
    assert revision.changes["accuracy"] == (pytest.approx(0.5), pytest.approx(expected))
    assert revision.changes["labeled_rows"] == (FIRST, ROWS)
    assert "data_drift" not in revision.changes and "estimated_accuracy" not in revision.changes
    assert revision.verdicts == {"prod accuracy": ("WARNING", "OK")}

    assert len(smtp_inbox.messages) == 2
    mail = smtp_inbox.messages[1]
    assert str(mail["Subject"]) == ("[scenarist] verdict revised: WARNING → OK: prod accuracy "
                                    "(prod_MES october)")
    assert str(mail["To"]) == "ops@example.com"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "late labels: 300 → 1000 labelled rows" in text
    assert f"accuracy 0.5 → {expected:.4g}" in text and alert.run_id in text
    queued = outbox_messages(project_engine(load_project(project)), statuses=("sent",))
    assert [m.run_id.startswith(f"{alert.run_id}/r1-") for m in queued] == [False, True]

    # revising again changes nothing and sends nothing
    again = revise_evaluations(load_project(project), "prod_MES")
    assert again.revised == [] and again.up_to_date == ["october"]
    assert len(smtp_inbox.messages) == 2


def test_store_revise_and_revisions_commands(monitored, smtp_inbox):
    project, deployment, ids, predictions = monitored
    runner = CliRunner()
    p = ["--project", str(project)]
    assert run_scenario(project, "Production monitor").outcome == "WARNING"
    later = generate_quarter("2017Q3", 100)  # a second batch, no label yet
    deployment.create_batch("november")
    deployment.log_batch([f"n{i}" for i in range(100)],
                         [np.datetime64("2017-11-02T00:00") + np.timedelta64(i, "m")
                          for i in range(100)], later[list(FEATURES)],
                         *deployment_predictions(project, later), batch_id="november")
    deployment.evaluate("prod_MES", batch="november")
    store = open_store(load_project(project), "prod_MES")
    store.record("typed by hand", ComputedEvaluation([], 0, 0), model="fraud_model")
    deployment.log_labels(ids[FIRST:], predictions[FIRST:])

    revised = runner.invoke(app, ["store", "revise", "prod_MES", *p])
    assert revised.exit_code == 1, revised.output  # one evaluation could not be revised
    assert "october" in revised.output and "WARNING → OK" in revised.output
    assert "'november': labels not ready (waiting: 0.0% labelled" in revised.output
    assert "not revised 'typed by hand': ConfigError" in revised.output
    assert "1 revised, 0 up to date, 1 waiting for labels, 1 failed" in revised.output
    listed = runner.invoke(app, ["store", "revisions", "prod_MES", *p])
    assert listed.exit_code == 0, listed.output
    assert "late labels: 300 → 1000" in listed.output and "accuracy" in listed.output
    assert smtp_inbox.subjects()[-1].startswith("[scenarist] verdict revised: WARNING → OK")
    shown = runner.invoke(app, ["store", "show", "prod_MES", *p])
    assert "october: revision 1 after late labels" in shown.output, shown.output
    history = runner.invoke(app, ["store", "history", "prod_MES", "accuracy", *p])
    assert "0.5 → 0.85 (revision 1)" in history.output, history.output
    forced = runner.invoke(app, ["store", "revise", "prod_MES", "--force", "-l", "october", *p])
    assert forced.exit_code == 0 and "revision 2" in forced.output
    assert len(smtp_inbox.messages) == 2  # same verdict: no message

    wrong = runner.invoke(app, ["store", "revise", "the_MES", *p])
    assert wrong.exit_code != 0 and "fed by datasets" in wrong.output


def test_an_interrupted_revision_is_finished_by_the_next_pass(monitored, smtp_inbox):
    project, deployment, ids, predictions = monitored
    assert run_scenario(project, "Production monitor").outcome == "WARNING"
    deployment.log_labels(ids[FIRST:], predictions[FIRST:])
    # the new revision was stored, then the process died before its checks ran
    deployment.evaluate("prod_MES", batch="october", revision="late labels")
    loaded = load_project(project)
    report = revise_evaluations(loaded, "prod_MES")
    (revised,) = report.revised
    assert [v.headline() for v in revised.verdicts] == ["verdict revised: WARNING → OK"]
    assert smtp_inbox.subjects()[-1].startswith("[scenarist] verdict revised: WARNING → OK")
    assert revise_evaluations(loaded, "prod_MES").up_to_date == ["october"]
    assert len(smtp_inbox.messages) == 2


def test_a_verdict_revised_to_warning_alerts_through_the_revising_scenario(monitored, smtp_inbox):
    """The first labels looked fine (no alert went out); the late ones are all wrong. Nobody
    was alerted on this evaluation, so the revising scenario's own reporter tells."""
    project, deployment, ids, predictions = monitored
    deployment.log_labels(ids[:FIRST], predictions[:FIRST])  # the early labels: all correct
    path = project / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"]["Revise"]["reporters"] = [{
        "name": "Revised", "type": "mail", "to": ["ops@example.com"], "on": ["WARNING"],
        "subject": "{% for c in checks %}{{ c.name }} now {{ c.outcome }}{% endfor %}",
        "body": "revised"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_scenario(project, "Production monitor").outcome == "SUCCESS"
    assert smtp_inbox.subjects() == []

    wrong = np.where(predictions[FIRST:] == 1, 0, 1)
    deployment.log_labels(ids[FIRST:], wrong)
    revised = run_scenario(project, "Revise")
    assert revised.outcome == "WARNING"
    assert [c["outcome"] for c in revised.checks] == ["WARNING"]
    assert smtp_inbox.subjects() == ["prod accuracy now WARNING"]
    (revision,) = open_store(load_project(project), "prod_MES").revisions("october")
    assert revision.verdicts == {"prod accuracy": ("OK", "WARNING")}
