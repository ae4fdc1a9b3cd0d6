"""The history of each deployment's secondary dataset configurations (DataRobot's secondary
dataset config): one row per `update_secondary_dataset_config`, the latest one active.

The joins (`SecondaryDatasetSpec`s as JSON) and each dataset's row count live here; the
datasets themselves are Parquet files under the deployment's data folder,
`secondary/<config id>/<dataset>.parquet`. Owned by the Alembic branch "segments".
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table

from scenarist.stores.schema import metadata

secondary_configs = Table(
    "scenarist_secondary_configs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("deployment_key", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("joins", JSON, nullable=False),
    Column("datasets", JSON, nullable=False),  # {name: {"rows": n, "columns": [...]}}
    Index("ix_scenarist_secondary_configs_deployment", "deployment_key", "created_at"),
)
