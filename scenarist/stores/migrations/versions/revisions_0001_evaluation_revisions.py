"""revisions: superseded versions of evaluations revised by late labels

Revision ID: revisions_0001
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "revisions_0001"
down_revision = "0001"
branch_labels = ("revisions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_evaluation_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.Integer,
                  sa.ForeignKey("scenarist_stores.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("superseded_evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("verdicts", sa.JSON, nullable=False),
        sa.UniqueConstraint("store_id", "label", "revision",
                            name="uq_scenarist_evaluation_revisions"),
    )


def downgrade() -> None:
    op.drop_table("scenarist_evaluation_revisions")
