"""Shadow tests: the reporter tests' real SMTP server, and a project with a shadow check and a
shadow reporter beside the live ones, over a history of weekly evaluations recorded as the test
goes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.alerts.conftest import smtp_server  # noqa: F401 - the aiosmtpd fixture

LIVE, SHADOW = "data drift < 0.45", "data drift < 0.3 (trial)"
WEEKLY = "Weekly drift checks"
START = datetime(2026, 1, 5, tzinfo=timezone.utc)


@pytest.fixture
def shadow_project(project_copy: Path, smtp_server) -> Path:  # noqa: F811
    """The example project with a tighter shadow copy of the drift check, and a scenario that
    runs the live check with a live mail reporter (on WARNING) and a shadow one (every run)."""
    from reporter_helpers import edit_project

    def change(data: dict) -> None:
        data["connections"]["mail"] = {"host": "127.0.0.1", "port": smtp_server.port,
                                       "sender": "mlops@example.com"}
        data["checks"][SHADOW] = {"store": "the_MES", "metric": "data_drift", "soft_max": 0.3,
                                  "shadow": True}
        mail = {"type": "mail", "retry_delay_seconds": 0.05, "timeout_seconds": 30}
        data["scenarios"][WEEKLY] = {
            "steps": [{"name": "Drift checks", "type": "run_checks", "checks": [LIVE]}],
            "reporters": [
                {**mail, "name": "live", "on": ["WARNING", "FAILED"], "to": ["live@example.com"]},
                {**mail, "name": "trial", "shadow": True, "on": ["SUCCESS", "WARNING", "FAILED"],
                 "to": ["trial@example.com"]},
            ],
        }

    return edit_project(project_copy, change)


def record_week(root: Path, week: int, drift: float) -> str:
    """Record week `week`'s evaluation (data_drift `drift`) in the_MES; returns its label."""
    from scenarist.metrics.evaluation import ComputedEvaluation
    from scenarist.metrics.values import MetricValue
    from scenarist.operations.build import open_store
    from scenarist.project.config import load_project

    label = f"2026-W{week + 2:02d}"
    start = START + timedelta(weeks=week)
    open_store(load_project(root), "the_MES").record(
        label, ComputedEvaluation([MetricValue("data_drift", drift)], 100, 100),
        model="fraud_model", time_range=(start, start + timedelta(days=7)))
    return label
