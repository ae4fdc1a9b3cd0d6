"""A Deepchecks model version's declaration as a scenarist model: Deepchecks is given a schema,
a reference dataset and the model's outputs on it, never the estimator; scenarist needs a
model (features, target, type, classes) and its outputs on the reference. The outputs given
are replayed by a recorded "estimator", so drift compares against exactly them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarist import model_from_estimator
from scenarist.errors import ConfigError, InputDataError

DEFAULT_LABEL = "label"


class RecordedOutputs:
    """Answers `predict` / `predict_proba` on the reference rows with the outputs given."""

    def __init__(self, features: list[str], classes: list[Any] | None, predictions: Any,
                 probas: Any, importance: dict[str, float] | None):
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_features_in_ = len(features)
        if classes is not None:
            self.classes_ = np.asarray(classes)
        self._predictions = None if predictions is None else np.asarray(predictions)
        self._probas = None if probas is None else np.asarray(probas, dtype=float)
        if importance:
            self.feature_importances_ = np.asarray([float(importance.get(f, 0.0))
                                                    for f in features])

    def predict(self, frame: Any) -> np.ndarray:
        return self._recorded(self._predictions, len(frame), "reference_predictions")

    @property
    def predict_proba(self) -> Any:
        if self._probas is None:
            raise AttributeError("predict_proba")  # no probabilities given: none recorded
        return lambda frame: self._recorded(self._probas, len(frame), "reference_probas")

    @staticmethod
    def _recorded(values: np.ndarray | None, n: int, name: str) -> np.ndarray:
        if values is None or len(values) != n:
            raise InputDataError(f"{name} must have one entry per reference row ({n})")
        return values


def declared_model(name: str, task_type: str, schema: Any, importance: Any, reference: Any,
                   predictions: Any, probas: Any, classes: Any) -> tuple[Any, Any]:
    """(LoadedModel, reference rows with the target) of a Deepchecks model version."""
    frame, target = _reference(reference)
    features = _features(schema, frame, target)
    if frame is not None and predictions is None:
        raise ConfigError("a reference dataset needs reference_predictions= (and, for a "
                          "classifier, reference_probas=): scenarist compares production "
                          "outputs with them")
    if task_type != "regression" and classes is None:
        if predictions is None:
            raise ConfigError("a classification model version needs model_classes=[...]")
        classes = sorted(pd.unique(np.asarray(predictions)).tolist())
    if isinstance(importance, pd.Series):
        importance = importance.to_dict()
    estimator = RecordedOutputs(features, None if task_type == "regression" else list(classes),
                                predictions, probas, importance)
    positive = list(classes)[-1] if task_type == "binary" else 1
    model = model_from_estimator(estimator, target=target, type=task_type,  # type: ignore[arg-type]
                                 features=features, name=name, positive_label=positive)
    return model, frame


def _reference(reference: Any) -> tuple[pd.DataFrame | None, str]:
    if reference is None:
        return None, DEFAULT_LABEL
    frame = getattr(reference, "data", reference)  # a deepchecks Dataset, or a DataFrame
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError("reference_dataset must be a pandas DataFrame or a deepchecks "
                          "Dataset")
    target = getattr(reference, "label_name", None) or DEFAULT_LABEL
    return frame.reset_index(drop=True), target


def _features(schema: Any, frame: pd.DataFrame | None, target: str) -> list[str]:
    if isinstance(schema, dict) and schema.get("features"):
        return [str(f) for f in schema["features"]]
    if frame is None:
        raise ConfigError("a model version needs schema={'features': {...}} or "
                          "reference_dataset= to know its features")
    return [str(c) for c in frame.columns if c != target]
