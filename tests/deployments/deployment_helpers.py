"""Helpers of the deployment tests (imported by name: tests are not a package)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from scenarist.demo.data import FEATURES, TARGET
from scenarist.deployments import Deployment
from scenarist.stores.deployment_tables import feature_files, hourly, outcomes, predictions

T0 = pd.Timestamp("2024-05-01T00:00Z")
DAY = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")
__all__ = ["DAY", "FEATURES", "T0", "TARGET", "log_rows", "stored"]


def log_rows(dep: Deployment, model, frame: pd.DataFrame, *, start: pd.Timestamp = T0,
             step_s: float = 60.0, prefix: str = "s", **kwargs):
    """Log `frame` with the model's own predictions, one row per `step_s` from `start`."""
    pred, proba = model.predict(frame)
    ids = [f"{prefix}{i}" for i in range(len(frame))]
    stamps = start.timestamp() + np.arange(len(frame)) * step_s
    result = dep.log_batch(ids, stamps, frame[list(model.features)], pred, proba, **kwargs)
    return result, ids, pred, proba


def stored(dep: Deployment) -> dict[str, int]:
    """Rows of the deployment in each table (feature file records too: small calls keep their
    rows there), and its Parquet files (committed and staged)."""
    counts = {}
    with dep._engine.connect() as conn:
        for table in (predictions, hourly, outcomes, feature_files):
            counts[table.name] = conn.execute(select(func.count()).select_from(table).where(
                table.c.deployment_key == dep.key)).scalar_one()
    folder = dep.files.folder
    counts["files"] = len([p for p in folder.rglob("part-*")]) if folder.exists() else 0
    return counts
