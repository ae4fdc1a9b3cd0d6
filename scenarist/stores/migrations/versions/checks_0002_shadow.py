"""checks: a `shadow` flag on check results (a shadow check's row: recorded, never counted)

Revision ID: checks_0002
Revises: checks_0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "checks_0002"
down_revision = "checks_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scenarist_check_results",
                  sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("scenarist_check_results") as batch:
        batch.drop_column("shadow")
