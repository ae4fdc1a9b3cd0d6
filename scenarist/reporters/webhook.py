"""The webhook reporter: POST the rendered JSON payload with httpx.

    reporter = await WebhookReporter.from_spec(spec, project)   # URL (a secret) resolved here
    await reporter.send(message)

Timeouts, connection errors, 5xx, 408 and 429 are temporary (retried with backoff); any other
non-2xx status is permanent. The URL is never written to logs or the outbox: a Slack or Teams
webhook URL is itself a credential, so messages name only its host.
"""

from __future__ import annotations

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

    @classmethod
    async def from_spec(cls, spec: WebhookReporterSpec, project: Any = None) -> WebhookReporter:
        """The reporter of `spec`, with `${ENV}` and the Prefect Secret block resolved now."""
        if spec.url_block is not None:
            url = await secret_from_block(spec.url_block, what="webhook URL")
        else:
            url = _resolve(spec.url or "", spec.name, "url")
        headers = {k: SecretStr(_resolve(v, spec.name, f"headers.{k}"))
                   for k, v in spec.headers.items()}
        return cls(url=SecretStr(url), headers=headers, timeout_seconds=spec.timeout_seconds)

    async def send(self, message: Message) -> str | None:
        url = self.url.get_secret_value()
        where = f"webhook {urlsplit(url).netloc or '(no host)'}"
        headers = {"Content-Type": "application/json",
                   **{k: v.get_secret_value() for k, v in self.headers.items()}}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.post(url, content=message.body.encode("utf-8"),
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


def _resolve(text: str, reporter: str, key: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = os.environ.get(match[1])
        if value is None:
            raise DeliveryError(f"reporter {reporter!r}: environment variable {match[1]} (in "
                                f"`{key}`) is not set; export it where messages are delivered",
                                temporary=False)
        return value

    return _ENV.sub(substitute, text)
