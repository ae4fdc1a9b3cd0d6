"""Real servers for the reporter tests: an aiosmtpd SMTP server and an HTTP server, both on
127.0.0.1 with a random port, keeping what they receive; and the example project wired to them.

    smtp_server.messages          received mails (envelope sender, recipients, parsed message)
    smtp_server.stop() / start()  take it down and bring it back on the same port
    smtp_server.temporary_failures = 3   answer "451" to the next 3 RCPT commands
    smtp_server.reject = {"x@y"}  answer "550" to these recipients
    smtp_server.rcpt_delay = 2.0  a slow server (seconds before answering RCPT)
    smtp_server.credentials = ("user", "pw")   require AUTH (restart to apply)

    webhook_server.url, .requests, .statuses = [500, 500] (answered first), .delay
"""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from reporter_helpers import edit_project

MONITOR = "Data drift monitor"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def attachments(self) -> dict[str, bytes]:
        return {part.get_filename(): part.get_payload(decode=True)
                for part in self.message.iter_attachments()}

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


class SMTPServer:
    """aiosmtpd in its own thread; every accepted mail is kept in `messages`."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[Received] = []
        self.temporary_failures = 0
        self.reject: set[str] = set()
        self.rcpt_delay = 0.0
        self.credentials: tuple[str, str] | None = None
        self._controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.reject:
            return "550 5.1.1 <%s>: recipient rejected" % address
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=default_policy)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            kwargs = dict(auth_required=True, auth_require_tls=False,
                          authenticator=self._authenticate)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


class WebhookServer:
    """http.server in a thread; keeps every POST; answers `statuses` first, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.delay:
                    time.sleep(outer.delay)
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status == 200:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "json": json.loads(body)})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"server error")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_project(project_copy: Path, smtp_server: SMTPServer) -> Path:
    """The example project with its mail connection on the test SMTP server, a store of its
    own, and fast retries (the DESIGN.md §4 reporter otherwise as written)."""

    def change(data: dict) -> None:
        data["connections"]["mail"] = {"host": "127.0.0.1", "port": smtp_server.port,
                                       "sender": "mlops@example.com"}
        reporter = data["scenarios"][MONITOR]["reporters"][0]
        reporter.update(retry_delay_seconds=0.05, timeout_seconds=30)  # generous: load

    return edit_project(project_copy, change)
