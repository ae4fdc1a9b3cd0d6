"""`Evaluation`: one stored row of an evaluation store, with its metrics, read back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Evaluation:
    """One batch evaluated: its label, facts, metrics and the details needed to read them.

    `metrics` maps a key to its value: the metric name for dataset-level metrics (`data_drift`,
    `auc`) and `metric[feature]` for per-feature ones (`ks_pvalue[card_age]`); NaN when the
    metric is undefined for this batch. They are the metrics of all rows, or of `segment`'s
    rows when read with `EvaluationStore.get(label, segment=...)`.
    """

    store: str
    label: str
    created_at: datetime
    evaluated_at: datetime
    time_start: datetime | None
    time_end: datetime | None
    model: str
    row_count: int
    reference_row_count: int
    metrics: Mapping[str, float]
    details: Mapping[str, Any]
    segment: str | None = None  # None: the metrics of all rows; else one segment's

    @property
    def snapshot(self) -> Mapping[str, Any] | None:
        """The kept rows behind this evaluation (`scenarist.operations.export`), None when not
        kept."""
        return self.details.get("snapshot")

    @classmethod
    def from_rows(cls, store: str, row: Any, values: Sequence[Any]) -> Evaluation:
        metrics = {
            (v.metric if v.feature is None else f"{v.metric}[{v.feature}]"): (
                math.nan if v.value is None else float(v.value)
            )
            for v in values
        }
        return cls(
            store=store,
            label=row.label,
            created_at=_utc(row.created_at),
            evaluated_at=_utc(row.evaluated_at),
            time_start=_utc(row.time_start),
            time_end=_utc(row.time_end),
            model=row.model,
            row_count=row.row_count,
            reference_row_count=row.reference_row_count,
            metrics=metrics,
            details=dict(row.details or {}),
        )

    def metric(self, name: str, feature: str | None = None) -> float:
        """The value of `name` (of `feature`), NaN when this evaluation does not have it."""
        return self.metrics.get(name if feature is None else f"{name}[{feature}]", math.nan)

    def feature_table(self) -> pd.DataFrame:
        """Per-feature metrics as a table: one row per feature, one column per metric."""
        rows: dict[str, dict[str, float]] = {}
        for key, value in self.metrics.items():
            if key.endswith("]") and "[" in key:
                metric, feature = key[:-1].split("[", 1)
                rows.setdefault(feature, {})[metric] = value
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "feature"
        return table


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
