"""The "verdict revised" messages (`scenarist.reporters.revision`): who gets them, their content
for mail and webhooks, idempotency; and the step's validation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import yaml

from scenarist.operations.revisions import RevisedEvaluation
from scenarist.reporters.revision import VerdictChange, queue_revision_messages
from scenarist.stores.database import connect
from scenarist.stores.outbox import Message, QueuedMessage, enqueue, outbox_messages
from scenarist.validation import validate_project


class _Project:
    """What queue_revision_messages reads of a project: its name and reporters' presets."""

    project = "fraud-monitoring"

    def __init__(self, presets: dict[str, str] | None = None,
                 snoozed: dict[str, datetime] | None = None):
        reporters = [SimpleNamespace(name=n, preset=p, snooze_until_utc=None)
                     for n, p in (presets or {}).items()]
        reporters += [SimpleNamespace(name=n, preset="generic", snooze_until_utc=until)
                      for n, until in (snoozed or {}).items()]
        self.scenarios = {"Monitor": SimpleNamespace(reporters=reporters)}


def _revised(*runs: str) -> RevisedEvaluation:
    change = VerdictChange(check="prod accuracy", before="WARNING", after="OK",
                           value_before=0.5, value_after=0.85, metric="accuracy",
                           message="accuracy = 0.85 is within bounds", runs=runs)
    return RevisedEvaluation(store="prod_MES", label="october", revision=1,
                             reason="late labels: 300 → 1000 labelled rows",
                             changes={"accuracy": (0.5, 0.85), "labeled_rows": (300.0, 1000.0)},
                             verdicts=[change], results=[])


def test_every_reporter_of_the_alerting_run_gets_one_message(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'outbox.db'}")
    enqueue(engine, [
        QueuedMessage("fraud-monitoring", "Monitor", "run-1", Message(
            reporter="Ops mail", type="mail", subject="accuracy warning", body="…",
            to=("ops@example.com",), cc=("lead@example.com",))),
        QueuedMessage("fraud-monitoring", "Monitor", "run-1", Message(
            reporter="Slack", type="webhook", body="{}")),
        QueuedMessage("fraud-monitoring", "Other", "run-0", Message(
            reporter="Old", type="webhook", body="{}")),
    ])
    # run-2 judged the check later but alerted nobody: the revision goes to run-1's reporters
    ids = queue_revision_messages(_Project(), engine, _revised("run-2", "run-1", "run-0"))
    assert sorted(ids) == ["Ops mail", "Slack"]
    rows = {m.reporter: m for m in outbox_messages(engine) if m.id in ids.values()}
    assert rows["Ops mail"].subject == ("[scenarist] verdict revised: WARNING → OK: "
                                        "prod accuracy (prod_MES october)")
    assert rows["Ops mail"].run_id.startswith("run-1/r1-") and rows["Slack"].scenario == "Monitor"
    with engine.connect() as conn:
        from sqlalchemy import select

        from scenarist.stores.outbox import outbox_table as t
        mail, hook = (conn.execute(select(t.c.recipients, t.c.body).where(t.c.id == ids[n]))
                      .one() for n in ("Ops mail", "Slack"))
    assert mail.recipients == {"to": ["ops@example.com"], "cc": ["lead@example.com"], "bcc": []}
    assert "accuracy 0.5 → 0.85" in mail.body and "labeled_rows: 300 → 1000" in mail.body
    payload = json.loads(hook.body)
    assert payload["event"] == "verdict_revised" and payload["original_run_id"] == "run-1"
    assert payload["verdicts"] == [{"check": "prod accuracy", "before": "WARNING", "after": "OK",
                                    "metric": "accuracy", "value_before": 0.5,
                                    "value_after": 0.85}]
    assert payload["text"].startswith("[scenarist] verdict revised: WARNING → OK")

    assert queue_revision_messages(_Project(), engine, _revised("run-1")) == {}  # idempotent
    assert queue_revision_messages(_Project(), engine, _revised("run-9")) == {}  # nobody alerted


def test_a_snoozed_reporter_gets_no_revision_until_the_snooze_ends(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'outbox.db'}")
    enqueue(engine, [QueuedMessage("fraud-monitoring", "Monitor", "run-1", Message(
        reporter=name, type="webhook", body="{}")) for name in ("Slack", "Pager")])
    now = datetime.now(timezone.utc)
    project = _Project(snoozed={"Pager": now + timedelta(days=1), "Slack": now - timedelta(1)})
    assert list(queue_revision_messages(project, engine, _revised("run-1"))) == ["Slack"]
    woke = _Project(snoozed={"Pager": now - timedelta(seconds=1)})
    assert list(queue_revision_messages(woke, engine, _revised("run-1"))) == ["Pager"]


def test_revise_step_needs_a_store_fed_by_a_deployment(project_copy):
    path = project_copy / "scenarist.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenarios"]["Revise"] = {"steps": [{"name": "R", "type": "revise_evaluations",
                                              "store": "the_MES"}]}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (problem,) = validate_project(project_copy)
    assert problem.location == "scenarios.Revise.steps[0].store"
    assert "revise_evaluations needs a store fed by a deployment" in problem.message


def test_webhook_presets_shape_the_revision(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'outbox.db'}")
    enqueue(engine, [QueuedMessage("fraud-monitoring", "Monitor", "run-1", Message(
        reporter=name, type="webhook", body="{}")) for name in ("Slack", "Teams")])
    ids = queue_revision_messages(_Project({"Slack": "slack", "Teams": "teams"}), engine,
                                  _revised("run-1"))
    with engine.connect() as conn:
        from sqlalchemy import select

        from scenarist.stores.outbox import outbox_table as t
        slack, teams = (json.loads(conn.execute(select(t.c.body).where(t.c.id == ids[n]))
                                   .scalar_one()) for n in ("Slack", "Teams"))
    assert slack["text"].startswith("*[scenarist] verdict revised: WARNING → OK") and \
        list(slack) == ["text"]
    card = teams["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"].startswith("[scenarist] verdict revised: WARNING → OK")
