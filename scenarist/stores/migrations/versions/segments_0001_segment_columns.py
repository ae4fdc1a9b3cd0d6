"""segments: a nullable `segment` on metric values and check results (NULL = all rows)

Revision ID: segments_0001
Revises: 0001
Depends on: checks_0001 (the check results table)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "segments_0001"
down_revision = "0001"
branch_labels = ("segments",)
depends_on = "checks_0001"


def upgrade() -> None:
    op.add_column("scenarist_metric_values",
                  sa.Column("segment", sa.String(300), nullable=True))
    op.add_column("scenarist_check_results",
                  sa.Column("segment", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenarist_check_results") as batch:
        batch.drop_column("segment")
    with op.batch_alter_table("scenarist_metric_values") as batch:
        batch.drop_column("segment")
