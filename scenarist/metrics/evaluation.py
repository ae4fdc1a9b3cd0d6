"""One evaluation's metrics: everything scenarist measures about a batch, as pure numbers.

`compute_evaluation(model, current, reference)` runs, in order:

1. input checks (`inputs.check_batch`): features present, types compatible, nothing empty;
2. per-feature drift (`drift.feature_drift`) and `drift_share` / `n_drifted_features`;
3. dataset-level drift from a domain classifier (`data_drift.domain_classifier_drift`);
4. prediction drift: the model's outputs on current vs reference (the positive-class probability
   for binary models, the predicted class for multiclass, the value for regression), stored as
   `prediction_drift` (the score of the auto-chosen test), `prediction_drifted` and
   `prediction_<statistic>`. The model scores every current row (performance needs them) but
   only a seeded sample of at most `max_rows_per_side` reference rows, so the cost of scoring
   the reference does not grow with it. Binary models with probabilities also get their
   performance estimated without labels (`cbpe.model_estimates`: `estimated_accuracy`, …,
   calibrated on the reference sample's labels when that helps);
5. when the current batch has labels (the model's target column, not all missing): target drift
   (`target_drift`, `target_drifted`, `target_<statistic>`), performance (`auc`, `rmse`, …),
   `labeled_rows` and each estimate's error (`estimated_accuracy_error`, …);
6. data quality (`quality.data_quality`).

`performance="required"` turns "no labels" into an error instead of skipping step 5.
The result is a list of `MetricValue` plus JSON-able details (column kinds, the test chosen per
feature, the top drifted features) that the store keeps beside the numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError
from scenarist.metrics import sufficiency
from scenarist.metrics.cbpe import estimate_errors, model_estimates
from scenarist.metrics.data_drift import MIN_ROWS_PER_SIDE, DataDrift, domain_classifier_drift
from scenarist.metrics.drift import FeatureDrift, column_kinds, feature_drift
from scenarist.metrics.inputs import check_batch
from scenarist.metrics.multiple_testing import CORRECTIONS, Correction
from scenarist.metrics.performance import performance_metrics
from scenarist.metrics.quality import data_quality
from scenarist.metrics.values import MetricValue

Performance = Literal["auto", "required", "off"]
TOP_DRIFTED = 5


@dataclass(frozen=True)
class EvaluationOptions:
    """How an evaluation is computed; every field has a safe default."""

    drift_method: str = "auto"
    drift_threshold: float | None = None
    max_rows_per_side: int = 50_000
    performance: Performance = "auto"
    features: tuple[str, ...] | None = None  # monitor only these (default: all model features)
    random_state: int = 0
    n_jobs: int = 2
    min_rows: int = sufficiency.DEFAULT_MIN_ROWS  # fewer rows: no value (see sufficiency.py)
    correction: Correction = "benjamini_hochberg"  # of per-feature p-value verdicts

    def __post_init__(self) -> None:
        if self.min_rows < 1:
            raise InputDataError(f"min_rows must be at least 1, got {self.min_rows}")
        if self.correction not in CORRECTIONS:
            raise InputDataError(f"unknown correction {self.correction!r}; choose one of "
                                 f"{list(CORRECTIONS)}")


@dataclass(frozen=True)
class ComputedEvaluation:
    """The numbers of one evaluation and the facts needed to read them."""

    values: list[MetricValue]
    row_count: int
    reference_row_count: int
    details: dict[str, Any] = field(default_factory=dict)


def compute_evaluation(
    model: Any,
    current: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    options: EvaluationOptions = EvaluationOptions(),
    on_stage: Callable[[str], None] | None = None,
) -> ComputedEvaluation:
    """Compute every metric of `current` against `reference` for `model` (a `LoadedModel`)."""
    started = time.perf_counter()
    stage = on_stage or (lambda _name: None)
    features = _monitored(model, options.features)

    stage("checking inputs")
    current = check_batch(reference, current, features=list(model.features))
    kinds = column_kinds(reference, features)

    stage("feature drift")
    drifts = feature_drift(
        reference,
        current,
        columns=features,
        kinds=kinds,
        method=options.drift_method,
        threshold=options.drift_threshold,
        n_jobs=options.n_jobs,
    )
    reasons: dict[str, str] = {}  # metric key → why it has no value (min_rows)
    counts = {d.feature: (int(current[d.feature].notna().sum()),
                          int(reference[d.feature].notna().sum())) for d in drifts}
    drifts, values = sufficiency.guard_drift(drifts, counts, options.min_rows,
                                             options.correction, reasons)

    stage("dataset drift (domain classifier)")
    side_rows = min((len(current), "rows in the current batch"),
                    (len(reference), "rows in the reference"))
    if side_rows[0] < max(options.min_rows, MIN_ROWS_PER_SIDE):
        nan = float("nan")
        dataset_drift = DataDrift(nan, nan, nan, nan, nan, 0, 0, 0, {})
        values.extend(sufficiency.emptied(dataset_drift.metric_values(), sufficiency.reason(
            *side_rows, max(options.min_rows, MIN_ROWS_PER_SIDE)), reasons))
    else:
        dataset_drift = domain_classifier_drift(
            reference,
            current,
            kinds=kinds,
            max_rows_per_side=options.max_rows_per_side,
            random_state=options.random_state,
            n_jobs=options.n_jobs,
        )
        values.extend(dataset_drift.metric_values())

    stage("predictions")
    current_pred, current_proba = model.predict(current)
    reference_sample = _sample(reference, options.max_rows_per_side, options.random_state)
    reference_pred, reference_proba = model.predict(reference_sample)
    prediction = _output_drift(
        "prediction",
        _model_output(model, reference_pred, reference_proba),
        _model_output(model, current_pred, current_proba),
        model.type,
        options,
    )
    estimated = model_estimates(model, current_pred, current_proba, reference_sample,
                                reference_proba)  # CBPE: performance before labels (cbpe.py)
    if len(current) < options.min_rows:
        values.extend(sufficiency.emptied(prediction.values + estimated.values,
                                          sufficiency.reason(len(current),
                                                             "rows in the current batch",
                                                             options.min_rows), reasons))
    else:
        values.extend(prediction.values + estimated.values)

    labeled = _labeled_rows(model, current, options.performance)
    details: dict[str, Any] = {"labels": "absent" if labeled is None else "present"}
    if labeled is not None:
        stage("performance")
        n_labeled = int(labeled.sum())
        values.append(MetricValue("labeled_rows", float(n_labeled)))
        label_values = performance_metrics(
            current[model.target].to_numpy()[labeled],
            np.asarray(current_pred)[labeled],
            None if current_proba is None else np.asarray(current_proba)[labeled],
            model_type=model.type,
            classes=model.classes,
            positive_label=model.positive_label,
            label_name=model.target,
            intervals=True,
        )
        if model.target in reference.columns and reference[model.target].notna().any():
            target = _output_drift(
                "target",
                reference[model.target].dropna().to_numpy(),
                current[model.target].dropna().to_numpy(),
                model.type,
                options,
            )
            label_values.extend(target.values)
            details["target_drift_method"] = target.method
        if n_labeled < options.min_rows:
            label_values = sufficiency.emptied(label_values, sufficiency.reason(
                n_labeled, "labeled rows", options.min_rows), reasons)
        values.extend(label_values)
        values.extend(estimate_errors({v.metric: v.value for v in values if v.feature is None}))

    stage("data quality")
    values.extend(data_quality(reference[features], current[features], kinds=kinds))

    details.update(
        {
            "model": model.name,
            "model_type": model.type,
            "features": features,
            "column_kinds": dict(kinds),
            "drift_methods": {d.feature: d.method for d in drifts},
            "drift_thresholds": {d.feature: d.threshold for d in drifts},
            "drifted_features": [d.feature for d in drifts if d.drifted],
            "histograms": {d.feature: d.histogram.as_dict() for d in drifts if d.histogram},
            "top_drifted_features": _top_drifted(drifts, dataset_drift.feature_importance),
            "prediction_drift_method": prediction.method,
            "cbpe": estimated.details,
            "prediction_drift_reference_rows": len(reference_sample),
            "domain_classifier_rows": {
                "reference": dataset_drift.n_reference,
                "current": dataset_drift.n_current,
                "test": dataset_drift.n_test,
            },
            "options": {
                "drift_method": options.drift_method,
                "drift_threshold": options.drift_threshold,
                "max_rows_per_side": options.max_rows_per_side,
                "performance": options.performance,
                "random_state": options.random_state,
                "min_rows": options.min_rows,
                "correction": options.correction,
            },
            sufficiency.DETAILS_KEY: reasons,
            "duration_seconds": round(time.perf_counter() - started, 3),
        }
    )
    return ComputedEvaluation(
        values=values,
        row_count=len(current),
        reference_row_count=len(reference),
        details=details,
    )


@dataclass(frozen=True)
class _OutputDrift:
    values: list[MetricValue]
    method: str


def _model_output(model: Any, predictions: Any, probabilities: Any) -> np.ndarray:
    if model.type == "binary" and probabilities is not None:
        return np.asarray(probabilities, dtype=float)
    return np.asarray(predictions)


def _output_drift(
    name: str,
    reference: np.ndarray,
    current: np.ndarray,
    model_type: str,
    options: EvaluationOptions,
) -> _OutputDrift:
    """Drift of one output (predictions or labels) with the same tests as the features."""
    numeric = model_type == "regression" or (
        name == "prediction" and model_type == "binary" and reference.dtype.kind == "f"
    )
    kind = "numeric" if numeric else "categorical"
    ref = pd.DataFrame({name: reference if numeric else reference.astype(str)})
    cur = pd.DataFrame({name: current if numeric else current.astype(str)})
    (result,) = feature_drift(
        ref,
        cur,
        columns=[name],
        kinds={name: kind},
        method=options.drift_method,
        threshold=options.drift_threshold,
        n_jobs=1,
    )
    values = [
        MetricValue(f"{name}_drift", result.score),
        MetricValue(f"{name}_drifted", float(result.drifted)),
    ]
    values.extend(MetricValue(f"{name}_{stat}", value) for stat, value in result.stats.items())
    return _OutputDrift(values=values, method=result.method)


def _sample(frame: pd.DataFrame, max_rows: int, random_state: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=random_state)


def _labeled_rows(model: Any, current: pd.DataFrame, performance: Performance) -> np.ndarray | None:
    """Mask of current rows with a label, or None when performance is skipped."""
    if performance == "off":
        return None
    if model.target in current.columns:
        mask = current[model.target].notna().to_numpy()
        if mask.any():
            return mask
        reason = f"the target column {model.target!r} is present but every value is missing"
    else:
        reason = f"the current batch has no target column {model.target!r}"
    if performance == "required":
        raise InputDataError(
            f"labels missing: {reason}, and this evaluation requires performance metrics. "
            "Add the labels to the input dataset, or set `performance: auto` to skip them "
            "until labels arrive."
        )
    return None


def _monitored(model: Any, subset: Sequence[str] | None) -> list[str]:
    if not subset:
        return list(model.features)
    unknown = [f for f in subset if f not in model.features]
    if unknown:
        raise InputDataError(
            f"monitored feature(s) {', '.join(map(repr, unknown))} are not features of model "
            f"{model.name!r}; its features are {', '.join(model.features)}"
        )
    return list(subset)


def _top_drifted(drifts: Sequence[FeatureDrift], importance: Mapping[str, float]) -> list[str]:
    """Drifted features first, then by how much they separate reference from current."""
    ranked = sorted(
        drifts, key=lambda d: (not d.drifted, -float(importance.get(d.feature, 0.0)), d.feature)
    )
    return [d.feature for d in ranked if d.drifted][:TOP_DRIFTED]
