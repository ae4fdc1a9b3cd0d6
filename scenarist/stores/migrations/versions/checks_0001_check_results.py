"""checks: the check results history

Revision ID: checks_0001
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "checks_0001"
down_revision = "0001"
branch_labels = ("checks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_check_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("store", sa.String(200), nullable=True),
        sa.Column("evaluation_label", sa.String(200), nullable=True),
        sa.Column("check_name", sa.String(500), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(200), nullable=True),
        sa.Column("feature", sa.String(500), nullable=True),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("bounds", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scenario_run_id", sa.String(100), nullable=True),
    )
    op.create_index(
        "ix_scenarist_check_results_check", "scenarist_check_results", ["check_name", "checked_at"]
    )
    op.create_index(
        "ix_scenarist_check_results_store", "scenarist_check_results", ["store", "checked_at"]
    )


def downgrade() -> None:
    op.drop_table("scenarist_check_results")
