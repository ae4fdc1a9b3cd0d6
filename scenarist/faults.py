"""Crash-test hooks: named points where a test's subprocess is killed or held. Unset — always,
outside tests — they do nothing.

    SCENARIST_FAULT_POINT=<point>:<n>       fault_point(<point>) SIGKILLs the process the n-th
                                            time it gets there
    SCENARIST_FAULT_HOLD=<point>:<marker>   hold_point(<point>) creates the file <marker> (its
                                            content: the pid) and waits there to be killed

Points: `before_send` (reporters.delivery), `while_marking` (stores.outbox, inside `mark_sent`'s
transaction), `trigger-claimed` (triggers.polling, between a change's claim and its run),
`before-record` (deployments.staging, a call's Parquet files written and not yet recorded).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

FAULT_ENV = "SCENARIST_FAULT_POINT"
HOLD_ENV = "SCENARIST_FAULT_HOLD"
_SEEN: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """SIGKILL this process the n-th time it gets here when SCENARIST_FAULT_POINT is `name:n`."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or wanted.partition(":")[0] != name:
        return
    _SEEN[name] += 1
    if _SEEN[name] == int(wanted.partition(":")[2] or 1):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def hold_point(name: str) -> None:
    """When SCENARIST_FAULT_HOLD is `name:<marker>`: say so (create the marker) and wait here
    until the test kills the process."""
    wanted = os.environ.get(HOLD_ENV)
    if not wanted or wanted.partition(":")[0] != name:
        return
    with open(wanted.partition(":")[2], "w") as marker:
        marker.write(str(os.getpid()))
    while True:
        time.sleep(60)
