"""The tables of the evaluation store.

One database holds any number of evaluation stores. An evaluation is one batch evaluated against
the store's reference; its metrics are stored long-form, one row per (metric, feature), so
"metric over time" is one indexed query (DESIGN.md §7). Dataset-level metrics have feature NULL.
NaN values are stored as NULL (SQLite cannot keep NaN) and read back as NaN.

The schema is owned by the Alembic migrations in `stores/migrations/`; these table objects are
what the code queries with, and a test checks the migrations produce exactly them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

stores = Table(
    "scenarist_stores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

evaluations = Table(
    "scenarist_evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "store_id",
        Integer,
        ForeignKey("scenarist_stores.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("label", String(200), nullable=False),
    # created_at: when this label was first evaluated (kept when it is re-evaluated), so a
    # replaced evaluation keeps its place in the history; evaluated_at: the latest evaluation.
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("time_start", DateTime(timezone=True), nullable=True),
    Column("time_end", DateTime(timezone=True), nullable=True),
    Column("model", String(200), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("reference_row_count", Integer, nullable=False),
    Column("details", JSON, nullable=False),
    UniqueConstraint("store_id", "label", name="uq_scenarist_evaluations_store_label"),
)

metric_values = Table(
    "scenarist_metric_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "evaluation_id",
        Integer,
        ForeignKey("scenarist_evaluations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("metric", String(200), nullable=False),
    Column("feature", String(500), nullable=True),
    Column("value", Float(precision=53), nullable=True),
    # segment: NULL for the metrics of all rows, "device=mobile" for one segment's (issue 10)
    Column("segment", String(300), nullable=True),
    Index("ix_scenarist_metric_values_metric", "metric", "feature", "evaluation_id"),
    Index("ix_scenarist_metric_values_evaluation", "evaluation_id"),
)
