"""deployments: deployments, model history, monitoring batches, predictions, hourly rollups

Revision ID: deployments_0001
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "deployments_0001"
down_revision = "0001"
branch_labels = ("deployments",)
depends_on = None

_KEY = ("deployment_key", "hour", "batch_key", "model_version")


def _key_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, primary_key=True) for name in _KEY]


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    f53 = sa.Float(precision=53)
    op.create_table(
        "scenarist_deployments",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("importance", sa.String(20), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("deleted_at", tz, nullable=True),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("data_dir", sa.String(2000), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("last_timestamp", f53, nullable=True),
        sa.Column("drift_health", sa.String(20), nullable=False),
        sa.Column("accuracy_health", sa.String(20), nullable=False),
    )
    op.create_table(
        "scenarist_deployment_models",
        sa.Column("deployment_key", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.JSON, nullable=False),
        sa.Column("started_at", tz, nullable=False),
        sa.Column("ended_at", tz, nullable=True),
        sa.Column("reason", sa.String(40), nullable=True),
    )
    op.create_table(
        "scenarist_monitoring_batches",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("deployment_key", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("deleted_at", tz, nullable=True),
        sa.Column("start_time", tz, nullable=True),
        sa.Column("end_time", tz, nullable=True),
    )
    op.create_index(
        "ix_scenarist_monitoring_batches_deployment",
        "scenarist_monitoring_batches",
        ["deployment_key", "created_at"],
    )
    op.create_table(
        "scenarist_predictions",
        sa.Column("deployment_key", sa.Integer, primary_key=True),
        sa.Column("sample_hash", sa.BigInteger, primary_key=True),
        sa.Column("ts", f53, nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("batch_key", sa.Integer, nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("prediction", f53, nullable=False),
        sa.Column("proba", f53, nullable=True),
        sa.Column("warning", sa.SmallInteger, nullable=False),
        sa.Column("association_hash", sa.BigInteger, nullable=False),
        sa.Column("actual", f53, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_scenarist_predictions_association",
        "scenarist_predictions",
        ["deployment_key", "association_hash"],
        sqlite_where=sa.text("association_hash != 0"),
        postgresql_where=sa.text("association_hash != 0"),
    )
    op.create_table(
        "scenarist_deployment_hourly",
        *_key_columns(),
        sa.Column("predictions", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("timed_requests", sa.BigInteger, nullable=False),
        sa.Column("request_ms_sum", f53, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("slow_requests", sa.BigInteger, nullable=False),
        sa.Column("warnings", sa.BigInteger, nullable=False),
        sa.Column("labelled", sa.BigInteger, nullable=False),
        sa.Column("max_ts", f53, nullable=True),
        sa.Column("abs_error_sum", f53, nullable=False),
        sa.Column("sq_error_sum", f53, nullable=False),
        sa.Column("ape_sum", f53, nullable=False),
        sa.Column("actual_sum", f53, nullable=False),
        sa.Column("actual_sq_sum", f53, nullable=False),
    )
    op.create_table(
        "scenarist_deployment_request_times",
        *_key_columns(),
        sa.Column("bin", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "scenarist_deployment_outcomes",
        *_key_columns(),
        sa.Column("predicted", sa.Integer, primary_key=True),
        sa.Column("actual", sa.Integer, primary_key=True),
        sa.Column("proba_bin", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("logloss_sum", f53, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "scenarist_deployment_outcomes",
        "scenarist_deployment_request_times",
        "scenarist_deployment_hourly",
        "scenarist_predictions",
        "scenarist_monitoring_batches",
        "scenarist_deployment_models",
        "scenarist_deployments",
    ):
        op.drop_table(table)
