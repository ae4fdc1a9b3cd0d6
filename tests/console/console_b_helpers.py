"""Fixtures and helpers of the console's runs, scenarios, alerts and deployments tests
(imported by name: tests are not a package)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from scenarist.demo.data import TARGET, generate_quarter, train_model
from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = "<script>alert(1)</script>"


def csrf_of(client, path: str) -> str:
    """The CSRF token of the client's session, read from a form on `path`."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, f"no form with a CSRF token on {path}"
    return found[1]


def recent_hour(hours_ago: int) -> float:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return (now - timedelta(hours=hours_ago)).timestamp()


@pytest.fixture(scope="session")
def deployments_db(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("console-deployments")
    return f"sqlite:///{folder / 'deployments.db'}", folder / "data"


@pytest.fixture(scope="session")
def fraud_deployment(deployments_db) -> Deployment:
    """A fraud deployment whose predictions (two monitoring batches, the last 30 hours, one
    feature renamed to an XSS payload in its label) have late labels for half of them."""
    url, data_dir = deployments_db
    train = generate_quarter("2017Q1", 800)
    model = model_from_estimator(train_model(train), target=TARGET, type="binary",
                                 name="fraud_model")
    dep = Deployment.create(model, f"Fraud {XSS}", description="card fraud",
                            reference=train, url=url, data_dir=data_dir)
    current = generate_quarter("2017Q4", 600)
    pred, proba = model.predict(current)
    for number, (rows, name) in enumerate(((slice(0, 300), "May run"),
                                           (slice(300, 600), "June run"))):
        batch = dep.create_batch(name)
        ids = [f"b{number}-{i}" for i in range(rows.start, rows.stop)]
        stamps = recent_hour(30 - 12 * number) + np.arange(300) * 60.0
        dep.log_batch(ids, stamps, current.iloc[rows][list(model.features)], pred[rows],
                      proba[rows], batch_id=batch.id)
        dep.log_labels(ids[:150], current[TARGET].iloc[rows].to_numpy()[:150])
    return dep
