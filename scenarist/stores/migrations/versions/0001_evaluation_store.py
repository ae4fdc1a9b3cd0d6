"""evaluation store: stores, evaluations, long-form metric values

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_stores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scenarist_evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "store_id",
            sa.Integer,
            sa.ForeignKey("scenarist_stores.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("reference_row_count", sa.Integer, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.UniqueConstraint("store_id", "label", name="uq_scenarist_evaluations_store_label"),
    )
    op.create_table(
        "scenarist_metric_values",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "evaluation_id",
            sa.Integer,
            sa.ForeignKey("scenarist_evaluations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("feature", sa.String(500), nullable=True),
        sa.Column("value", sa.Float(precision=53), nullable=True),
    )
    op.create_index(
        "ix_scenarist_metric_values_metric",
        "scenarist_metric_values",
        ["metric", "feature", "evaluation_id"],
    )
    op.create_index(
        "ix_scenarist_metric_values_evaluation", "scenarist_metric_values", ["evaluation_id"]
    )


def downgrade() -> None:
    op.drop_table("scenarist_metric_values")
    op.drop_table("scenarist_evaluations")
    op.drop_table("scenarist_stores")
