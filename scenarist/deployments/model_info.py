"""What a deployment remembers of a model: its declaration, not its estimator.

Predictions are logged by the caller, so a deployment never needs to run the model after it is
created or replaced; it keeps the model's name, type, target, features (with their value
types), classes, positive label and feature importance (when the estimator has
`feature_importances_` or `coef_`). The reference rows and the model's outputs on them are
written to Parquet at that moment (deployment_files), for drift and prediction warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from scenarist.errors import ConfigError, InputDataError

OUTPUT = "__output__"  # the model's monitored output on a reference row (probability or value)
PREDICTION = "__prediction__"
PROBA = "__proba__"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    type: str
    target: str
    features: tuple[str, ...]
    classes: tuple[Any, ...] | None
    positive_label: Any
    feature_importance: dict[str, float] | None
    feature_types: dict[str, str] | None  # feature -> "number" | "string" | "bool" | "datetime"

    @classmethod
    def from_model(cls, model: Any, reference: pd.DataFrame | None) -> ModelInfo:
        for attribute in ("name", "type", "target", "features", "classes"):
            if not hasattr(model, attribute):
                raise TypeError(
                    "model must be a LoadedModel; wrap an estimator with "
                    "scenarist.model_from_estimator(estimator, target=..., type='binary')"
                )
        if model.type != "regression" and not model.classes:
            raise ConfigError(f"model {model.name!r} is a {model.type} classifier without "
                              "`classes_`; a deployment needs its classes to store labels")
        if reference is not None:
            missing = [f for f in model.features if f not in reference.columns]
            if missing:
                raise InputDataError(f"the reference lacks model feature(s) {missing}; "
                                     f"its columns are {list(reference.columns)}")
        return cls(
            name=model.name,
            type=model.type,
            target=model.target,
            features=tuple(model.features),
            classes=tuple(model.classes) if model.classes is not None else None,
            positive_label=model.positive_label,
            feature_importance=_importance(model),
            feature_types=None if reference is None else frame_types(reference, model.features),
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ModelInfo:
        classes = document.get("classes")
        return cls(**{**document, "features": tuple(document["features"]),
                      "classes": tuple(classes) if classes is not None else None})

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["features"] = list(self.features)
        document["classes"] = list(self.classes) if self.classes is not None else None
        return document

    @property
    def is_classifier(self) -> bool:
        return self.type != "regression"


def value_type(series: pd.Series) -> str:
    return dtype_type(series.dtype)


def dtype_type(dtype: Any) -> str:
    """The feature type ("bool", "number", "datetime", "string") of values of `dtype`."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def frame_types(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {c: value_type(frame[c]) for c in columns}


def _importance(model: Any) -> dict[str, float] | None:
    estimator = getattr(model, "estimator", None)
    values = getattr(estimator, "feature_importances_", None)
    if values is None:
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            return None
        values = np.abs(np.atleast_2d(np.asarray(coef, dtype=float))).sum(axis=0)
    values = np.asarray(values, dtype=float).ravel()
    if len(values) != len(model.features):
        return None
    total = values.sum()
    values = values / total if total > 0 else values
    return {f: float(v) for f, v in zip(model.features, values, strict=True)}


def reference_outputs(model: Any, reference: pd.DataFrame) -> pd.DataFrame:
    """The reference rows' features (and target) with the model's outputs beside them."""
    keep = [*model.features, *([model.target] if model.target in reference.columns else [])]
    frame = reference.loc[:, keep].reset_index(drop=True)
    predictions, probabilities = model.predict(frame)
    frame[PREDICTION] = predictions
    if model.type == "binary" and probabilities is not None:
        frame[PROBA] = np.asarray(probabilities, dtype=float)
        frame[OUTPUT] = frame[PROBA]
    elif model.type == "regression":
        frame[OUTPUT] = np.asarray(predictions, dtype=float)
    return frame
