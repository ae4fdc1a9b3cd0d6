"""Fixtures of the drop-in client tests: a store with a monitored deployment, and a real
`scenarist serve` process on it (127.0.0.1, a free port) with an API key."""

from __future__ import annotations

import joblib
import pytest
from compat_helpers import Monitored, Served, log_day, serve_process, small_model, training_frame

from scenarist.deployments import Deployment
from scenarist.server.keys import create_key


@pytest.fixture(scope="session")
def monitored(tmp_path_factory) -> Monitored:
    folder = tmp_path_factory.mktemp("compat-store")
    url = f"sqlite:///{folder / 'store.db'}"
    deployment = Deployment.create(small_model(), "Small v1", reference=training_frame(),
                                   url=url)
    log_day(deployment)
    swapped = Deployment.create(small_model(), "Swap me", reference=training_frame(), url=url)
    for name, c in (("model", 1.0), ("challenger", 0.05)):
        joblib.dump(small_model(c=c).estimator, folder / f"{name}.joblib")
    return Monitored(url, deployment.id, swapped.id, folder)


@pytest.fixture(scope="session")
def served(monitored) -> Served:
    """`scenarist serve --url <the store>` as a real process serving the "Swap me" model, a
    read + ingest key for every deployment and an admin key for "Swap me"."""
    _key, token = create_key("compat", ["read", "ingest"], ["*"], url=monitored.url)
    _key, admin = create_key("swap", ["admin"], [monitored.swapped_id], url=monitored.url)
    served_model = f"{monitored.swapped_id}={monitored.folder / 'model.joblib'}"
    with serve_process(monitored.url, "--model", served_model) as base:
        yield Served(base, token, admin)
