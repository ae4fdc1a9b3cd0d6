"""Model artifacts: loading a joblib/pickle estimator, its metadata, and predicting with it.

    load_model(project, "fraud_model")            -> LoadedModel (from scenarist.yaml)
    model_from_estimator(est, target=..., type=...) -> LoadedModel (Python API)
    loaded.predict(frame)                         -> (predictions, probabilities | None)

A model file is unpickled: load only artifacts you trust (pickle runs code). Errors: a
missing, unreadable or corrupt file, or an object without `predict`, is a ModelLoadError; a
declaration that does not fit the estimator (unknown features, a binary model with three
classes, a positive label that is not a class) is a ConfigError; data missing feature columns
is an InputDataError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
import pandas as pd

from scenarist.errors import ConfigError, ConfigProblem, InputDataError, ModelLoadError
from scenarist.project.config import ModelSpec, Project, render

ModelType = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True)
class LoadedModel:
    """An estimator with what monitoring needs to know about it."""

    name: str
    estimator: Any = field(repr=False, compare=False)
    target: str
    type: ModelType
    features: tuple[str, ...]
    classes: tuple[Any, ...] | None
    positive_label: Any
    path: Path | None = None

    def predict(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Predictions and probabilities on `data` (its `features` columns, in that order).

        Probabilities: binary → the positive-class column (1-D); multiclass → one column per
        class in `classes` order (2-D); regression, or a classifier without `predict_proba` →
        None."""
        missing = [f for f in self.features if f not in data.columns]
        if missing:
            raise InputDataError(f"model {self.name!r} needs column(s) missing from the data: "
                                 f"{', '.join(missing)}")
        frame: Any = data.loc[:, list(self.features)]
        if len(frame) == 0:
            return self._empty()
        if _fitted_on_array(self.estimator):  # avoid sklearn's "X has feature names" warning
            frame = frame.to_numpy()
        try:
            predictions = np.asarray(self.estimator.predict(frame))
            if self.type == "regression" or not hasattr(self.estimator, "predict_proba"):
                return predictions, None
            probabilities = np.asarray(self.estimator.predict_proba(frame))
        except (ValueError, TypeError) as exc:
            raise InputDataError(f"model {self.name!r} cannot predict on the data: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if self.type == "binary":
            return predictions, probabilities[:, self._positive_index()]
        return predictions, probabilities

    def _positive_index(self) -> int:
        if self.classes is None:
            return 1
        return list(self.classes).index(self.positive_label)

    def _empty(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self.type == "regression" or not hasattr(self.estimator, "predict_proba"):
            return np.empty(0), None
        if self.type == "binary":
            return np.empty(0, dtype=object), np.empty(0)
        return np.empty(0, dtype=object), np.empty((0, len(self.classes or ())))


def _fitted_on_array(estimator: Any) -> bool:
    return hasattr(estimator, "n_features_in_") and not hasattr(estimator, "feature_names_in_")


def load_model(
    project: Project, name: str, variables: Mapping[str, Any] | None = None
) -> LoadedModel:
    """Load model `name` of the project (its path may use "{{ var }}", rendered with project
    variables overridden by `variables`)."""
    where = str(project.file or project.root)
    spec = project.models.get(name)
    if spec is None:
        defined = ", ".join(project.models) or "none"
        raise ConfigError([ConfigProblem(where, "models",
                                         f"unknown model {name!r}; defined models: {defined}")])
    values = {**project.variables, **(variables or {})}
    rendered = render(spec.path, values, location=f"models.{name}.path", file=where)
    path = project.resolve_path(rendered)
    estimator = _unpickle(path, name)
    return _describe(estimator, spec, name=name, path=path, file=where)


def model_from_estimator(
    estimator: Any,
    *,
    target: str,
    type: ModelType,
    features: Sequence[str] | None = None,
    name: str = "model",
    positive_label: Any = 1,
) -> LoadedModel:
    """Wrap an in-memory estimator, with the same checks as `load_model`."""
    spec = ModelSpec(path="<in memory>", target=target, type=type,
                     features=list(features) if features is not None else None,
                     positive_label=positive_label)
    return _describe(estimator, spec, name=name, path=None, file="")


def _unpickle(path: Path, name: str) -> Any:
    if not path.is_file():
        raise ModelLoadError(f"model {name!r}: {path} does not exist")
    try:
        return joblib.load(path)
    except Exception as exc:  # unpickling can raise almost anything on a bad file
        raise ModelLoadError(f"model {name!r}: {path} is not a joblib/pickle file: "
                             f"{type(exc).__name__}: {exc}") from exc


def _describe(estimator: Any, spec: ModelSpec, *, name: str, path: Path | None, file: str
              ) -> LoadedModel:
    shown = f"{path}" if path is not None else "the estimator"
    if not callable(getattr(estimator, "predict", None)):
        raise ModelLoadError(f"model {name!r}: {shown} holds a {type(estimator).__name__}, "
                             "which has no predict() method")

    def problem(key: str, message: str) -> ConfigError:
        location = f"models.{name}.{key}" if file else key
        return ConfigError([ConfigProblem(file, location, f"model {name!r}: {message}")])

    known = getattr(estimator, "feature_names_in_", None)
    known = tuple(str(f) for f in known) if known is not None else None
    if spec.features is None and known is None:
        raise problem("features", "the estimator does not record its features (it was fitted "
                      "on an array, not a DataFrame); add `features:` listing the input columns "
                      "in training order")
    features = tuple(spec.features) if spec.features is not None else known
    assert features is not None
    if known is not None and features != known:
        raise problem("features", f"`features` {list(features)} differ from the columns the "
                      f"estimator was fitted on {list(known)} (names and order must match)")
    count = getattr(estimator, "n_features_in_", None)
    if count is not None and count != len(features):
        raise problem("features", f"{len(features)} features listed, but the estimator "
                      f"expects {count}")
    if spec.target in features:
        raise problem("target", f"the target {spec.target!r} is also listed as a feature")

    raw_classes = getattr(estimator, "classes_", None)
    classes = tuple(np.asarray(raw_classes).tolist()) if raw_classes is not None else None
    if spec.type == "regression" and classes is not None:
        raise problem("type", f"declared regression, but the estimator is a classifier with "
                      f"classes {list(classes)}")
    if spec.type == "binary" and classes is not None:
        if len(classes) != 2:
            raise problem("type", f"declared binary, but the estimator has {len(classes)} "
                          f"classes: {list(classes)}; use `type: multiclass`")
        if spec.positive_label not in classes:
            raise problem("positive_label", f"positive_label {spec.positive_label!r} is not "
                          f"one of the classes {list(classes)}")
    if spec.type == "multiclass" and classes is not None and len(classes) < 2:
        raise problem("type", f"declared multiclass, but the classes are {list(classes)}")
    return LoadedModel(name=name, estimator=estimator, target=spec.target, type=spec.type,
                       features=features, classes=classes, positive_label=spec.positive_label,
                       path=path)
