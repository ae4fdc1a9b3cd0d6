"""Reading scenarist's events back from the Prefect API, and a tiny project that emits them."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from scenarist.operations.build import open_store
from scenarist.project.config import load_project

STORE = "the_MES"
WARNING_CHECK = "data drift < 0.45"
OK_CHECK = "auc above 0.7"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_project(example: Path, target: Path, *, smtp_port: int) -> tuple[Path, str]:
    """A copy of the example project named `events-<hex>` whose scenario "Checks" runs a check
    that ends WARNING (data_drift 0.49 > 0.45) and one that ends OK (auc 0.80), with a mail
    reporter (to `smtp_port`) and a webhook reporter to a closed port (one attempt)."""
    import shutil

    shutil.copytree(example, target, ignore=shutil.ignore_patterns(".scenarist"))
    name = f"events-{uuid.uuid4().hex[:8]}"
    path = target / "scenarist.yaml"
    config = yaml.safe_load(path.read_text())
    config["project"] = name
    config["connections"]["mail"] = {"host": "127.0.0.1", "port": smtp_port,
                                     "sender": "mlops@example.com"}
    config["scenarios"] = {"Checks": {
        "steps": [{"name": "MES_Warn", "type": "run_checks",
                   "checks": [WARNING_CHECK, OK_CHECK]}],
        "reporters": [
            {"name": "Mail", "type": "mail", "to": ["me@example.com"], "body": "{{ outcome }}",
             "max_attempts": 1},
            {"name": "Hook", "type": "webhook", "url": f"http://127.0.0.1:{closed_port()}/hook",
             "max_attempts": 1, "timeout_seconds": 5},
        ],
    }}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    project = load_project(target)
    values = [MetricValue("data_drift", 0.49), MetricValue("auc", 0.80)]
    open_store(project, STORE).record("2017Q4", ComputedEvaluation(values, 100, 100),
                                      model="fraud_model")
    return target, name


def read_events(prefix: str, **filters: Any) -> list[Any]:
    """Every stored event whose name starts with `prefix` (and the EventFilter `filters`)."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter

    async def read() -> list[Any]:
        async with get_client() as client:
            page = await client.read_events(
                filter=EventFilter(event=EventNameFilter(prefix=[prefix]), **filters),
                limit=50)
            return list(page.events)

    return asyncio.run(read())


def wait_for_events(prefix: str, count: int, timeout: float = 30.0, **filters: Any) -> list[Any]:
    """Poll until at least `count` events match (events are persisted asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        found = read_events(prefix, **filters)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
