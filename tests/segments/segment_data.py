"""A generated project for segments, custom metrics, export and secondary datasets.

Rows have two model features (x1, x2) and two columns that are not features: `device` and
`merchant_id` (a key into the `merchants` secondary dataset). `frame(..., shift=)` plants a
drift of x1 in the tablet segment only (5% of the rows).
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression

DEVICES = ["mobile", "desktop", "tablet"]


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    device = rng.choice(DEVICES, size=n, p=[0.55, 0.40, 0.05])
    x1 = rng.normal(0, 1, n) + np.where(device == "tablet", shift, 0.0)
    x2 = rng.normal(0, 1, n)
    merchant = rng.integers(0, 50, n)
    y = (x1 + x2 + rng.normal(0, 1, n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "device": device, "merchant_id": merchant, "y": y})


def merchants() -> pd.DataFrame:
    ids = np.arange(50)
    return pd.DataFrame({"merchant_id": ids, "merchant_risk": ids / 50.0,
                         "merchant_state": np.where(ids % 2 == 0, "CA", "NY")})


def write_project(root: Path, store: dict, *, features=("x1", "x2"), checks=None,
                  metrics_module: str | None = None, estimator=None) -> Path:
    """A project in `root`: reference.parquet, batch_{{ q }}.parquet (written by the test),
    merchants.csv, model.joblib trained on the reference, and `store` as evaluation store "s"."""
    root.mkdir(parents=True, exist_ok=True)
    reference = frame(3000, 1)
    if "merchant_risk" in features:
        reference = reference.merge(merchants()[["merchant_id", "merchant_risk"]],
                                    on="merchant_id", how="left")
    reference.to_parquet(root / "reference.parquet", index=False)
    merchants().to_csv(root / "merchants.csv", index=False)
    estimator = (estimator or LogisticRegression()).fit(reference[list(features)], reference["y"])
    joblib.dump(estimator, root / "model.joblib")
    if metrics_module is not None:
        (root / "teammetrics.py").write_text(metrics_module)
    project = {
        "project": "segments",
        "connections": {"store": {"url": "sqlite:///.scenarist/store.db"}},
        "datasets": {"reference": {"path": "reference.parquet"},
                     "batch": {"path": "batch_{{ q }}.parquet"},
                     "merchants": {"path": "merchants.csv"}},
        "models": {"m": {"path": "model.joblib", "target": "y", "type": "binary",
                         "features": list(features)}},
        "evaluation_stores": {"s": {"model": "m", "reference": "reference", "input": "batch",
                                    "label": "{{ q }}", **store}},
        "checks": checks or {},
    }
    (root / "scenarist.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return root
