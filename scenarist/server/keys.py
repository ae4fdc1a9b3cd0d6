"""API keys of the server: created once (the secret is shown then and never again), stored hashed.

    key, secret = create_key("fraud-service", scopes=["predict"], deployments=[dep.id], url=...)
    list_keys(url=...); revoke_key(key.id, url=...)
    verify(secret, url=...) -> ApiKey | None      # None: unknown, malformed or revoked

A secret reads `sck_<id>_<random>`: the id finds the row, the SHA-256 of the whole secret is
compared in constant time. A secret has 256 random bits, so a fast hash is enough (no password
stretching is needed against guessing). Scopes: `predict` (prediction requests), `ingest`
(prediction logs, actuals, monitoring batches), `read` (service stats, drift, accuracy) and
`admin` (everything, including model replacement). `deployments` lists the deployment ids a key
may touch; `["*"]` means every deployment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import insert, select, update

from scenarist.errors import ConfigError, NotFoundError
from scenarist.stores.database import connect, database_errors
from scenarist.stores.server_tables import api_keys

PREFIX = "sck_"
ALL_DEPLOYMENTS = "*"


class Scope(StrEnum):
    PREDICT = "predict"
    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    scopes: frozenset[Scope]
    deployments: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: Scope, deployment_id: str | None = None) -> bool:
        """Whether this key may use `scope` (admin may use any) on `deployment_id`."""
        if self.revoked_at is not None:
            return False
        if scope not in self.scopes and Scope.ADMIN not in self.scopes:
            return False
        return (deployment_id is None or ALL_DEPLOYMENTS in self.deployments
                or deployment_id in self.deployments)


def create_key(name: str, scopes: Sequence[str], deployments: Sequence[str], *,
               url: str | None = None) -> tuple[ApiKey, str]:
    """Store a new key; returns it and its secret (shown only now)."""
    if not name.strip():
        raise ConfigError("an API key needs a name, e.g. 'fraud-service'")
    chosen = _scopes(scopes)
    if not deployments:
        raise ConfigError("an API key needs the deployment ids it may touch, or '*' for all")
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(timezone.utc)
    engine = connect(url)
    with database_errors(engine, f"create API key {name!r}"), engine.begin() as conn:
        conn.execute(insert(api_keys).values(
            id=key_id, name=name, secret_sha256=_digest(secret),
            scopes=sorted(s.value for s in chosen), deployments=list(deployments),
            created_at=now))
    return ApiKey(key_id, name, chosen, tuple(deployments), now, None), secret


def list_keys(*, url: str | None = None, revoked: bool = False) -> list[ApiKey]:
    """Every key (revoked ones too when `revoked`), oldest first."""
    query = select(api_keys).order_by(api_keys.c.key)
    if not revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with connect(url).connect() as conn:
        return [_key(r) for r in conn.execute(query)]


def revoke_key(key_id: str, *, url: str | None = None) -> ApiKey:
    """Revoke a key: it is refused from then on (a running server notices within its cache
    time, immediately when revoked through that server)."""
    engine = connect(url)
    now = datetime.now(timezone.utc)
    with database_errors(engine, f"revoke API key {key_id}"), engine.begin() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            known = ", ".join(k.id for k in list_keys(url=url)) or "none"
            raise NotFoundError(f"no API key {key_id!r}; keys: {known}")
        if row.revoked_at is None:
            conn.execute(update(api_keys).where(api_keys.c.key == row.key)
                         .values(revoked_at=now))
        row = conn.execute(select(api_keys).where(api_keys.c.key == row.key)).one()
    return _key(row)


def verify(secret: str, *, url: str | None = None) -> ApiKey | None:
    """The live key whose secret this is, else None."""
    if not secret.startswith(PREFIX):
        return None
    key_id, sep, _rest = secret[len(PREFIX):].partition("_")
    if not sep:
        return None
    with connect(url).connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
        return None
    return _key(row)


def _scopes(scopes: Sequence[str]) -> frozenset[Scope]:
    chosen = set()
    for scope in scopes:
        try:
            chosen.add(Scope(str(scope).lower()))
        except ValueError:
            raise ConfigError(f"unknown scope {scope!r}; choose from "
                              f"{', '.join(s.value for s in Scope)}") from None
    if not chosen:
        raise ConfigError("an API key needs at least one scope: "
                          f"{', '.join(s.value for s in Scope)}")
    return frozenset(chosen)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row) -> ApiKey:
    return ApiKey(row.id, row.name, frozenset(Scope(s) for s in row.scopes),
                  tuple(row.deployments), _utc(row.created_at), _utc(row.revoked_at))


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
