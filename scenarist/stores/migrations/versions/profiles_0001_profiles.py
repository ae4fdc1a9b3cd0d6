"""profiles: mergeable per-column profiles of each evaluation and of each store's reference

Revision ID: profiles_0001
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "profiles_0001"
down_revision = "0001"
branch_labels = ("profiles",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarist_profiles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "store_id",
            sa.Integer,
            sa.ForeignKey("scenarist_stores.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "evaluation_id",
            sa.Integer,
            sa.ForeignKey("scenarist_evaluations.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("edges_digest", sa.String(32), nullable=False),
        sa.Column("summary", sa.LargeBinary, nullable=False),
        sa.Column("sketches", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_scenarist_profiles_store", "scenarist_profiles", ["store_id", "evaluation_id"]
    )


def downgrade() -> None:
    op.drop_table("scenarist_profiles")
