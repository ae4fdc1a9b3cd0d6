"""The mail reporter: one SMTP server (aiosmtplib), STARTTLS or implicit TLS, optional login.

    reporter = await MailReporter.from_spec(spec, project)   # secrets resolved here
    await reporter.send(message)                            # or DeliveryError

Failures: connection refused, timeouts, a dropped connection and SMTP 4xx replies are temporary
(retried with backoff); 5xx replies (a refused recipient, bad credentials) are permanent. When
the server accepts some recipients and refuses others the mail is sent and the refusals are
returned, so the outbox records them.
"""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib
from pydantic import Field, SecretStr

from scenarist.errors import ConfigError, DeliveryError
from scenarist.reporters.base import Message, Reporter, secret_from_block
from scenarist.reporters.specs import MailReporterSpec


class MailReporter(Reporter):
    """An SMTP server and the From address of the mails sent through it."""

    host: str = Field(description="SMTP host.")
    port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    sender: str = Field(description="From address.")
    username: str | None = Field(None, description="Login user (with password).")
    password: SecretStr | None = Field(None, description="Login password.")
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    tls: bool = Field(False, description="Implicit TLS (SMTPS).")
    timeout_seconds: float = Field(30, gt=0, description="Timeout of each SMTP operation.")

    @classmethod
    async def from_spec(cls, spec: MailReporterSpec, project: Any) -> MailReporter:
        """The reporter of `spec` over its connection, with `${ENV}` and the Prefect Secret
        block resolved now (at delivery, never when the run queued the message)."""
        connection = project.connections.get(spec.connection)
        if connection is None or connection.kind != "mail":
            raise DeliveryError(f"reporter {spec.name!r}: no mail connection named "
                                f"{spec.connection!r} in the project", temporary=False)
        try:
            username = connection.resolved("username")
            password = connection.resolved("password")
            host = connection.resolved("host")
            port = connection.resolved_port()
            sender = spec.sender or connection.resolved("sender")
        except ConfigError as exc:
            raise DeliveryError(f"reporter {spec.name!r}: {exc}", temporary=False) from exc
        if spec.password_block is not None:
            password = await secret_from_block(spec.password_block, what="SMTP password")
        if not sender:
            raise DeliveryError(f"reporter {spec.name!r}: no sender address; set `sender`",
                                temporary=False)
        return cls(host=host or "localhost", port=port or (465 if connection.tls else 25),
                   sender=sender, username=username,
                   password=SecretStr(password) if password is not None else None,
                   starttls=connection.starttls, tls=connection.tls,
                   timeout_seconds=spec.timeout_seconds)

    async def send(self, message: Message) -> str | None:
        """Send `message`; returns the recipients the server refused while accepting others
        (None when it accepted all), raises DeliveryError when nothing was delivered."""
        recipients = [*message.to, *message.cc, *message.bcc]
        where = f"SMTP server {self.host}:{self.port}"
        try:
            refused, _ = await aiosmtplib.send(
                build_email(message, self.sender),
                sender=self.sender,
                recipients=recipients,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password.get_secret_value() if self.password else None,
                start_tls=self.starttls,
                use_tls=self.tls,
                timeout=self.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            replies = [(r.code, f"{r.recipient}: {r.code} {r.message}") for r in exc.recipients]
            temporary = all(400 <= code < 500 for code, _ in replies)
            raise DeliveryError(f"{where} refused every recipient: "
                                f"{'; '.join(text for _, text in replies)}",
                                temporary=temporary) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where} rejected the login of {self.username!r}: {exc.code} "
                                f"{exc.message}; check the connection's username/password",
                                temporary=400 <= exc.code < 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            kind = "temporarily refused" if 400 <= exc.code < 500 else "refused"
            raise DeliveryError(f"{where} {kind} the mail: {exc.code} {exc.message}",
                                temporary=not 500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
            raise DeliveryError(f"{where} timed out after {self.timeout_seconds:g} s: {exc}",
                                temporary=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"cannot reach {where}: {exc}", temporary=True) from exc
        if not refused:
            return None
        return "delivered, but the server refused " + "; ".join(
            f"{address}: {reply.code} {reply.message}" for address, reply in refused.items())


def build_email(message: Message, sender: str) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative when given, then the attachments.
    Bcc recipients are envelope-only (no header). Its Message-ID is the message's delivery id
    (a new one only for a message that did not come from the outbox)."""
    email = EmailMessage()
    email["From"] = sender
    if message.to:
        email["To"] = ", ".join(message.to)
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False)
    # the id the outbox fixed when the message was queued: every attempt (and the copy a crash
    # after the server's 250 may cause) carries it, so the receiver can drop the copy
    email["Message-ID"] = message.delivery_id or make_msgid(
        domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        content_type = attachment.content_type or (
            mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream")
        maintype, _, subtype = content_type.partition("/")
        # text attachments (the log, the HTML report, CSV) are UTF-8: say so, or mail clients
        # guess ASCII and garble them
        params = {"charset": "utf-8"} if maintype == "text" else None
        email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                             filename=attachment.filename, params=params)
    return email
