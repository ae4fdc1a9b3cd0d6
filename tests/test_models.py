"""Loading model artifacts and predicting: binary, multiclass, regression, and bad files."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from scenarist.errors import ConfigError, InputDataError, ModelLoadError
from scenarist.project.config import Project, load_project
from scenarist.project.models import LoadedModel, load_model, model_from_estimator

FIXTURE = Path(__file__).parent / "fixtures" / "scenarist.yaml"
FEATURES = ["card_age", "card_fico_score"]


def frame(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"card_age": rng.integers(1, 120, rows).astype(float),
                         "card_fico_score": rng.normal(700, 40, rows)})
    data["authorized_flag"] = (data.card_fico_score > 690).astype(int)
    data["segment"] = np.select([data.card_age < 40, data.card_age < 80], ["new", "mid"], "old")
    data["amount"] = 3 * data.card_age + 0.1 * data.card_fico_score
    return data


TRAIN = frame()


@pytest.fixture(scope="module")
def estimators() -> dict[str, Any]:
    """Fitted once per module; each test writes its own copies."""
    return {
        "fraud": LogisticRegression().fit(TRAIN[FEATURES], TRAIN.authorized_flag),
        "segment": LogisticRegression(max_iter=500).fit(TRAIN[FEATURES], TRAIN.segment),
        "amount": LinearRegression().fit(TRAIN[FEATURES], TRAIN.amount),
        "array": LogisticRegression().fit(TRAIN[FEATURES].to_numpy(), TRAIN.authorized_flag),
    }


@pytest.fixture
def project(tmp_path: Path, estimators: dict[str, Any]) -> Project:
    """The §4 project, with a binary, a multiclass and a regression model on disk."""
    models = tmp_path / "models"
    models.mkdir()
    joblib.dump(estimators["fraud"], models / "fraud.joblib")
    with open(models / "segment.pkl", "wb") as out:  # plain pickle loads too
        pickle.dump(estimators["segment"], out)
    joblib.dump(estimators["amount"], models / "amount.joblib")
    joblib.dump(estimators["array"], models / "array.joblib")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "transactions_2017Q1.parquet").write_bytes(b"")
    text = FIXTURE.read_text().replace("models:\n", "models:\n" + "".join(
        f"  {line}\n" for line in [
            "segment_model: {path: models/segment.pkl, target: segment, type: multiclass}",
            "amount_model: {path: models/amount.joblib, target: amount, type: regression}",
            "array_model: {path: models/array.joblib, target: authorized_flag, type: binary}",
        ]))
    (tmp_path / "scenarist.yaml").write_text(text)
    return load_project(tmp_path)


def test_binary_model(project: Project) -> None:
    model = load_model(project, "fraud_model")
    assert (model.name, model.type, model.target) == ("fraud_model", "binary", "authorized_flag")
    assert model.features == tuple(FEATURES) and model.classes == (0, 1)
    assert model.positive_label == 1 and model.path == project.root / "models/fraud.joblib"
    batch = frame(10, seed=1)
    predictions, probabilities = model.predict(batch)
    expected = model.estimator.predict_proba(batch[FEATURES])[:, 1]
    assert probabilities is not None and probabilities.shape == (10,)
    np.testing.assert_allclose(probabilities, expected)
    np.testing.assert_array_equal(predictions, model.estimator.predict(batch[FEATURES]))


def test_predict_passes_exactly_the_features_in_order(project: Project) -> None:
    model = load_model(project, "fraud_model")
    batch = frame(10, seed=2)
    shuffled = batch[["segment", "card_fico_score", "amount", "card_age"]]
    np.testing.assert_allclose(model.predict(shuffled)[1], model.predict(batch)[1])


def test_positive_label_selects_the_probability_column(project: Project) -> None:
    project.models["fraud_model"].positive_label = 0
    model = load_model(project, "fraud_model")
    batch = frame(5, seed=3)
    np.testing.assert_allclose(model.predict(batch)[1],
                               model.estimator.predict_proba(batch[FEATURES])[:, 0])


def test_multiclass_model(project: Project) -> None:
    model = load_model(project, "segment_model")
    assert model.classes == ("mid", "new", "old")
    predictions, probabilities = model.predict(frame(8, seed=4))
    assert probabilities is not None and probabilities.shape == (8, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1)
    assert set(predictions) <= {"mid", "new", "old"}


def test_regression_model(project: Project) -> None:
    model = load_model(project, "amount_model")
    assert model.classes is None
    batch = frame(6, seed=5)
    predictions, probabilities = model.predict(batch)
    assert probabilities is None
    np.testing.assert_allclose(predictions, batch.amount, rtol=1e-6)


def test_empty_frame(project: Project) -> None:
    predictions, probabilities = load_model(project, "segment_model").predict(frame(0))
    assert predictions.shape == (0,) and probabilities is not None
    assert probabilities.shape == (0, 3)


def test_missing_features_are_listed(project: Project) -> None:
    model = load_model(project, "fraud_model")
    with pytest.raises(InputDataError, match="model 'fraud_model' needs column.s. missing from "
                       "the data: card_fico_score"):
        model.predict(frame(3).drop(columns="card_fico_score"))


def test_unusable_data_is_an_input_error(project: Project) -> None:
    batch = frame(3).assign(card_age="old")
    with pytest.raises(InputDataError, match="model 'fraud_model' cannot predict on the data"):
        load_model(project, "fraud_model").predict(batch)


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"\x80\x04\x95garbage"])
def test_corrupt_model_file(project: Project, content: bytes) -> None:
    (project.root / "models" / "fraud.joblib").write_bytes(content)
    with pytest.raises(ModelLoadError, match=r"model 'fraud_model': .*fraud.joblib is not a "
                       r"joblib/pickle file: \w+"):
        load_model(project, "fraud_model")


def test_missing_model_file(project: Project) -> None:
    (project.root / "models" / "fraud.joblib").unlink()
    with pytest.raises(ModelLoadError, match="fraud.joblib does not exist"):
        load_model(project, "fraud_model")


def test_object_without_predict(project: Project) -> None:
    joblib.dump({"weights": [1, 2]}, project.root / "models" / "fraud.joblib")
    with pytest.raises(ModelLoadError, match="holds a dict, which has no predict"):
        load_model(project, "fraud_model")


def test_unknown_features_ask_for_a_features_key(project: Project) -> None:
    with pytest.raises(ConfigError, match="add `features:` listing the input columns") as info:
        load_model(project, "array_model")
    assert info.value.problems[0].location == "models.array_model.features"
    project.models["array_model"].features = FEATURES
    model = load_model(project, "array_model")
    assert model.features == tuple(FEATURES)
    assert model.predict(frame(4))[1].shape == (4,)  # type: ignore[union-attr]


@pytest.mark.parametrize(("model", "change", "message"), [
    ("fraud_model", {"features": ["card_fico_score", "card_age"]}, "differ from the columns"),
    ("fraud_model", {"positive_label": "yes"}, r"positive_label 'yes' is not one of the "
     r"classes \[0, 1\]"),
    ("segment_model", {"type": "binary"}, "declared binary, but the estimator has 3 classes"),
    ("fraud_model", {"type": "regression"}, "declared regression, but the estimator is a "
     "classifier"),
    ("array_model", {"features": ["card_age"]}, "1 features listed, but the estimator expects 2"),
    ("amount_model", {"features": ["card_age", "amount"]}, "differ from the columns"),
])
def test_declaration_must_fit_the_estimator(project: Project, model: str,
                                            change: dict[str, Any], message: str) -> None:
    for key, value in change.items():
        setattr(project.models[model], key, value)
    with pytest.raises(ConfigError, match=message):
        load_model(project, model)


def test_unknown_model_lists_the_defined_ones(project: Project) -> None:
    with pytest.raises(ConfigError, match="unknown model 'fraud'; defined models: segment_model, "
                       "amount_model, array_model, fraud_model"):
        load_model(project, "fraud")


def test_templated_model_path(project: Project) -> None:
    shutil.copy(project.root / "models/fraud.joblib", project.root / "models/fraud_v2.joblib")
    project.models["fraud_model"].path = "models/fraud_{{ version }}.joblib"
    assert load_model(project, "fraud_model", {"version": "v2"}).path == (
        project.root / "models/fraud_v2.joblib")
    with pytest.raises(ConfigError, match="undefined variable version"):
        load_model(project, "fraud_model")


def test_model_from_estimator(estimators: dict[str, Any]) -> None:
    model = model_from_estimator(estimators["fraud"], target="authorized_flag", type="binary")
    assert isinstance(model, LoadedModel)
    assert (model.name, model.features, model.path) == ("model", tuple(FEATURES), None)
    assert model.predict(frame(3))[1].shape == (3,)  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="add `features:`"):
        model_from_estimator(estimators["array"], target="authorized_flag", type="binary")
    with pytest.raises(ModelLoadError, match="has no predict"):
        model_from_estimator(object(), target="y", type="regression", features=["x"])
