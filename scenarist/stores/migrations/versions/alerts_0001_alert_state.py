"""alerts: each reporter's state of each check × segment (alert hygiene)

Revision ID: alerts_0001
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "alerts_0001"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_alert_state",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("scenario", sa.String(200), primary_key=True),
        sa.Column("reporter", sa.String(200), primary_key=True),
        sa.Column("check_name", sa.String(500), primary_key=True),
        sa.Column("segment", sa.String(500), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("streak", sa.Integer, nullable=False),
        sa.Column("alerted", sa.String(16), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scenarist_alert_state")
