"""The tables of deployments (Alembic branch "deployments"), on the shared `metadata`.

    scenarist_deployments             one row per deployment: label, settings, current model
    scenarist_deployment_models       model history: version, description, start/end, reason
    scenarist_monitoring_batches      named groups of predictions: lock, delete, edited times
    scenarist_predictions             one row per prediction: ids, time, output, label, warning
    scenarist_deployment_hourly       rollups maintained at ingest, per (deployment, hour, batch,
                                      model version): counts, request-time sums, errors, label
                                      counts, regression error sums
    scenarist_deployment_request_times
                                      per-hour histogram of request times (log-spaced bins)
                                      for median and p90 without reading rows
    scenarist_deployment_outcomes     labelled classification outcomes per hour: (predicted,
                                      actual, probability bin) counts and log-loss sums

Prediction rows are narrow and fixed-width so they load with one bulk statement (PostgreSQL
binary COPY): a sample id is kept as a 64-bit hash (`sample_hash`, see prediction_log) and
its text lives in the Parquet partitions; an association id likewise (0 = none); a class is
kept as its index in the model's classes; times are epoch seconds (UTC) and `hour` is
floor(seconds / 3600). `batch_key` 0 means "no monitoring batch". Feature data is not here:
it is Parquet beside the database (deployment_files).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from scenarist.stores.schema import metadata

deployments = Table(
    "scenarist_deployments",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("label", String(500), nullable=False),
    Column("description", Text, nullable=True),
    Column("importance", String(20), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Column("model_version", Integer, nullable=False),
    Column("data_dir", String(2000), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("reference", JSON, nullable=False),
    Column("last_timestamp", Float(precision=53), nullable=True),
    Column("drift_health", String(20), nullable=False),
    Column("accuracy_health", String(20), nullable=False),
)

deployment_models = Table(
    "scenarist_deployment_models",
    metadata,
    Column("deployment_key", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("reason", String(40), nullable=True),
)

monitoring_batches = Table(
    "scenarist_monitoring_batches",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("deployment_key", Integer, nullable=False),
    Column("name", String(500), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Column("start_time", DateTime(timezone=True), nullable=True),
    Column("end_time", DateTime(timezone=True), nullable=True),
    Index("ix_scenarist_monitoring_batches_deployment", "deployment_key", "created_at"),
)

predictions = Table(
    "scenarist_predictions",
    metadata,
    Column("deployment_key", Integer, primary_key=True),
    Column("sample_hash", BigInteger, primary_key=True),
    Column("ts", Float(precision=53), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("batch_key", Integer, nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("prediction", Float(precision=53), nullable=False),
    Column("proba", Float(precision=53), nullable=True),
    Column("warning", SmallInteger, nullable=False),
    Column("association_hash", BigInteger, nullable=False),
    Column("actual", Float(precision=53), nullable=True),
    Index(
        "ix_scenarist_predictions_association",
        "deployment_key",
        "association_hash",
        sqlite_where=text("association_hash != 0"),
        postgresql_where=text("association_hash != 0"),
    ),
    sqlite_with_rowid=False,  # clustered on the primary key: one b-tree to grow, not two
)

_ROLLUP_KEY = ("deployment_key", "hour", "batch_key", "model_version")

hourly = Table(
    "scenarist_deployment_hourly",
    metadata,
    *(Column(name, Integer, primary_key=True) for name in _ROLLUP_KEY),
    Column("predictions", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("timed_requests", BigInteger, nullable=False),
    Column("request_ms_sum", Float(precision=53), nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("slow_requests", BigInteger, nullable=False),
    Column("warnings", BigInteger, nullable=False),
    Column("labelled", BigInteger, nullable=False),
    Column("max_ts", Float(precision=53), nullable=True),
    Column("abs_error_sum", Float(precision=53), nullable=False),
    Column("sq_error_sum", Float(precision=53), nullable=False),
    Column("ape_sum", Float(precision=53), nullable=False),
    Column("actual_sum", Float(precision=53), nullable=False),
    Column("actual_sq_sum", Float(precision=53), nullable=False),
)

request_times = Table(
    "scenarist_deployment_request_times",
    metadata,
    *(Column(name, Integer, primary_key=True) for name in _ROLLUP_KEY),
    Column("bin", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

outcomes = Table(
    "scenarist_deployment_outcomes",
    metadata,
    *(Column(name, Integer, primary_key=True) for name in _ROLLUP_KEY),
    Column("predicted", Integer, primary_key=True),
    Column("actual", Integer, primary_key=True),
    Column("proba_bin", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("logloss_sum", Float(precision=53), nullable=False),
)

ROLLUP_KEY = _ROLLUP_KEY

# The committed feature files (deployment_files): readers list them here, in one query, so a
# compaction that retires small files and registers their merged file in one transaction is
# seen whole or not at all. `hours` is 1 for an hourly file, 24 for a daily one; `retired_at`
# (epoch seconds) marks a file replaced by a compacted one, deleted after a grace period.
feature_files = Table(
    "scenarist_deployment_files",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("deployment_key", Integer, nullable=False),
    Column("batch", String(40), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("hours", Integer, nullable=False),
    Column("path", String(500), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("retired_at", Float(precision=53), nullable=True),
    Column("data", LargeBinary, nullable=True),  # a small call's rows (Arrow IPC), path ''
    Index("ix_scenarist_deployment_files_hour", "deployment_key", "hour"),
)
