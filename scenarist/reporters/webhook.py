"""The webhook reporter: POST the rendered JSON payload with httpx.

    reporter = await WebhookReporter.from_spec(spec, project)   # URL (a secret) resolved here
    await reporter.send(message)

Every attempt carries the message's delivery id (fixed when it was queued) as the
`Idempotency-Key` header and, in the generic preset's own payload, as `"idempotency_key"`, so
the receiver can drop the copy a crash may cause (Slack and Teams payloads, and payloads of
your own, get the header only). Timeouts, connection errors, 5xx, 408 and 429 are temporary
(retried with backoff); any other non-2xx status is permanent. The URL is never written to
logs or the outbox: a Slack or Teams webhook URL is itself a credential, so messages name only
its host.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr

from scenarist.errors import DeliveryError
from scenarist.reporters.base import Message, Reporter, secret_from_block
from scenarist.reporters.specs import WebhookReporterSpec

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEMPORARY_STATUS = {408, 425, 429}


class WebhookReporter(Reporter):
    """An HTTP endpoint receiving JSON."""

    url: SecretStr = Field(description="Endpoint URL (a secret for Slack and Teams).")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="Extra headers.")
    timeout_seconds: float = Field(30, gt=0, description="Timeout of the request.")
    key_in_payload: bool = Field(False, description="Add `idempotency_key` to a JSON object "
                                 "payload (the generic preset's own payload).")

    @classmethod
    async def from_spec(cls, spec: WebhookReporterSpec, project: Any = None) -> WebhookReporter:
        """The reporter of `spec`, with `${ENV}` and the Prefect Secret block resolved now."""
        if spec.url_block is not None:
            url = await secret_from_block(spec.url_block, what="webhook URL")
        else:
            url = _resolve(spec.url or "", spec.name, "url")
        headers = {k: SecretStr(_resolve(v, spec.name, f"headers.{k}"))
                   for k, v in spec.headers.items()}
        own_payload = spec.payload is not None or spec.payload_template is not None
        return cls(url=SecretStr(url), headers=headers, timeout_seconds=spec.timeout_seconds,
                   key_in_payload=spec.preset == "generic" and not own_payload)

    async def send(self, message: Message) -> str | None:
        url = self.url.get_secret_value()
        where = f"webhook {urlsplit(url).netloc or '(no host)'}"
        headers = {"Content-Type": "application/json",
                   **{k: v.get_secret_value() for k, v in self.headers.items()}}
        body = message.body
        if message.delivery_id is not None:
            headers["Idempotency-Key"] = message.delivery_id
            if self.key_in_payload:
                body = _with_key(body, message.delivery_id)
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.post(url, content=body.encode("utf-8"),
                                             headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"{where} timed out after {self.timeout_seconds:g} s",
                                temporary=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"cannot reach {where}: {type(exc).__name__}: {exc}",
                                temporary=True) from exc
        if response.is_success:
            return None
        temporary = response.status_code >= 500 or response.status_code in TEMPORARY_STATUS
        raise DeliveryError(f"{where} answered {response.status_code} {response.reason_phrase}: "
                            f"{response.text[:200]}", temporary=temporary)


def _with_key(body: str, key: str) -> str:
    """The payload with `"idempotency_key": key` added, when it is a JSON object without one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict) or "idempotency_key" in payload:
        return body
    return json.dumps({**payload, "idempotency_key": key})


def _resolve(text: str, reporter: str, key: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = os.environ.get(match[1])
        if value is None:
            raise DeliveryError(f"reporter {reporter!r}: environment variable {match[1]} (in "
                                f"`{key}`) is not set; export it where messages are delivered",
                                temporary=False)
        return value

    return _ENV.sub(substitute, text)
