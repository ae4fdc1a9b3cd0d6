"""Fixtures of the server tests; the model, data and the running server are in
server_helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_helpers import small_model, training_frame

from scenarist.deployments import Deployment


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory) -> tuple[str, Path]:
    """(store URL, data folder) on each backend: a temp SQLite file, and the real PostgreSQL
    when SCENARIST_TEST_POSTGRES_URL is set (else skipped)."""
    folder = tmp_path_factory.mktemp("server-store")
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url"), folder / "data"
    return f"sqlite:///{folder / 'store.db'}", folder / "data"


@pytest.fixture(scope="module")
def deployment(store) -> Deployment:
    url, data_dir = store
    return Deployment.create(small_model(), "Small v1", reference=training_frame(),
                             url=url, data_dir=data_dir)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c
