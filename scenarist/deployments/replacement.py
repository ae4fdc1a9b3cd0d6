"""Model replacement: validate a new model against the deployed one, replace it, keep history.

    status, message, checks = dep.validate_replacement_model(new_model)
    dep.replace_model(new_model, MODEL_REPLACEMENT_REASON.DATA_DRIFT)
    dep.get_model_history()                 # one row per model version, with start/end/reason

Checks (each passing, warning or failing; the status is the worst of them):
    target_name      the target column is the same                       else failing
    target_type      binary / multiclass / regression is the same        else failing
    features         every deployed feature is present                   missing → failing,
                                                                         extra → warning
    classes          a classifier predicts the same classes (order free) else failing
    positive_label   a binary model's positive label is the same         else failing
A failing model is refused by `replace_model`. Replacement keeps the drift tracking settings
(and every other setting) unchanged; later predictions carry the new model version, so any
statistic can be scoped to one model with `model_version=`.

Also here: the accuracy baseline measured on the reference at creation, and the health labels
derived from it for `Deployment.list` filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from scenarist.deployments.model_info import PREDICTION, PROBA, ModelInfo, reference_outputs
from scenarist.errors import ConfigError
from scenarist.metrics.performance import performance_metrics
from scenarist.stores.database import database_errors
from scenarist.stores.deployment_tables import deployment_models, deployments

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment
    from scenarist.deployments.queries import Accuracy


class MODEL_REPLACEMENT_REASON(StrEnum):  # noqa: N801 - DataRobot's name, kept for users
    ACCURACY = "ACCURACY"
    DATA_DRIFT = "DATA_DRIFT"
    ERRORS = "ERRORS"
    SCHEDULED_REFRESH = "SCHEDULED_REFRESH"
    SCORING_SPEED = "SCORING_SPEED"
    OTHER = "OTHER"


class ReplacementStatus(StrEnum):
    PASSING = "passing"
    WARNING = "warning"
    FAILING = "failing"


_RANK = {ReplacementStatus.PASSING: 0, ReplacementStatus.WARNING: 1, ReplacementStatus.FAILING: 2}


@dataclass(frozen=True)
class ReplacementCheck:
    name: str
    status: ReplacementStatus
    message: str


def validate_replacement_model(self: Deployment, new_model: Any
                               ) -> tuple[ReplacementStatus, str, list[ReplacementCheck]]:
    """(status, message, checks) of replacing the deployed model by `new_model`."""
    old = self.model
    new = ModelInfo.from_model(new_model, None)
    checks = [_same("target_name", old.target, new.target, "target"),
              _same("target_type", old.type, new.type, "prediction type")]
    missing = [f for f in old.features if f not in new.features]
    extra = [f for f in new.features if f not in old.features]
    if missing:
        checks.append(ReplacementCheck("features", ReplacementStatus.FAILING,
                                       f"the new model lacks feature(s) {missing}"))
    elif extra:
        checks.append(ReplacementCheck("features", ReplacementStatus.WARNING,
                                       f"the new model needs extra feature(s) {extra}, which "
                                       "logged data does not carry"))
    else:
        checks.append(ReplacementCheck("features", ReplacementStatus.PASSING,
                                       "same features"))
    if old.is_classifier and new.is_classifier:
        checks.append(_same("classes", sorted(map(str, old.classes or ())),
                            sorted(map(str, new.classes or ())), "classes"))
        if old.type == "binary" and new.type == "binary":
            checks.append(_same("positive_label", old.positive_label, new.positive_label,
                                "positive label"))
    status = max((c.status for c in checks), key=_RANK.__getitem__)
    problems = [c.message for c in checks if c.status != ReplacementStatus.PASSING]
    message = ("the new model can replace the deployed one" if not problems else
               f"{status.value}: " + "; ".join(problems))
    return status, message, checks


def _same(name: str, old: Any, new: Any, what: str) -> ReplacementCheck:
    if old == new:
        return ReplacementCheck(name, ReplacementStatus.PASSING, f"same {what} ({old!r})")
    return ReplacementCheck(name, ReplacementStatus.FAILING,
                            f"{what} differs: deployed {old!r}, new {new!r}")


def replace_model(self: Deployment, new_model: Any,
                  reason: MODEL_REPLACEMENT_REASON | str = MODEL_REPLACEMENT_REASON.OTHER, *,
                  reference: pd.DataFrame | None = None) -> int:
    """Deploy `new_model` as the next model version (returns it); a failing model is refused.

    The reference rows are kept (or replaced by `reference`) and the new model's outputs on
    them are recomputed, so drift and prediction warnings compare against the new model."""
    self._require_active()
    try:
        reason = MODEL_REPLACEMENT_REASON(str(reason).upper())
    except ValueError:
        raise ConfigError(f"unknown replacement reason {reason!r}; choose one of "
                          f"{', '.join(r.value for r in MODEL_REPLACEMENT_REASON)}") from None
    status, message, _checks = validate_replacement_model(self, new_model)
    if status == ReplacementStatus.FAILING:
        raise ConfigError(f"model {new_model.name!r} cannot replace the model of deployment "
                          f"{self.id}: {message}")
    if reference is None:
        stored = self.files.read_reference(self.model_version)
        keep = [c for c in (*new_model.features, new_model.target)
                if stored is not None and c in stored.columns]
        reference = stored[keep] if stored is not None and set(new_model.features) <= set(
            keep) else None
    info = ModelInfo.from_model(new_model, reference)
    version = self.model_version + 1
    facts: dict[str, Any] = {**self.reference_facts, "model": info.to_json(), "baseline": None}
    if reference is not None:
        frame = reference_outputs(new_model, reference)
        self.files.write_reference(version, frame)
        facts.update(rows=len(frame), baseline=baseline_metrics(info, frame))
    now = datetime.now(timezone.utc)
    with database_errors(self._engine, f"replace the model of deployment {self.id}"), \
            self._engine.begin() as conn:
        conn.execute(update(deployment_models).where(
            deployment_models.c.deployment_key == self.key,
            deployment_models.c.version == self.model_version,
        ).values(ended_at=now))
        conn.execute(insert(deployment_models).values(
            deployment_key=self.key, version=version, name=info.name,
            description=info.to_json(), started_at=now, reason=reason.value))
        conn.execute(update(deployments).where(deployments.c.key == self.key).values(
            model_version=version, reference=facts, updated_at=now))
    self.refresh()
    return version


def get_model_history(self: Deployment) -> pd.DataFrame:
    """One row per model version: name, type, target, started_at, ended_at, reason."""
    with self._engine.connect() as conn:
        rows = conn.execute(select(deployment_models).where(
            deployment_models.c.deployment_key == self.key
        ).order_by(deployment_models.c.version)).all()
    return pd.DataFrame(
        [{"version": r.version, "model": r.name, "type": r.description["type"],
          "target": r.description["target"], "started_at": _utc(r.started_at),
          "ended_at": _utc(r.ended_at), "reason": r.reason} for r in rows]
    ).set_index("version")


def baseline_metrics(info: ModelInfo, frame: pd.DataFrame) -> dict[str, float] | None:
    """Accuracy of the model on its reference rows (when they carry the target)."""
    if info.target not in frame.columns or frame[info.target].isna().all():
        return None
    proba = frame[PROBA].to_numpy() if PROBA in frame.columns else None
    values = performance_metrics(frame[info.target].to_numpy(), frame[PREDICTION].to_numpy(),
                                 proba, model_type=info.type,  # type: ignore[arg-type]
                                 classes=info.classes, positive_label=info.positive_label)
    return {v.metric: float(v.value) for v in values if np.isfinite(v.value)}


PRIMARY = {"binary": ("auc", "accuracy"), "multiclass": ("accuracy",), "regression": ("rmse",)}
AT_RISK, FAILING = 0.10, 0.20  # relative degradation of the primary metric vs the baseline


def accuracy_health(self: Deployment, accuracy: Accuracy) -> str:
    """passing / at_risk (>10% worse than the reference) / failing (>20%) / unknown."""
    baseline = self.reference_facts.get("baseline") or {}
    if not accuracy.readiness.ready:
        return "unknown"
    for metric in PRIMARY[self.model.type]:
        value, base = accuracy.metrics.get(metric), baseline.get(metric)
        if value is None or base is None or not np.isfinite(value) or base == 0:
            continue
        worse = (value - base) / abs(base) if metric == "rmse" else (base - value) / abs(base)
        return "failing" if worse > FAILING else "at_risk" if worse > AT_RISK else "passing"
    return "unknown"


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
