"""Reporters: mail (aiosmtplib) and webhooks (httpx), gated on outcomes, through a durable
outbox.

    specs.py     MailReporterSpec, WebhookReporterSpec: the `reporters:` of a scenario
    gate.py      should_report(when, on, outcome, variables): the pure gate
    render.py    Jinja sandbox (StrictUndefined), built-in templates, validation problems
    base.py      Message, Attachment, Reporter (one `async def send`), DeliveryError
    mail.py      MailReporter;  webhook.py  WebhookReporter (presets: slack, teams)
    queue.py     queue_reports(ctx, ...): what a scenario run calls when its steps are done
    delivery.py  deliver_pending(project, engine): the sender, retries with backoff

Names are imported on first use, so loading a project does not import aiosmtplib or httpx.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MailReporterSpec": "specs",
    "WebhookReporterSpec": "specs",
    "ReporterSpec": "specs",
    "should_report": "gate",
    "render_content": "render",
    "reporter_problems": "render",
    "sample_variables": "render",
    "RenderError": "render",
    "Message": "base",
    "Attachment": "base",
    "Reporter": "base",
    "DeliveryError": "base",
    "MailReporter": "mail",
    "WebhookReporter": "webhook",
    "queue_reports": "queue",
    "QueueSummary": "queue",
    "deliver_pending": "delivery",
    "DeliveryReport": "delivery",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scenarist.reporters' has no attribute {name!r}")
    return getattr(importlib.import_module(f"scenarist.reporters.{module}"), name)
