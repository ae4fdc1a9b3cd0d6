"""The table of the prediction server (Alembic branch "server"), on the shared `metadata`.

    scenarist_api_keys   one row per API key: its public id, the SHA-256 of its secret (the
                         secret itself is shown once, at creation, and never stored), scopes,
                         the deployments it may touch ("*" = all), creation and revocation times

Lives here, beside the other features' tables, so the migrations-match-the-schema test sees it;
`scenarist.server.keys` is the code that reads and writes it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table

from scenarist.stores.schema import metadata

api_keys = Table(
    "scenarist_api_keys",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("deployments", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
