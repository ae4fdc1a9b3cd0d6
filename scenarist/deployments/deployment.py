"""`Deployment`: a model serving in production, monitored through its logged predictions.

    dep = Deployment.create(model, "Fraud v1", description="...", reference=train_df)
    dep.log_batch(sample_ids, timestamps, data, predictions, prediction_probas)
    dep.log_labels(sample_ids, labels)                       # days later
    dep.get_service_stats(); dep.get_accuracy_over_time("auc", bucket_size="PT1H")
    Deployment.list(DeploymentListFilters(label="fraud")); Deployment.get(dep.id)

A deployment lives in a store database (default SQLite `.scenarist/store.db`, or a PostgreSQL
URL) plus a data folder for feature Parquet partitions (derived from a SQLite URL, given as
`data_dir` for PostgreSQL; remembered by the deployment). `delete()` marks it deleted: its data
is kept and `get` still finds it, but `list` hides it. The methods of each concern live in their
own module (ingest, labels, queries, drift, batches, replacement, evaluate) and are bound here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine, insert, select, update

from scenarist.deployments import (
    batches,
    compaction,
    drift,
    evaluation,
    export,
    ingest,
    labels,
    queries,
    replacement,
    secondary,
)
from scenarist.deployments.aliases import drift_tracking_aliases, time_aliases
from scenarist.deployments.model_info import ModelInfo, reference_outputs
from scenarist.deployments.settings import (
    AlertDelaySettings,
    AssociationIdSettings,
    DeploymentSettings,
    DriftTrackingSettings,
    PredictionsDataCollection,
    PredictionWarningSettings,
)
from scenarist.errors import ConfigError, NotFoundError
from scenarist.stores.database import connect, database_errors, display_url
from scenarist.stores.deployment_files import FeatureFiles, default_data_dir, is_url
from scenarist.stores.deployment_tables import deployment_models, deployments

IMPORTANCE = ("LOW", "MODERATE", "HIGH", "CRITICAL")
Health = Literal["unknown", "passing", "at_risk", "failing"]
HEALTH = ("unknown", "passing", "at_risk", "failing")


@dataclass(frozen=True)
class DeploymentListFilters:
    """Filters of `Deployment.list`: all given ones must hold."""

    label: str | None = None  # case-insensitive substring of the label
    status: Literal["active", "deleted"] | None = "active"
    drift_health: Health | None = None
    accuracy_health: Health | None = None
    importance: str | None = None


class Deployment:
    """One deployment (see the module docstring). Build with create/get/list, not directly."""

    def __init__(self, engine: Engine, row: Any):
        self._engine = engine
        self._load(row)

    def _load(self, row: Any) -> None:
        self.key: int = row.key
        self.id: str = row.id
        self.label: str = row.label
        self.description: str | None = row.description
        self.importance: str | None = row.importance
        self.status: str = row.status
        self.created_at: datetime = _utc(row.created_at)
        self.model_version: int = row.model_version
        self.data_dir = row.data_dir if is_url(row.data_dir) else Path(row.data_dir)
        self.settings = DeploymentSettings.from_json(row.settings)
        self.reference_facts: dict[str, Any] = dict(row.reference or {})
        self.drift_health: str = row.drift_health
        self.accuracy_health: str = row.accuracy_health
        self.last_timestamp: float | None = row.last_timestamp
        self.model: ModelInfo = ModelInfo.from_json(self.reference_facts["model"])
        self._row_facts = row_facts(row)  # what log_batch compares with the locked row

    def __repr__(self) -> str:
        return (f"Deployment(id={self.id!r}, label={self.label!r}, model={self.model.name!r} "
                f"v{self.model_version}, url={display_url(self._engine.url)!r})")

    @property
    def files(self) -> FeatureFiles:
        cached = self.__dict__.get("_files")  # (location, files): built once per location
        if cached is None or cached[0] != str(self.data_dir):
            cached = self.__dict__["_files"] = (
                str(self.data_dir), FeatureFiles(self.data_dir, self.id, self._engine, self.key))
        return cached[1]

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        model: Any,
        label: str,
        description: str | None = None,
        importance: str | None = None,
        *,
        reference: pd.DataFrame | None = None,
        url: str | None = None,
        data_dir: Path | str | None = None,
        data_url: str | None = None,
    ) -> Deployment:
        """Register `model` (a LoadedModel); `reference` (training-like rows) enables drift.
        Feature data goes to `data_dir` (a folder) or `data_url` (any fsspec URL: s3://…)."""
        if not label or not str(label).strip():
            raise ConfigError("a deployment needs a non-empty label, e.g. 'Fraud model v1'")
        _check_importance(importance)
        location = data_url if data_url is not None else data_dir
        folder = (location if is_url(location or "") else Path(location) if location is not None
                  else default_data_dir(url))
        if folder is None:
            raise ConfigError("a deployment on this store needs data_dir=<folder> for its "
                              "feature data (Parquet); only a SQLite file store has a default")
        info = ModelInfo.from_model(model, reference)
        engine = connect(url)
        deployment_id = secrets.token_hex(12)
        folder = folder if is_url(folder) else folder.resolve()
        files = FeatureFiles(folder, deployment_id)
        facts: dict[str, Any] = {"model": info.to_json(), "rows": 0}
        if reference is not None:
            frame = reference_outputs(model, reference)
            files.write_reference(1, frame)
            facts.update(rows=len(frame), baseline=replacement.baseline_metrics(info, frame))
        now = datetime.now(timezone.utc)
        with database_errors(engine, f"create deployment {label!r}"), engine.begin() as conn:
            key = conn.execute(insert(deployments).values(
                id=deployment_id, label=label, description=description, importance=importance,
                status="active", created_at=now, updated_at=now, model_version=1,
                data_dir=str(folder), settings=DeploymentSettings().model_dump(
                    mode="json"), reference=facts, drift_health="unknown",
                accuracy_health="unknown",
            ).returning(deployments.c.key)).scalar_one()
            conn.execute(insert(deployment_models).values(
                deployment_key=key, version=1, name=info.name, description=info.to_json(),
                started_at=now))
        return cls.get(deployment_id, url=url)

    @classmethod
    def get(cls, deployment_id: str, *, url: str | None = None) -> Deployment:
        """The deployment `deployment_id` (deleted ones too); NotFoundError lists known ids."""
        engine = connect(url)
        with engine.connect() as conn:
            row = conn.execute(select(deployments).where(deployments.c.id == deployment_id)
                               ).first()
            if row is None:
                known = conn.execute(select(deployments.c.id, deployments.c.label)
                                     .where(deployments.c.status == "active")).all()
                listing = ", ".join(f"{r.id} ({r.label})" for r in known[:20]) or "none"
                raise NotFoundError(f"no deployment with id {deployment_id!r} at "
                                    f"{display_url(engine.url)}; deployments: {listing}")
        return cls(engine, row)

    @classmethod
    def list(cls, filters: DeploymentListFilters | None = None, *, url: str | None = None
             ) -> list[Deployment]:
        """Deployments matching `filters` (default: every active one), oldest first."""
        filters = filters or DeploymentListFilters()
        engine = connect(url)
        query = select(deployments).order_by(deployments.c.created_at, deployments.c.key)
        for column in ("status", "drift_health", "accuracy_health", "importance"):
            value = getattr(filters, column)
            if value is not None:
                query = query.where(deployments.c[column] == value)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        needle = (filters.label or "").lower()
        return [cls(engine, r) for r in rows if needle in r.label.lower()]

    def update(self, label: str | None = None, description: str | None = None,
               importance: str | None = None) -> Deployment:
        """Change the label, description or importance (None leaves a value as it is)."""
        changes: dict[str, Any] = {}
        if label is not None:
            if not label.strip():
                raise ConfigError("a deployment label cannot be empty")
            changes["label"] = label
        if description is not None:
            changes["description"] = description
        if importance is not None:
            _check_importance(importance)
            changes["importance"] = importance
        if changes:
            self._write(**changes)
        return self

    def delete(self) -> None:
        """Mark the deployment deleted: data kept, hidden from `list`, no more logging."""
        now = datetime.now(timezone.utc)
        self._write(status="deleted", deleted_at=now)

    def refresh(self) -> Deployment:
        self._load(self._row())
        return self

    def _row(self) -> Any:
        """The deployment's row as stored now."""
        with self._engine.connect() as conn:
            return conn.execute(select(deployments).where(deployments.c.key == self.key)).one()

    def _write(self, **values: Any) -> None:
        values.setdefault("updated_at", datetime.now(timezone.utc))
        with database_errors(self._engine, f"update deployment {self.id}"), \
                self._engine.begin() as c:
            c.execute(update(deployments).where(deployments.c.key == self.key).values(**values))
        self.refresh()

    def _require_active(self) -> None:
        if self.status != "active":
            raise ConfigError(f"deployment {self.id} ({self.label!r}) is deleted; it can be "
                              "read but not written to. Create a new deployment.")

    # -- settings ---------------------------------------------------------------------------

    def _update_settings(self, section: str, **changes: Any):
        settings = self.settings.updated(section, changes)
        if (section == "prediction_warnings" and settings.prediction_warnings.enabled
                and self.model.type == "multiclass"):
            raise ConfigError("prediction warnings apply to regression values and binary "
                              "probabilities; this deployment's model is multiclass")
        self._write(settings=settings.model_dump(mode="json"))
        return getattr(self.settings, section)

    def get_drift_tracking_settings(self) -> DriftTrackingSettings:
        return self.settings.drift_tracking

    @drift_tracking_aliases  # also target_drift_enabled=, feature_drift_enabled= (DataRobot)
    def update_drift_tracking_settings(self, target_drift: bool | None = None,
                                       feature_drift: bool | None = None
                                       ) -> DriftTrackingSettings:
        return self._update_settings("drift_tracking", target_drift=target_drift,
                                     feature_drift=feature_drift)

    def get_association_id_settings(self) -> AssociationIdSettings:
        return self.settings.association_id

    def update_association_id_settings(
        self, column_names: list[str] | None = None,
        required_in_prediction_requests: bool | None = None,
    ) -> AssociationIdSettings:
        return self._update_settings("association_id", column_names=column_names,
                                     required_in_prediction_requests=required_in_prediction_requests)

    def get_predictions_data_collection_settings(self) -> PredictionsDataCollection:
        return self.settings.predictions_data_collection

    def update_predictions_data_collection_settings(self, enabled: bool
                                                    ) -> PredictionsDataCollection:
        return self._update_settings("predictions_data_collection", enabled=enabled)

    def get_prediction_warning_settings(self) -> PredictionWarningSettings:
        return self.settings.prediction_warnings

    def update_prediction_warning_settings(self, **changes: Any) -> PredictionWarningSettings:
        """enabled, lower, upper (custom bounds), lower_quantile, upper_quantile (reference)."""
        return self._update_settings("prediction_warnings", **changes)

    def get_alert_delay_settings(self) -> AlertDelaySettings:
        return self.settings.alert_delay

    def update_alert_delay_settings(self, delay_seconds: int | None = None,
                                    labels_ratio: float | None = None) -> AlertDelaySettings:
        return self._update_settings("alert_delay", delay_seconds=delay_seconds,
                                     labels_ratio=labels_ratio)

    def update_settings(self, section: str, **changes: Any):
        """Any section by name: service (slow_request_ms), batches (daily_limit), …"""
        return self._update_settings(section, **changes)

    # -- the concerns, each in its own module -----------------------------------------------

    log_batch = ingest.log_batch
    log_sample = ingest.log_sample
    log_errors = ingest.log_errors
    log_labels = labels.log_labels
    # every query over a window also takes DataRobot's start_time=/end_time= (aliases.py)
    get_service_stats = time_aliases(queries.get_service_stats)
    get_service_stats_over_time = time_aliases(queries.get_service_stats_over_time)
    get_accuracy = time_aliases(queries.get_accuracy)
    get_accuracy_over_time = time_aliases(queries.get_accuracy_over_time)
    get_accuracy_over_time_frame = time_aliases(queries.get_accuracy_over_time_frame)
    get_prediction_warnings = time_aliases(queries.get_prediction_warnings)
    get_label_readiness = time_aliases(queries.get_label_readiness)
    get_feature_drift = time_aliases(drift.get_feature_drift)
    get_target_drift = time_aliases(drift.get_target_drift)
    create_batch = batches.create_batch
    list_batches = batches.list_batches
    get_batch = batches.get_batch
    validate_replacement_model = replacement.validate_replacement_model
    replace_model = replacement.replace_model
    get_model_history = replacement.get_model_history
    evaluate = time_aliases(evaluation.evaluate)
    export = time_aliases(export.export)
    update_secondary_dataset_config = secondary.update_secondary_dataset_config
    compact = compaction.compact
    get_secondary_dataset_config = secondary.get_secondary_dataset_config
    get_secondary_dataset_config_history = secondary.get_secondary_dataset_config_history


def row_facts(row: Any) -> tuple[Any, ...]:
    """The facts of a deployment row a logging call is validated against (`updated_at`
    changes with every other change, e.g. a new secondary dataset config)."""
    types = (row.reference or {}).get("model", {}).get("feature_types")
    return (row.status, row.model_version, row.settings, bool(types), row.updated_at)


def _check_importance(importance: str | None) -> None:
    if importance is not None and importance not in IMPORTANCE:
        raise ConfigError(f"importance {importance!r} is not one of {', '.join(IMPORTANCE)}")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
