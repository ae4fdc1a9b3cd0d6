"""Shared pieces of the deployment tests: small models, reference rows, a row counter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from scenarist.demo.data import TARGET, generate_quarter, train_model
from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator


@pytest.fixture(scope="session")
def quarters() -> dict[str, pd.DataFrame]:
    return {q: generate_quarter(q, 600) for q in ("2017Q1", "2017Q2", "2017Q4")}


@pytest.fixture(scope="session")
def fraud_model(quarters):
    return model_from_estimator(train_model(quarters["2017Q1"]), target=TARGET, type="binary",
                                name="fraud_model")


@pytest.fixture(scope="session")
def regression_model():
    frame = _numeric_frame(400, seed=1)
    estimator = LinearRegression().fit(frame[["x1", "x2"]], frame["y"])
    return model_from_estimator(estimator, target="y", type="regression", name="reg"), frame


@pytest.fixture(scope="session")
def small_binary():
    """A 2-feature logistic model with integer classes 0/1 and its reference rows."""
    frame = _numeric_frame(400, seed=2)
    frame["y"] = (frame["y"] > frame["y"].median()).astype(int)
    estimator = LogisticRegression().fit(frame[["x1", "x2"]], frame["y"])
    return model_from_estimator(estimator, target="y", type="binary", name="small"), frame


def _numeric_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * x1 - x2 + rng.normal(scale=0.5, size=n)})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "deployment-data"


@pytest.fixture
def fraud_deployment(store_url, data_dir, fraud_model, quarters) -> Deployment:
    return Deployment.create(fraud_model, "Fraud v1", description="card fraud",
                             reference=quarters["2017Q1"], url=store_url, data_dir=data_dir)
