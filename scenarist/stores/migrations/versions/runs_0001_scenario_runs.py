"""scenario runs and step runs, with the run log

Revision ID: runs_0001
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "runs_0001"
down_revision = "0001"
branch_labels = ("runs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_scenario_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("scenario", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(200), nullable=True),
        sa.Column("parent_run_id", sa.String(64), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("log", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_scenarist_scenario_runs_scenario", "scenarist_scenario_runs", ["scenario", "started_at"]
    )
    op.create_table(
        "scenarist_step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "scenario_run_id",
            sa.String(64),
            sa.ForeignKey("scenarist_scenario_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_index("ix_scenarist_step_runs_run", "scenarist_step_runs", ["scenario_run_id"])


def downgrade() -> None:
    op.drop_table("scenarist_step_runs")
    op.drop_table("scenarist_scenario_runs")
