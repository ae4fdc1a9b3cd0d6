"""What every reporter shares: the rendered `Message`, its `Attachment`s, the `Reporter` base
class (one `async def send(message)`) and `DeliveryError`.

    DeliveryError(ScenaristError, RuntimeError)
        .temporary = True    worth retrying: connection refused, timeout, SMTP 4xx, HTTP 5xx/429
        .temporary = False   retrying will not help: SMTP 5xx, bad credentials, HTTP 4xx,
                             a secret that cannot be resolved

A reporter never talks to its server while a scenario runs: the run renders a `Message` into
the outbox (`scenarist.stores.outbox`) and a sender delivers it (`scenarist.reporters.delivery`).
A message from the outbox has a `delivery_id`, fixed when it was queued: a reporter sends it
with every attempt (mail: the Message-ID; webhook: the Idempotency-Key), so a receiver can
recognise the copy a crash between its acceptance and the outbox's record may cause.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict

from scenarist.errors import DeliveryError
from scenarist.stores.outbox import Attachment, Message

__all__ = ["Attachment", "DeliveryError", "Message", "Reporter"]


class Reporter(BaseModel, ABC):
    """One delivery channel: a small model of its settings (secrets as SecretStr), built from a
    reporter spec and the project when a message is delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @abstractmethod
    async def send(self, message: Message) -> str | None:
        """Deliver `message`, or raise DeliveryError (temporary or not). May return a note for
        the outbox (e.g. recipients the server refused while accepting the others)."""


async def secret_from_block(name: str, *, what: str) -> str:
    """The value of the Prefect Secret block `name`; DeliveryError (permanent) when missing."""
    from prefect.blocks.system import Secret  # Prefect only when a block is used

    try:
        block = await Secret.aload(name)
    except (ValueError, Exception) as exc:  # noqa: BLE001 - Prefect raises ValueError or HTTP
        raise DeliveryError(f"cannot load the Prefect Secret block {name!r} holding the {what}: "
                            f"{exc}; create it with `prefect block create secret`",
                            temporary=False) from exc
    return str(block.get())
