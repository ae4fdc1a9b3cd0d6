"""Deployments: the DataRobot-style monitoring API for models in production (DESIGN.md §8).

    dep = Deployment.create(model, "Fraud v1", reference=train_df)
    dep.log_batch(sample_ids, timestamps, data, predictions, prediction_probas)
    dep.log_labels(sample_ids, labels)
    dep.get_service_stats(); dep.get_accuracy_over_time("auc", bucket_size="PT6H")
"""

from scenarist.deployments.batches import MonitoringBatch
from scenarist.deployments.compaction import CompactionResult, compact_all
from scenarist.deployments.deployment import Deployment, DeploymentListFilters
from scenarist.deployments.drift import TargetDrift
from scenarist.deployments.durations import construct_duration_string, parse_duration
from scenarist.deployments.ingest import IngestResult
from scenarist.deployments.labels import LabelResult
from scenarist.deployments.queries import Accuracy, LabelReadiness, ServiceStats
from scenarist.deployments.replacement import (
    MODEL_REPLACEMENT_REASON,
    ReplacementCheck,
    ReplacementStatus,
)
from scenarist.deployments.settings import (
    AlertDelaySettings,
    AssociationIdSettings,
    BatchSettings,
    DeploymentSettings,
    DriftTrackingSettings,
    IngestSettings,
    PredictionsDataCollection,
    PredictionWarningSettings,
    ServiceSettings,
)

__all__ = [
    "MODEL_REPLACEMENT_REASON",
    "Accuracy",
    "AlertDelaySettings",
    "AssociationIdSettings",
    "BatchSettings",
    "CompactionResult",
    "Deployment",
    "DeploymentListFilters",
    "DeploymentSettings",
    "DriftTrackingSettings",
    "IngestResult",
    "IngestSettings",
    "LabelReadiness",
    "LabelResult",
    "MonitoringBatch",
    "PredictionWarningSettings",
    "PredictionsDataCollection",
    "ReplacementCheck",
    "ReplacementStatus",
    "ServiceSettings",
    "ServiceStats",
    "TargetDrift",
    "compact_all",
    "construct_duration_string",
    "parse_duration",
]
