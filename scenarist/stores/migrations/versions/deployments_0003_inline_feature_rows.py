"""deployments: small calls' feature rows kept inline in their file record (Arrow IPC bytes)

Revision ID: deployments_0003
Revises: deployments_0002
Create Date: 2026-11-30

A `log_batch` call of at most `deployments.staging.INLINE_ROWS` rows stores its feature rows
in the `data` column of its `scenarist_deployment_files` record (path ''), in the call's
transaction, instead of writing a small Parquet file: durable with the commit, read in the same
query that lists the files, merged into a Parquet file by compaction once the hour is closed.
"""

import sqlalchemy as sa
from alembic import op

revision = "deployments_0003"
down_revision = "deployments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scenarist_deployment_files", sa.Column("data", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("scenarist_deployment_files", "data")
