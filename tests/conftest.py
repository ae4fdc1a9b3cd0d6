"""Real services for the tests: SQLite and PostgreSQL stores, generated data and projects.

PostgreSQL tests read SCENARIST_TEST_POSTGRES_URL (set by .ci/run) and are skipped, with the
reason, when it is unset or the server cannot be reached. Each test session works in a schema
of its own, dropped at the end, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scenarist.stores.database import dispose_all

POSTGRES_ENV = "SCENARIST_TEST_POSTGRES_URL"


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """`base` (a PostgreSQL URL) with its search_path on a new, empty schema, dropped on exit;
    skips the test when the server is unreachable."""
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    url = url.difference_update_query(["options"])
    schema = f"scenarist_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means skip
        admin.dispose()
        pytest.skip(f"PostgreSQL at {url.render_as_string()} is unreachable: {exc}")
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        dispose_all()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL URL whose search_path is a fresh schema shared by the session's tests."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; set it to a PostgreSQL URL to run these tests")
    with fresh_schema(base) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def private_store_url(request, tmp_path: Path) -> Iterator[str]:
    """Like `store_url`, but PostgreSQL gets a schema of its own: for tests that count every row
    of a table (the outbox) and must not see what other tests left in the session's schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips with the reason when PostgreSQL is absent
    with fresh_schema(os.environ[POSTGRES_ENV]) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    """A store URL on each backend: a temp SQLite file, and the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def example_project(tmp_path_factory) -> Path:
    """The fraud-monitoring example project (small), written once per session. Read-only."""
    from scenarist.demo.project import write_example

    folder = tmp_path_factory.mktemp("fraud-example")
    return write_example(folder, rows=3_000).parent


@pytest.fixture
def project_copy(example_project: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the example project."""
    import shutil

    target = tmp_path / "project"
    shutil.copytree(example_project, target, ignore=shutil.ignore_patterns(".scenarist"))
    return target


@pytest.fixture(scope="session")
def prefect_api():
    """A real Prefect API (prefect_test_harness: a temporary server), started once a session."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def wide_console():
    """CLI tables at a width where no column or message is folded, like a maximised terminal."""
    from scenarist.commands import common

    widths = common.out.width, common.err.width
    common.out.width = common.err.width = 250
    yield
    common.out.width, common.err.width = widths
