"""What a scenario run does with its reporters once its steps are done: `queue_reports`.

    summary = await queue_reports(ctx, spec.reporters, log_text, engine, logger=log)

1. gate: each reporter's `when:` / `on:` over the final outcome and the run's variables
   (an expression that cannot be evaluated sends anyway: a lost alert is the worse failure),
   then its alert hygiene (`repeat`, `escalate_after`, `notify_recovery`, `snooze_until`;
   `scenarist.reporters.hygiene`) against its stored check states, which may hold the alert
   back, escalate it, or add a "back to OK" message;
2. render its templates and capture its attachments into a `Message` (a template that fails
   at run time yields a plain fallback message saying so, rather than no message);
3. queue every message in ONE transaction, keyed by run id + reporter name, so a retried or
   re-run flow never queues an alert twice; each gets its delivery id (Message-ID /
   Idempotency-Key) there, which every delivery attempt of it carries;
   A shadow reporter (`shadow: true`) goes through the same gate, hygiene and rendering; its
   message is queued with status `shadow` and never delivered;
4. then (the run's outcome is already recorded) try to deliver the project's due messages once;
   failures stay in the outbox for `scenarist outbox retry` and are noted on the run record
   (a line in its log, a summary in its message). The scenario outcome never changes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConditionError
from scenarist.flows.logs import FORMAT
from scenarist.reporters import hygiene
from scenarist.reporters.delivery import DeliveryReport, deliver_pending
from scenarist.reporters.gate import should_report
from scenarist.reporters.render import (
    RenderedContent,
    RenderError,
    render_content,
    render_path,
    render_recovery,
)
from scenarist.reporters.specs import MailReporterSpec, ReporterOptions, WebhookReporterSpec
from scenarist.stores import outbox
from scenarist.stores.alert_state import load_states, save_states
from scenarist.stores.outbox import Attachment, Message, QueuedMessage

#: the RunContext attribute a step sets to the path of the run's HTML evaluation report
EVALUATION_REPORT_ATTRIBUTE = "evaluation_report_path"
RECOVERY = "recovery"  # the kind of a "back to OK" message (alert hygiene)
CHECK_COLUMNS = ("name", "outcome", "metric", "feature", "value", "bounds", "message",
                 "evaluation_label", "store", "checked_at")


@dataclass
class QueueSummary:
    """What `queue_reports` did: message ids queued, reporters whose gate was closed, ids
    already queued by an earlier attempt of the run, and the delivery pass."""

    queued: dict[str, int] = field(default_factory=dict)  # reporter -> message id
    skipped: list[str] = field(default_factory=list)
    already_queued: list[str] = field(default_factory=list)
    shadow: dict[str, int] = field(default_factory=dict)  # shadow reporter -> id, never sent
    delivery: DeliveryReport | None = None
    lines: list[str] = field(default_factory=list)  # what was added to the run's log


class _Notes:
    """Log lines for the Prefect run log and, formatted alike, for the run record."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter | None):
        self.logger = logger or logging.getLogger("scenarist.reporters")
        self.formatter = logging.Formatter(FORMAT)
        self.lines: list[str] = []

    def __call__(self, level: int, message: str) -> None:
        self.logger.log(level, "%s", message)
        record = logging.LogRecord("scenarist.reporters", level, __file__, 0, message, None, None)
        self.lines.append(self.formatter.format(record))


async def queue_reports(ctx: Any, reporters: Sequence[ReporterOptions], log_text: str,
                        engine: Engine, *, logger: Any = None,
                        deliver: bool = True) -> QueueSummary:
    """Gate, render and queue the messages of a finished run, then try to deliver them (see
    the module docstring). `ctx` is the run's RunContext, `log_text` its captured log."""
    notes = _Notes(logger)
    summary = QueueSummary()
    if not reporters:
        return summary
    variables = ctx.variables()
    outcomes = hygiene.outcomes_of(ctx.checks)
    other_failure = ctx.outcome > StepOutcome.from_checks(outcomes.values())
    steps = _run_checks_steps(ctx)
    now = datetime.now(timezone.utc)
    messages: list[QueuedMessage] = []
    states: list[tuple[str, dict, dict]] = []  # reporter, states before, states after the run
    for spec in reporters:
        before = {key: hygiene.CheckState.from_dict(state) for key, state in load_states(
            engine, ctx.project.project, ctx.scenario, spec.name, ctx.run_id).items()}
        assessment = hygiene.assess(before, outcomes, spec.escalate_after)
        seen = hygiene.escalated_variables(variables, assessment, steps)
        try:
            gate_open = should_report(spec.when, spec.on, seen["outcome"], seen)
        except ConditionError as exc:
            notes(logging.ERROR, f"reporter {spec.name!r}: its condition failed ({exc}); "
                  "sending anyway")
            gate_open = True
        decision = hygiene.decide(hygiene.Policy.of(spec), assessment, gate_open=gate_open,
                                  now=now, other_failure=other_failure)
        states.append((spec.name, {k: s.as_dict() for k, s in before.items()},
                       {k: s.as_dict() for k, s in decision.states.items()}))
        if decision.alert:
            message = _message(spec, ctx, seen, log_text, notes)
            messages.append(QueuedMessage(ctx.project.project, ctx.scenario, ctx.run_id,
                                          message, shadow=spec.shadow))
        else:
            gate = f"when: {spec.when}" if spec.when else f"on: {spec.on or 'not SUCCESS'}"
            why = f"{gate}; outcome {seen['outcome']}" if not gate_open else decision.reason
            notes(logging.INFO, f"reporter {spec.name!r} not sent ({why})")
            summary.skipped.append(spec.name)
        if decision.recovery:
            recovery = _recovery(spec, ctx, hygiene.recovery_variables(variables, assessment),
                                 notes)
            messages.append(QueuedMessage(ctx.project.project, ctx.scenario, ctx.run_id,
                                          recovery, kind=RECOVERY, shadow=spec.shadow))
    ids = outbox.enqueue(engine, messages)
    for name, before_run, after_run in states:  # after the messages: a crash in between
        save_states(engine, ctx.project.project, ctx.scenario, name, ctx.run_id,  # re-runs
                    before_run, after_run, now)  # the same decision (idempotent keys)
    for queued, message_id in zip(messages, ids, strict=True):
        name = queued.message.reporter
        if queued.kind == RECOVERY:
            name = f"{name} ({RECOVERY})"
        if message_id is None:
            notes(logging.INFO, f"reporter {name!r}: already queued for this run "
                  f"({queued.idempotency_key}); not queued again")
            summary.already_queued.append(name)
        elif queued.shadow:
            notes(logging.INFO, f"reporter {name!r} (shadow): message #{message_id} recorded, "
                  "not sent")
            summary.shadow[name] = message_id
        else:
            notes(logging.INFO, f"reporter {name!r}: message #{message_id} queued")
            summary.queued[name] = message_id
    if deliver and summary.queued:
        summary.delivery = await deliver_pending(ctx.project, engine)
        for name, message_id in summary.queued.items():
            _note_delivery(notes, summary.delivery, name, message_id)
    summary.lines = notes.lines
    _note_on_run(engine, ctx.run_id, notes.lines, _headline(summary))
    return summary


def _message(spec: ReporterOptions, ctx: Any, variables: dict[str, Any], log_text: str,
             notes: _Notes) -> Message:
    root = ctx.project.root
    try:
        content = render_content(spec, root, variables)
        subject, body, html = content.subject, content.body, content.html
    except RenderError as exc:
        notes(logging.ERROR, f"reporter {spec.name!r}: {exc}; sending a plain fallback message")
        subject, body, html = _fallback(spec, ctx, str(exc))
    alert = variables.get("alert") or {}
    if subject and set(alert.get("escalated", ())) & set(alert.get("entered", ())):
        subject = f"[escalated to ERROR] {subject}"  # escalated by this run
    if not isinstance(spec, MailReporterSpec):
        return Message(reporter=spec.name, type=spec.type, body=body)
    attachments, missing = _attachments(spec, ctx, variables, log_text, notes)
    if missing:
        body += "\n\n" + "\n".join(f"[scenarist] not attached: {m}" for m in missing) + "\n"
    return Message(reporter=spec.name, type="mail", subject=subject, body=body, html=html,
                   to=tuple(spec.to), cc=tuple(spec.cc), bcc=tuple(spec.bcc),
                   attachments=tuple(attachments))


def _recovery(spec: ReporterOptions, ctx: Any, variables: dict[str, Any],
              notes: _Notes) -> Message:
    """The "back to OK" message of a reporter with `notify_recovery` (no attachments)."""
    try:
        content = render_recovery(spec, ctx.project.root, variables)
    except RenderError as exc:
        notes(logging.ERROR, f"reporter {spec.name!r}: {exc}; sending a plain recovery message")
        names = ", ".join(variables["alert"]["recovered"])
        subject = f"[scenarist] {ctx.scenario}: back to OK ({names})"
        content = RenderedContent(body=json.dumps({"text": subject}) if spec.type == "webhook"
                                  else f"{subject}\nRun: {ctx.run_url or ctx.run_id}\n",
                                  subject=subject)
    if not isinstance(spec, MailReporterSpec):
        return Message(reporter=spec.name, type=spec.type, body=content.body)
    return Message(reporter=spec.name, type="mail", subject=content.subject, body=content.body,
                   to=tuple(spec.to), cc=tuple(spec.cc), bcc=tuple(spec.bcc))


def _run_checks_steps(ctx: Any) -> dict[str, Any]:
    """Each run_checks step of the run's scenario (by its variable) → whether it ran a check."""
    from scenarist.flows.context import step_variable
    from scenarist.flows.specs import RunChecksStep

    spec = ctx.project.scenarios.get(ctx.scenario)
    found: dict[str, Any] = {}
    for step in spec.steps if spec is not None else ():
        if isinstance(step, RunChecksStep):
            names, store = set(step.checks or ()), step.store
            found[step_variable(step.name)] = (
                lambda check, names=names, store=store:
                check["name"] in names if names else check.get("store") == store)
    return found


def _fallback(spec: ReporterOptions, ctx: Any, error: str) -> tuple[str, str, None]:
    text = (f"Scenario {ctx.scenario!r} finished with outcome {ctx.outcome}.\n"
            f"Run: {ctx.run_url or ctx.run_id}\n\n"
            f"The message of reporter {spec.name!r} could not be rendered: {error}\n")
    subject = f"[scenarist] {ctx.scenario}: {ctx.outcome} (reporter {spec.name!r} failed to render)"
    if isinstance(spec, WebhookReporterSpec):
        payload = {"text": f"{subject}\n{text}", "scenario": ctx.scenario,
                   "outcome": str(ctx.outcome), "run_url": ctx.run_url, "error": error}
        return subject, json.dumps(payload), None
    return subject, text, None


def _attachments(spec: MailReporterSpec, ctx: Any, variables: dict[str, Any], log_text: str,
                 notes: _Notes) -> tuple[list[Attachment], list[str]]:
    found: list[Attachment] = []
    missing: list[str] = []
    for item in spec.attach:
        if item == "scenario_log":
            found.append(Attachment("scenario.log", log_text.encode("utf-8"), "text/plain"))
        elif item == "check_results":
            found.append(Attachment("check_results.csv", check_results_csv(ctx.checks),
                                    "text/csv"))
        elif item == "evaluation_report":
            path = getattr(ctx, EVALUATION_REPORT_ATTRIBUTE, None)
            if path and Path(path).is_file():
                found.append(Attachment(Path(path).name, Path(path).read_bytes(), "text/html"))
            else:
                notes(logging.INFO, f"reporter {spec.name!r}: this run made no HTML evaluation "
                      "report; evaluation_report not attached")
        else:
            try:
                relative = render_path(ctx.project.root, item, variables)
            except RenderError as exc:
                notes(logging.ERROR, f"reporter {spec.name!r}: attachment {item!r}: {exc}")
                missing.append(f"{item} ({exc.reason})")
                continue
            path = ctx.project.resolve_path(relative)
            if not path.is_file():
                notes(logging.ERROR, f"reporter {spec.name!r}: attachment {relative} not found "
                      f"({path}); the message is sent without it")
                missing.append(f"{relative} (file not found)")
                continue
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            found.append(Attachment(path.name, path.read_bytes(), kind))
    return found, missing


def check_results_csv(checks: Sequence[dict[str, Any]]) -> bytes:
    """The run's check results as CSV (bounds as JSON, times as ISO 8601)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CHECK_COLUMNS)
    for check in checks:
        row = []
        for column in CHECK_COLUMNS:
            value = check.get(column)
            if column == "bounds":
                value = json.dumps(value or {}, sort_keys=True)
            elif isinstance(value, datetime):
                value = value.isoformat()
            row.append("" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def _note_delivery(notes: _Notes, report: DeliveryReport, name: str, message_id: int) -> None:
    if message_id in report.sent:
        extra = f" ({report.sent[message_id]})" if report.sent[message_id] else ""
        notes(logging.INFO, f"reporter {name!r}: message #{message_id} delivered{extra}")
    elif message_id in report.retrying:
        notes(logging.WARNING, f"reporter {name!r}: message #{message_id} not delivered yet, "
              f"{report.retrying[message_id]}; it stays in the outbox and will be retried "
              "(scenarist outbox list|retry)")
    elif message_id in report.failed:
        notes(logging.ERROR, f"reporter {name!r}: message #{message_id} delivery FAILED, "
              f"{report.failed[message_id]}; it stays in the outbox (scenarist outbox retry)")


def _headline(summary: QueueSummary) -> str | None:
    if not summary.queued:
        return None
    delivery = summary.delivery
    if delivery is None:
        return f"reporters: {len(summary.queued)} message(s) queued"
    ids = set(summary.queued.values())
    counts = {name: len(ids & set(getattr(delivery, name))) for name in
              ("sent", "retrying", "failed")}
    text = f"reporters: {counts['sent']}/{len(ids)} delivered"
    if counts["retrying"]:
        text += f", {counts['retrying']} pending retry"
    if counts["failed"]:
        text += f", {counts['failed']} failed"
    return text


def _note_on_run(engine: Engine, run_id: str, lines: list[str], headline: str | None) -> None:
    """Append the reporters' lines to the run record's log and their summary to its message
    (a run that is not recorded, e.g. a direct call in a test, is left alone)."""
    from scenarist.stores.runs import scenario_runs_table as runs

    if not lines:
        return
    with engine.begin() as conn:
        row = conn.execute(select(runs.c.log, runs.c.message).where(runs.c.id == run_id)).first()
        if row is None:
            return
        log = (row.log or "") + "\n".join(lines) + "\n"
        message = row.message
        if headline:
            message = f"{message}; {headline}" if message else headline
        conn.execute(update(runs).where(runs.c.id == run_id).values(log=log, message=message))
