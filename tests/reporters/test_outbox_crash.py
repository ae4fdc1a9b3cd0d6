"""kill -9 at each point of a delivery: every alert arrives, none twice by Message-ID.

A real `scenarist outbox retry` subprocess delivers 20 queued alerts to a real aiosmtpd server
in this process, and is SIGKILLed at each point of a delivery, one pass after the other:

    pass 1  before send        SCENARIST_FAULT_POINT=before_send:3 (the 3rd message is claimed)
    pass 2  after DATA         the server kills it at its 3rd DATA, before replying (not accepted)
    pass 3  after 250          the server kills it at its 2nd QUIT: the 250 for the DATA reached
                               the client, which had not marked the message sent yet
    pass 4  while marking      SCENARIST_FAULT_POINT=while_marking:2 (inside the transaction)
    pass 5  no fault           runs to the end

Each restart waits for the killed claim's lease (1 s here, SCENARIST_OUTBOX_LEASE_SECONDS) to
expire. Passes 3 and 4 end in the window the outbox cannot close — the receiver accepted the
message, the outbox did not record it — so those two alerts arrive twice, each time with the
Message-ID it was given when it was queued: a receiver keeps one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from reporter_helpers import edit_project, queue, warning_context

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.outbox import outbox_messages

ALERTS = 20
SCENARIST = str(Path(sys.executable).parent / "scenarist")


class Killer:
    """Arms the test SMTP server to SIGKILL the delivering process at its n-th DATA (before the
    reply: the mail is not accepted) or its n-th QUIT (the client has the 250 of its DATA)."""

    def __init__(self, smtp_server) -> None:
        self.process: subprocess.Popen | None = None
        self.command: str | None = None
        self.countdown = 0
        keep_data = smtp_server.handle_DATA

        async def handle_DATA(server, session, envelope):  # noqa: N802
            if self._hit("DATA"):
                return "451 4.3.0 the client was killed before this reply"
            return await keep_data(server, session, envelope)

        async def handle_QUIT(server, session, envelope):  # noqa: N802
            self._hit("QUIT")
            return "221 Bye"

        smtp_server.handle_DATA = handle_DATA  # aiosmtpd takes handle_* from the instance
        smtp_server.handle_QUIT = handle_QUIT

    def arm(self, command: str, nth: int) -> None:
        self.command, self.countdown = command, nth

    def _hit(self, command: str) -> bool:
        if command != self.command:
            return False
        self.countdown -= 1
        if self.countdown:
            return False
        self.command = None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)  # dead before the server says another word
        return True


def _deliver(project: Path, killer: Killer, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "SCENARIST_OUTBOX_LEASE_SECONDS": "1", "COLUMNS": "200"}
    env.pop("SCENARIST_FAULT_POINT", None)
    if fault:
        env["SCENARIST_FAULT_POINT"] = fault
    killer.process = subprocess.Popen(
        [SCENARIST, "outbox", "retry", "-p", str(project), "--wait", "60"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return killer.process


def _killed(process: subprocess.Popen) -> None:
    output, _ = process.communicate(timeout=180)
    assert process.returncode == -signal.SIGKILL, f"not killed (rc {process.returncode}):\n{output}"


def _wait_for_leases(engine) -> None:
    """Until no message is claimed under a live lease (the killed sender's claim expired)."""
    deadline = time.monotonic() + 60
    while True:
        now = datetime.now(timezone.utc)
        live = [m for m in outbox_messages(engine, statuses=("sending",)) if m.lease_until > now]
        if not live:
            return
        assert time.monotonic() < deadline, f"leases never expired: {live}"
        time.sleep(0.1)


@pytest.fixture
def crash_project(mail_project: Path, private_store_url: str) -> Path:
    """The mail project on an outbox of its own: the test counts every message in it."""
    def change(data: dict) -> None:
        data["connections"]["store"] = {"url": private_store_url}
        data["scenarios"]["Data drift monitor"]["reporters"][0]["timeout_seconds"] = 30

    return edit_project(mail_project, change)


def test_kill_9_at_each_point_of_a_delivery_then_restart(crash_project: Path, smtp_server):
    for i in range(ALERTS):
        queue(warning_context(crash_project, f"run-{i:02d}"), deliver=False)
    engine = project_engine(load_project(crash_project))
    rows = outbox_messages(engine)
    assert len(rows) == ALERTS and all(r.delivery_id for r in rows)  # fixed when queued
    killer = Killer(smtp_server)

    _killed(_deliver(crash_project, killer, fault="before_send:3"))
    assert len(smtp_server.messages) == 2
    _wait_for_leases(engine)

    killer.arm("DATA", 3)
    _killed(_deliver(crash_project, killer))
    assert len(smtp_server.messages) == 4  # the 5th was not accepted
    _wait_for_leases(engine)

    killer.arm("QUIT", 2)
    _killed(_deliver(crash_project, killer))
    assert len(smtp_server.messages) == 6  # the 6th was accepted, then its sender killed
    _wait_for_leases(engine)

    _killed(_deliver(crash_project, killer, fault="while_marking:2"))
    assert len(smtp_server.messages) == 8  # the 6th again, then the 7th: its mark rolled back
    _wait_for_leases(engine)

    last = _deliver(crash_project, killer)
    output, _ = last.communicate(timeout=180)
    assert last.returncode == 0, output

    rows = outbox_messages(engine)
    assert [r.status for r in rows] == ["sent"] * ALERTS
    by_id: dict[str, list[str]] = defaultdict(list)
    for received in smtp_server.messages:
        by_id[received.message["Message-ID"]].append(received.text)
    assert sorted(by_id) == sorted(r.delivery_id for r in rows)  # every alert, by its own id
    twice = sorted(len(copies) for copies in by_id.values())
    assert twice == [1] * (ALERTS - 2) + [2, 2]  # the after-250 and while-marking windows
    assert all(len(set(copies)) == 1 for copies in by_id.values())  # a copy is the same mail
