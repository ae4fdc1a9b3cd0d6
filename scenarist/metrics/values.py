"""The one value type every metric function returns: a named number, optionally per feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["numeric", "categorical"]
"""How a column is analysed: numeric statistics, or counts of categories."""


@dataclass(frozen=True)
class MetricValue:
    """One metric of an evaluation, stored long-form as (metric, feature, value).

    `feature` is None for dataset-level metrics (`data_drift`, `auc`, `row_count`) and the
    column name for per-feature ones (`ks_pvalue[card_age]` is metric="ks_pvalue",
    feature="card_age"). `value` may be NaN when the metric is undefined for this batch.
    `segment` names the rows it was computed on ("device=mobile"); None means all rows.
    """

    metric: str
    value: float
    feature: str | None = None
    segment: str | None = None  # None: all rows; "device=mobile": that segment's rows only

    @property
    def key(self) -> str:
        return self.metric if self.feature is None else f"{self.metric}[{self.feature}]"
