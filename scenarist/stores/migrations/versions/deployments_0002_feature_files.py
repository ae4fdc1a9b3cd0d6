"""deployments: the list of committed feature files (compaction switches it in one transaction)

Revision ID: deployments_0002
Revises: deployments_0001
Create Date: 2026-11-29

Files written before this revision are registered from the data folders of the deployments
(committed `part-*.parquet` partitions only; staged `.tmp` files stay unread, as before).
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "deployments_0002"
down_revision = "deployments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    files = op.create_table(
        "scenarist_deployment_files",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("deployment_key", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(40), nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("hours", sa.Integer, nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.Column("retired_at", sa.Float(precision=53), nullable=True),
    )
    op.create_index("ix_scenarist_deployment_files_hour", "scenarist_deployment_files",
                    ["deployment_key", "hour"])
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT key, id, data_dir FROM scenarist_deployments")).all()
    records = []
    for key, deployment_id, data_dir in found:
        folder = Path(data_dir) / deployment_id
        if "://" in str(data_dir) or not folder.is_dir():
            continue
        for path in sorted(folder.glob("batch=*/hour=*/part-*.parquet")):
            records.append({"deployment_key": key, "batch": path.parent.parent.name[6:],
                            "hour": int(path.parent.name[5:]), "hours": 1,
                            "path": path.relative_to(folder).as_posix(), "rows": 0,
                            "created_at": path.stat().st_mtime, "retired_at": None})
    if records:
        op.bulk_insert(files, records)


def downgrade() -> None:
    op.drop_table("scenarist_deployment_files")
