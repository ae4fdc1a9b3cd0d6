"""Connecting to the database behind the stores, and keeping its schema migrated.

One URL selects the backend: SQLite (default, a file under `.scenarist/`, WAL mode, foreign keys
on) or PostgreSQL (`postgresql://user@host/db`, driven by psycopg 3). `connect()` checks the
database is reachable, upgrades the schema to the latest Alembic revision (under an advisory lock
on PostgreSQL, so two processes starting together do not race) and returns a cached Engine.

Each feature owns its tables and its own Alembic branch rooted at revision "0001" (e.g. the
check results, the scenario runs, the prediction log); `connect()` upgrades every head.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from scenarist.errors import StoreError

DEFAULT_URL = "sqlite:///.scenarist/store.db"
_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x5CE7A815  # pg_advisory_xact_lock key held while migrating

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def resolve_url(url: str | None, root: Path | str | None = None) -> URL:
    """Parse `url` (default: DEFAULT_URL); make a relative SQLite path absolute under `root`."""
    try:
        parsed = make_url(url or DEFAULT_URL)
    except ArgumentError as exc:
        raise StoreError(
            f"store URL {url!r} is not a database URL ({exc}); use e.g. "
            "'sqlite:///.scenarist/store.db' or 'postgresql://user@host:5432/db'"
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_absolute():
            path = Path(root or Path.cwd()) / path
        parsed = parsed.set(database=str(path.resolve()))
    return parsed


def display_url(url: URL | str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def connect(url: str | None = None, root: Path | str | None = None) -> Engine:
    """A migrated, reachable Engine for `url` (cached per URL for the life of the process)."""
    resolved = resolve_url(url, root)
    key = resolved.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(resolved)
            _engines[key] = engine
    return engine


def project_engine(project: Any) -> Engine:
    """The engine of a project's `store` connection (default SQLite under .scenarist/): where
    its scenario runs, check results and outbox live."""
    connection = project.connections.get("store")
    return connect(connection.resolved_url() if connection else None, project.root)


def failure_reason(exc: BaseException) -> str:
    """The first line of the database's own message for a failed statement or connection."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


@contextmanager
def database_errors(engine: Engine, action: str) -> Iterator[None]:
    """Turn a database failure during `action` into a StoreError that says what failed."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(
            f"could not {action} at {display_url(engine.url)}: {failure_reason(exc)}"
        ) from exc


def dispose_all() -> None:
    """Close every cached Engine (tests, and processes that fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create(url: URL) -> Engine:
    is_sqlite = url.get_backend_name() == "sqlite"
    sqlite_file = url.database not in (None, "", ":memory:") and is_sqlite
    if sqlite_file:
        _sqlite_folder(Path(url.database or ""))
    try:
        engine = create_engine(url, pool_pre_ping=not is_sqlite)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"no database driver for {display_url(url)} ({exc}); "
            "scenarist supports sqlite:/// and postgresql:// URLs"
        ) from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        if sqlite_file:
            _sqlite_folder(Path(url.database or ""), probe=True)
            raise StoreError(f"cannot open the SQLite store {url.database}: "
                             f"{failure_reason(exc)}. {_POINT_ELSEWHERE}") from exc
        raise StoreError(
            f"cannot reach the store at {display_url(url)}: {failure_reason(exc)}. "
            "Check the URL in connections.store and that the database server is running."
        ) from exc
    return engine


_POINT_ELSEWHERE = "Fix it or point connections.store (url:) at another folder"


def _sqlite_folder(database: Path, *, probe: bool = False) -> None:
    """Create the folder of a SQLite file; with `probe`, also check that a file can be created
    in it (SQLite creates the database and its -wal/-shm files there). A StoreError names the
    folder and what is wrong with it."""
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"the folder {folder} does not exist and cannot be created "
                         f"({exc.strerror or exc}), so the SQLite store {database.name} cannot be "
                         f"kept there. {_POINT_ELSEWHERE}") from exc
    if probe:
        try:
            handle, name = tempfile.mkstemp(dir=folder, prefix=".scenarist-probe-")
        except OSError as exc:
            raise StoreError(f"the folder {folder} is not writable (creating a file there "
                             f"failed: {exc.strerror or exc}); the SQLite store needs to create "
                             f"{database.name} and its -wal/-shm files there. "
                             f"{_POINT_ELSEWHERE}") from exc
        os.close(handle)
        os.unlink(name)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def dialect_insert(dialect: str, table: Any) -> Any:
    """INSERT into `table` with the dialect's `on_conflict_do_nothing/do_update` (scenarist
    stores live on SQLite or PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - scenarist supports SQLite and PostgreSQL
        raise NotImplementedError(f"scenarist's stores do not support {dialect}")
    return insert(table)
