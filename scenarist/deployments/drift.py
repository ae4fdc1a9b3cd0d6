"""Feature drift and target (prediction) drift of a deployment's window against its reference.

Both reuse `scenarist.metrics.drift.feature_drift` (same tests, thresholds and "auto" choice as
evaluation stores). Feature drift reads the window's feature data from the Parquet partitions;
target drift, as in DataRobot, is the drift of the model's output (the positive-class
probability of a binary model, the value of a regression, the class of a multiclass model)
read from the prediction rows, against the model's outputs on the reference rows. Drift needs
raw values, so it reads rows, not rollups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import select

from scenarist.deployments.batches import batch_ids, list_batches, scope_conditions
from scenarist.deployments.durations import HOUR, TimeLike, epoch_hour, resolve_window
from scenarist.deployments.model_info import OUTPUT, PREDICTION
from scenarist.errors import ConfigError, InputDataError, NotFoundError
from scenarist.metrics.drift import column_kinds, feature_drift
from scenarist.stores.deployment_files import NO_BATCH
from scenarist.stores.deployment_tables import predictions

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment
    from scenarist.deployments.queries import Batches

DRIFT_COLUMNS = ["kind", "method", "score", "threshold", "drifted", "psi", "importance"]


@dataclass(frozen=True)
class TargetDrift:
    start: datetime
    end: datetime
    method: str
    score: float
    threshold: float
    drifted: bool
    psi: float
    rows: int
    stats: dict[str, float] = field(default_factory=dict)


def get_feature_drift(self: Deployment, start: TimeLike | None = None,
                      end: TimeLike | None = None, *, batches: Batches = None,
                      model_version: int | None = None, method: str = "auto",
                      threshold: float | None = None) -> pd.DataFrame:
    """One row per feature: kind, method (the chosen test), score, threshold, drifted, psi and
    importance (the model's feature importance, NaN when it has none)."""
    if not self.settings.drift_tracking.feature_drift:
        raise ConfigError(f"feature drift tracking is off for deployment {self.id}; turn it on "
                          "with update_drift_tracking_settings(feature_drift=True)")
    first, last = resolve_window(start, end)
    reference = _reference(self, model_version)
    features = [f for f in self.model.features if f in column_kinds(reference)]
    current = current_rows(self, first, last, batches, model_version, columns=features)
    if current.empty:
        raise NotFoundError(f"deployment {self.id} has no feature data between "
                            f"{first.isoformat()} and {last.isoformat()} (is predictions data "
                            "collection enabled?)")
    results = feature_drift(reference, current, columns=features,
                            kinds=column_kinds(reference, features), method=method,
                            threshold=threshold)
    importance = self.model.feature_importance or {}
    table = pd.DataFrame(
        [{"feature": r.feature, "kind": r.kind, "method": r.method, "score": r.score,
          "threshold": r.threshold, "drifted": r.drifted, "psi": r.stats.get("psi", np.nan),
          "importance": importance.get(r.feature, np.nan)} for r in results]
    ).set_index("feature")
    share = table["drifted"].mean()
    health = "passing" if share == 0 else "failing" if share >= 0.5 else "at_risk"
    if health != self.drift_health:
        self._write(drift_health=health)
    return table


def get_target_drift(self: Deployment, start: TimeLike | None = None,
                     end: TimeLike | None = None, *, batches: Batches = None,
                     model_version: int | None = None, method: str = "auto",
                     threshold: float | None = None) -> TargetDrift:
    """Drift of the model's output in the window against its output on the reference."""
    if not self.settings.drift_tracking.target_drift:
        raise ConfigError(f"target drift tracking is off for deployment {self.id}; turn it on "
                          "with update_drift_tracking_settings(target_drift=True)")
    first, last = resolve_window(start, end)
    reference = _reference(self, model_version)
    logged = _logged_outputs(self, first, last, batches, model_version)
    if logged.empty:
        raise NotFoundError(f"deployment {self.id} has no predictions between "
                            f"{first.isoformat()} and {last.isoformat()}")
    numeric = OUTPUT in reference.columns and (self.model.type == "regression"
                                               or logged["proba"].notna().all())
    if numeric:
        ref = reference[OUTPUT].astype(float)
        cur = logged["prediction"] if self.model.type == "regression" else logged["proba"]
    else:
        classes = np.array(self.model.classes or (), dtype=object)
        ref = reference[PREDICTION].astype(str)
        cur = pd.Series(classes[logged["prediction"].to_numpy(dtype=np.int64)]).astype(str)
    kind = "numeric" if numeric else "categorical"
    (result,) = feature_drift(pd.DataFrame({"output": ref.to_numpy()}),
                              pd.DataFrame({"output": cur.to_numpy()}), columns=["output"],
                              kinds={"output": kind}, method=method, threshold=threshold,
                              n_jobs=1)
    return TargetDrift(first, last, result.method, result.score, result.threshold,
                       result.drifted, float(result.stats.get("psi", np.nan)), len(cur),
                       dict(result.stats))


def current_rows(self: Deployment, first: datetime, last: datetime, batches: Batches,
                 model_version: int | None, columns: list[str] | None = None) -> pd.DataFrame:
    """Logged rows of the window from the feature files (all columns when None). The window
    and the model version are filters pushed down to the files: only the rows and columns
    asked for are read, and not copied after."""
    ids = batch_ids(self, batches if batches is None or isinstance(batches, str)
                    else list(batches))
    if ids is None:  # every live batch and the rows without one: never a deleted batch's files
        ids = [b.id for b in list_batches(self)] + [NO_BATCH]
    end_hour = -(-int(math.ceil(last.timestamp())) // HOUR)  # the hour holding `last`, if any
    return self.files.read(epoch_hour(first), end_hour, ids, columns,
                           model_version, start_s=first.timestamp(), end_s=last.timestamp())


def _reference(self: Deployment, model_version: int | None) -> pd.DataFrame:
    version = model_version or self.model_version
    reference = self.files.read_reference(version)
    if reference is None:
        raise NotFoundError(f"deployment {self.id} has no reference data for model version "
                            f"{version}; create it (or replace the model) with reference=<rows "
                            "the model was trained or validated on>")
    return reference


def _logged_outputs(self: Deployment, first: datetime, last: datetime, batches: Batches,
                    model_version: int | None) -> pd.DataFrame:
    conditions = scope_conditions(self, predictions, first, last, batches, model_version)
    with self._engine.connect() as conn:
        rows = conn.execute(select(predictions.c.prediction, predictions.c.proba)
                            .where(*conditions)).all()
    frame = pd.DataFrame(rows, columns=["prediction", "proba"]).astype(float)
    if self.model.type == "multiclass" and len(frame):
        frame["proba"] = np.nan
    if len(frame) and not np.isfinite(frame["prediction"]).all():
        raise InputDataError("stored predictions are not finite")
    return frame
