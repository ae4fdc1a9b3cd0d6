"""`Deployment.export`: the logged rows of a window or monitoring batch, as Parquet or CSV.

    dep.export("may.parquet", start="2024-05-01", end="2024-06-01")
    dep.export("run.csv", batch="2024-05 scoring run")

One row per logged prediction, in time order (log order within a timestamp): `sample_id`,
`timestamp` (UTC), `model_version`, the features, the additional data logged beside them
(`log_batch(..., additional_data=)`),
association id columns, `prediction`, `prediction_probability` (binary models), `label` (the
actual, once logged; missing before) and `warning` (whether the prediction was flagged).
Rows come from the feature Parquet files, so a deployment with predictions data collection
disabled has none to export.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from scenarist.deployments.batches import resolve_scope
from scenarist.deployments.drift import current_rows
from scenarist.deployments.durations import TimeLike
from scenarist.deployments.model_info import PREDICTION, PROBA
from scenarist.errors import NotFoundError
from scenarist.operations.export import Format, unique_column, write_table
from scenarist.stores.deployment_tables import predictions
from scenarist.stores.prediction_log import hash_texts

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

_CHUNK = 5_000


def export(self: Deployment, output: Path | str, start: TimeLike | None = None,
           end: TimeLike | None = None, batch: str | None = None,
           format: Format | None = None) -> Path:
    """Write the window's (or the monitoring batch's) logged rows to `output`."""
    batches, first, last, _ = resolve_scope(self, start, end, batch)
    rows = current_rows(self, first, last, batches, None)
    if rows.empty:
        raise NotFoundError(f"deployment {self.id} has no logged rows between "
                            f"{first.isoformat()} and {last.isoformat()}"
                            f"{f' in batch {batch!r}' if batch else ''}; nothing to export "
                            "(is predictions data collection enabled?)")
    rows = rows.sort_values("ts", kind="stable").reset_index(drop=True)
    facts = logged_facts(self, rows["sample_id"].to_numpy(dtype=object))
    data = rows.drop(columns=["sample_id", "ts", "model_version", PREDICTION, PROBA],
                     errors="ignore")
    table = pd.DataFrame({
        "sample_id": rows["sample_id"].to_numpy(dtype=object),
        "timestamp": pd.to_datetime(rows["ts"], unit="s", utc=True),
        "model_version": rows["model_version"].to_numpy(),
    })
    table = pd.concat([table, data.reset_index(drop=True)], axis=1)
    table[unique_column("prediction", table.columns)] = rows[PREDICTION].to_numpy()
    if PROBA in rows.columns:
        table[unique_column("prediction_probability", table.columns)] = rows[PROBA].to_numpy()
    table[unique_column("label", table.columns)] = facts["label"].to_numpy()
    table[unique_column("warning", table.columns)] = facts["warning"].to_numpy()
    return write_table(table, output, format)


def logged_facts(self: Deployment, sample_ids: np.ndarray) -> pd.DataFrame:
    """Per sample id, in order: its `label` (the actual, decoded to the model's classes; missing
    when not logged yet) and `warning` (bool)."""
    hashes = hash_texts(sample_ids)
    found: dict[int, tuple[Any, int]] = {}
    with self._engine.connect() as conn:
        for begin in range(0, len(hashes), _CHUNK):
            chunk = [int(h) for h in hashes[begin:begin + _CHUNK]]
            found.update((h, (actual, warning)) for h, actual, warning in conn.execute(
                select(predictions.c.sample_hash, predictions.c.actual, predictions.c.warning)
                .where(predictions.c.deployment_key == self.key,
                       predictions.c.sample_hash.in_(chunk))).all())
    pairs = [found.get(int(h), (None, 0)) for h in hashes]
    values = np.array([np.nan if a is None else a for a, _ in pairs], dtype=float)
    warning = np.array([bool(w) for _, w in pairs], dtype=bool)
    if not self.model.is_classifier:
        return pd.DataFrame({"label": values, "warning": warning})
    classes = np.array(self.model.classes or (), dtype=object)
    decoded = np.full(len(values), None, dtype=object)
    present = ~np.isnan(values)
    decoded[present] = classes[values[present].astype(np.int64)]
    return pd.DataFrame({"label": pd.Series(decoded).infer_objects(), "warning": warning})
