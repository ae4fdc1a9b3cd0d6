"""`Deployment.evaluate`: an evaluation store entry built from a deployment's logged predictions.

This is what the scenario step `evaluate_deployment` calls, so the checks and reporters of
scenarios work on deployments as on batch evaluations:

    evaluation = dep.evaluate("fraud_prod_MES", start="2024-05-01T00:00Z", end="2024-05-08T00:00Z")
    evaluation = dep.evaluate("fraud_prod_MES", batch="2024-05 scoring run")

The current batch is the window's (or the batch's) logged feature rows; the reference is the
deployment's reference rows. Every metric comes from `scenarist.metrics.compute_evaluation`,
with the *logged* predictions and probabilities standing in for the model (the model is never
run again). Labels join the current rows only when the alert delay rule says they are ready
(`get_label_readiness`): before that, performance metrics are absent, so label-dependent checks
are EMPTY rather than computed on a few early labels. The evaluation is stored in the
deployment's own database under `label` (default: the batch name, or "<start> – <end>"), with
the deployment id, window and label readiness in its details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scenarist.deployments.batches import resolve_scope
from scenarist.deployments.drift import _reference, current_rows
from scenarist.deployments.durations import TimeLike
from scenarist.deployments.export import logged_facts
from scenarist.deployments.model_info import PREDICTION, PROBA
from scenarist.deployments.queries import get_label_readiness
from scenarist.errors import NotFoundError
from scenarist.metrics.custom import CustomMetric
from scenarist.metrics.evaluation import EvaluationOptions
from scenarist.metrics.segments import SegmentOptions, compute_with_segments
from scenarist.profiles import profile_batches
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.evaluation_store import EvaluationStore

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment


@dataclass(frozen=True)
class LoggedOutputs:
    """A stand-in for the model whose `predict` returns the outputs logged beside each row."""

    name: str
    target: str
    type: str
    features: tuple[str, ...]
    classes: tuple[Any, ...] | None
    positive_label: Any

    def predict(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        proba = None
        if self.type == "binary" and PROBA in data.columns and data[PROBA].notna().all():
            proba = data[PROBA].to_numpy(dtype=float)
        return data[PREDICTION].to_numpy(), proba


def evaluate(self: Deployment, store_name: str, *, start: TimeLike | None = None,
             end: TimeLike | None = None, batch: str | None = None, label: str | None = None,
             options: EvaluationOptions | None = None, revision: str | None = None,
             model_version: int | None = None,
             segments: SegmentOptions | None = None,
             custom_metrics: Mapping[str, CustomMetric] | None = None) -> Evaluation:
    """Evaluate the window (or monitoring batch) into the evaluation store `store_name`;
    `revision` (a reason) replaces an existing evaluation as a new revision
    (`scenarist.operations.revisions`, late labels); `model_version` (default: the current one)
    is the version whose predictions are evaluated, as a revision of a window before a replacement.

    `segments` segments by additional data logged with the predictions (compared with the
    whole reference, which keeps only features); `custom_metrics` are computed on the window
    or batch (DataRobot's batch custom metrics), per segment too."""
    batches, first, last, ref = resolve_scope(self, start, end, batch)
    label = label or (ref.name if ref is not None else None)
    version = model_version or self.model_version
    current = current_rows(self, first, last, batches, version)
    if current.empty:
        raise NotFoundError(f"deployment {self.id} has no logged feature data between "
                            f"{first.isoformat()} and {last.isoformat()}"
                            f"{f' in batch {batch!r}' if batch else ''}; nothing to evaluate")
    reference = _reference(self, version)
    readiness = get_label_readiness(self, first, last, batches=batches, model_version=version)
    if readiness.ready and readiness.labelled:
        current[self.model.target] = _labels(self, current)
    model = LoggedOutputs(self.model.name, self.model.target, self.model.type,
                          self.model.features, self.model.classes, self.model.positive_label)
    chosen = options or EvaluationOptions(performance="auto")
    if not (readiness.ready and readiness.labelled):
        chosen = replace(chosen, performance="off")
    computed = compute_with_segments(model, current, reference, options=chosen,
                                     segments=segments, custom_metrics=custom_metrics)
    details = {**computed.details, "deployment": {
        "id": self.id, "label": self.label, "model_version": version, "batch": batch,
        "start": first.isoformat(), "end": last.isoformat(),
        "labels_ready": readiness.ready, "labels_reason": readiness.reason,
        "labelled": readiness.labelled,
        "labelled_ratio": readiness.labelled_ratio}}
    computed = replace(computed, details=details)
    name = label or f"{first:%Y-%m-%dT%H:%MZ} – {last:%Y-%m-%dT%H:%MZ}"
    store = EvaluationStore.open(store_name, self._engine.url.render_as_string(
        hide_password=False))
    profiles = profile_batches(reference, current, computed.details.get("column_kinds"))
    return store.record(name, computed, model=self.model.name, time_range=(first, last),
                        revision=revision, profiles=profiles)


def _labels(self: Deployment, current: pd.DataFrame) -> np.ndarray:
    return logged_facts(self, current["sample_id"].to_numpy(dtype=object))["label"].to_numpy()

