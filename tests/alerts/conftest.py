"""The reporter tests' real servers (aiosmtpd, HTTP) and helpers, shared with the alert tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPORTERS = Path(__file__).resolve().parents[1] / "reporters"
if str(REPORTERS) not in sys.path:
    sys.path.insert(0, str(REPORTERS))  # reporter_helpers: run contexts, queue(), edit_project

_spec = importlib.util.spec_from_file_location("reporters_conftest", REPORTERS / "conftest.py")
_servers = importlib.util.module_from_spec(_spec)
sys.modules["reporters_conftest"] = _servers  # dataclasses look their module up
_spec.loader.exec_module(_servers)


@pytest.fixture
def smtp_server():
    server = _servers.SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook_server():
    server = _servers.WebhookServer()
    yield server
    server.close()
