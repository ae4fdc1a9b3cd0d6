"""outbox: each message's delivery id (Message-ID / idempotency key) and its claim's lease

Revision ID: outbox_0002
Revises: outbox_0001
Create Date: 2026-11-29

Rows queued before this revision have no delivery id: the sender assigns one (derived from
the row, so every sender derives the same) and stores it before its first attempt.
"""

import sqlalchemy as sa
from alembic import op

revision = "outbox_0002"
down_revision = "outbox_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scenarist_outbox", sa.Column("delivery_id", sa.String(200), nullable=True))
    op.add_column("scenarist_outbox",
                  sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenarist_outbox") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("delivery_id")
