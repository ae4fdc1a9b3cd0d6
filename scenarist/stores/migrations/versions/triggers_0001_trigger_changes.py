"""triggers: the changes polling triggers saw (claims before runs) and paused scenarios

Revision ID: triggers_0001
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "triggers_0001"
down_revision = "0001"
branch_labels = ("triggers",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_trigger_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("scenario", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project", "scenario", "trigger", "subject", "seq",
                            name="uq_scenarist_trigger_changes_seq"),
    )
    op.create_table(
        "scenarist_scenario_pauses",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("scenario", sa.String(200), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scenarist_scenario_pauses")
    op.drop_table("scenarist_trigger_changes")
