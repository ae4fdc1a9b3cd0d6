"""A deployment's settings: frozen pydantic sections, validated when set, stored as JSON.

    DriftTrackingSettings          target_drift, feature_drift (both on by default)
    AssociationIdSettings          column_names, required_in_prediction_requests
    PredictionsDataCollection      enabled: keep feature data (Parquet) for drift
    PredictionWarningSettings      enabled; custom lower/upper, or bounds from the reference's
                                   [lower_quantile, upper_quantile] of predictions (0.5%, 99.5%)
    AlertDelaySettings             label-dependent checks wait delay_seconds (3 days) after the
                                   samples' time, or until labels_ratio (1.0) of them are labelled
    ServiceSettings                slow_request_ms: a request slower than this is "slow"
    BatchSettings                  daily_limit: monitoring batches created per UTC day
    IngestSettings                 allowed_lateness: seconds a row may be earlier than the
                                   latest logged one (1 hour); compact_daily_after: days after
                                   which hourly feature files are compacted into daily ones

Unknown keys and wrong types are a ConfigError naming the section and key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarist.errors import ConfigError, ConfigProblem


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftTrackingSettings(_Section):
    target_drift: bool = Field(True, description="Track drift of the predictions (target).")
    feature_drift: bool = Field(True, description="Track drift of each feature.")


class AssociationIdSettings(_Section):
    column_names: tuple[str, ...] = Field(
        (), description="Data columns whose values, joined by '|', form the association id."
    )
    required_in_prediction_requests: bool = Field(
        False, description="Reject rows whose association id columns are missing."
    )

    @model_validator(mode="after")
    def _columns_when_required(self) -> AssociationIdSettings:
        if self.required_in_prediction_requests and not self.column_names:
            raise ValueError("required_in_prediction_requests needs at least one column name")
        return self


class PredictionsDataCollection(_Section):
    enabled: bool = Field(True, description="Store feature data of predictions (Parquet).")


class PredictionWarningSettings(_Section):
    enabled: bool = Field(False, description="Flag predictions outside the boundaries.")
    lower: float | None = Field(None, description="Custom lower boundary (inclusive-OK).")
    upper: float | None = Field(None, description="Custom upper boundary (inclusive-OK).")
    lower_quantile: float = Field(0.005, ge=0, le=1, description="Reference quantile (lower).")
    upper_quantile: float = Field(0.995, ge=0, le=1, description="Reference quantile (upper).")

    @model_validator(mode="after")
    def _ordered(self) -> PredictionWarningSettings:
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"lower {self.lower} is above upper {self.upper}")
        if self.lower_quantile >= self.upper_quantile:
            raise ValueError("lower_quantile must be below upper_quantile")
        return self


class AlertDelaySettings(_Section):
    delay_seconds: int = Field(3 * 24 * 3600, ge=0, description="Wait after the samples' time.")
    labels_ratio: float = Field(1.0, gt=0, le=1, description="Or until this share is labelled.")


class ServiceSettings(_Section):
    slow_request_ms: float = Field(1000.0, gt=0, description="Slow request threshold (ms).")


class BatchSettings(_Section):
    daily_limit: int = Field(100, ge=1, description="Monitoring batches created per UTC day.")


class IngestSettings(_Section):
    allowed_lateness: float = Field(3600.0, ge=0, description=(
        "Seconds a row's timestamp may be earlier than the latest one logged (late arrivals)."))
    compact_daily_after: int = Field(7, ge=1, description=(
        "Days after which compaction merges a day's hourly feature files into one."))


SECTIONS: dict[str, type[_Section]] = {
    "drift_tracking": DriftTrackingSettings,
    "association_id": AssociationIdSettings,
    "predictions_data_collection": PredictionsDataCollection,
    "prediction_warnings": PredictionWarningSettings,
    "alert_delay": AlertDelaySettings,
    "service": ServiceSettings,
    "batches": BatchSettings,
    "ingest": IngestSettings,
}


class DeploymentSettings(_Section):
    """Every section; stored as one JSON document on the deployment."""

    drift_tracking: DriftTrackingSettings = DriftTrackingSettings()
    association_id: AssociationIdSettings = AssociationIdSettings()
    predictions_data_collection: PredictionsDataCollection = PredictionsDataCollection()
    prediction_warnings: PredictionWarningSettings = PredictionWarningSettings()
    alert_delay: AlertDelaySettings = AlertDelaySettings()
    service: ServiceSettings = ServiceSettings()
    batches: BatchSettings = BatchSettings()
    ingest: IngestSettings = IngestSettings()

    @classmethod
    def from_json(cls, document: dict[str, Any] | None) -> DeploymentSettings:
        return cls.model_validate(document or {})

    def updated(self, section: str, changes: dict[str, Any]) -> DeploymentSettings:
        """A copy with `changes` applied to `section` (None values are left unchanged)."""
        if section not in SECTIONS:
            raise ConfigError(f"unknown settings section {section!r}; choose one of "
                              f"{', '.join(SECTIONS)}")
        current = getattr(self, section).model_dump()
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = sorted(set(changes) - set(current))
        if unknown:
            raise ConfigError([ConfigProblem("", f"{section}.{k}", "unknown setting; known: "
                                             f"{', '.join(current)}") for k in unknown])
        try:
            value = SECTIONS[section].model_validate({**current, **changes})
        except ValidationError as exc:
            raise ConfigError([
                ConfigProblem("", ".".join([section, *map(str, e["loc"])]).rstrip("."),
                              e["msg"]) for e in exc.errors()
            ]) from None
        return self.model_copy(update={section: value})
