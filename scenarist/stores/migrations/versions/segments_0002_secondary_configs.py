"""segments: the history of deployments' secondary dataset configurations

Revision ID: segments_0002
Revises: segments_0001
Depends on: deployments_0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "segments_0002"
down_revision = "segments_0001"
branch_labels = None
depends_on = "deployments_0001"


def upgrade() -> None:
    op.create_table(
        "scenarist_secondary_configs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("deployment_key", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joins", sa.JSON, nullable=False),
        sa.Column("datasets", sa.JSON, nullable=False),
    )
    op.create_index("ix_scenarist_secondary_configs_deployment", "scenarist_secondary_configs",
                    ["deployment_key", "created_at"])


def downgrade() -> None:
    op.drop_table("scenarist_secondary_configs")
