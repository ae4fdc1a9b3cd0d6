"""Alembic environment: runs on the connection scenarist hands over (see stores/database.py)."""

from alembic import context

from scenarist.stores.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table="scenarist_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
