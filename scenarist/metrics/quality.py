"""Data-quality metrics of a current batch, judged against the reference it is compared with.

Definitions (all shares are in [0, 1]; NaN when the denominator is zero):

- ``row_count``: number of rows of the current batch (dataset level).
- ``missing_share``: dataset level, the share of missing cells (``isna``) of the current batch
  over the columns in ``kinds``; per feature, the share of missing values of that column.
- ``unseen_category_share[col]`` (categorical columns): among the current non-null values, the
  share whose category never appears among the reference non-null values (exact equality, as
  ``Series.isin``; ``1`` and ``"1"`` are different categories).
- ``out_of_range_share[col]`` (numeric columns): among the current non-null values, the share
  outside ``[reference min, reference max]`` (bounds inclusive; ``inf`` counts as out of range).
  NaN when the current column or the reference column has no non-null value.

Also home of the input checks shared by the dataset metrics (`require_columns`,
`numeric_column`), so every metric reports a missing column or a non-numeric value the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError
from scenarist.metrics.values import ColumnKind, MetricValue


def require_columns(
    frames: Mapping[str, pd.DataFrame], kinds: Mapping[str, ColumnKind]
) -> list[str]:
    """Return the columns of `kinds`, after checking each named frame has all of them.

    `frames` maps a side name used in messages ("reference", "current") to its DataFrame.
    """
    if not kinds:
        raise InputDataError("no columns to compare: `kinds` is empty; pass at least one column")
    bad = {col: kind for col, kind in kinds.items() if kind not in get_args(ColumnKind)}
    if bad:
        raise ValueError(f"unknown column kinds {bad}; expected 'numeric' or 'categorical'")
    columns = list(kinds)
    for side, frame in frames.items():
        missing = [col for col in columns if col not in frame.columns]
        if missing:
            raise InputDataError(
                f"{side} data lacks column(s) {missing}; it has {list(frame.columns)[:20]}"
            )
    return columns


def numeric_column(series: pd.Series, *, side: str) -> np.ndarray:
    """The values of a numeric column as float64 (missing → NaN); non-numbers are an error."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    bad = values.isna() & series.notna()
    if bad.any():
        example = series[bad].iloc[0]
        raise InputDataError(
            f"column {series.name!r} of the {side} data is declared numeric but holds "
            f"{int(bad.sum())} non-numeric value(s), e.g. {example!r}; "
            "declare it categorical or clean the data"
        )
    return values.to_numpy()


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if flags.size else float("nan")


def data_quality(
    reference: pd.DataFrame, current: pd.DataFrame, *, kinds: Mapping[str, ColumnKind]
) -> list[MetricValue]:
    """Row count, missing shares, unseen categories and out-of-range numbers of `current`."""
    columns = require_columns({"reference": reference, "current": current}, kinds)
    metrics = [
        MetricValue("row_count", float(len(current))),
        MetricValue("missing_share", _share(current[columns].isna().to_numpy())),
    ]
    for col in columns:
        cur = current[col]
        metrics.append(MetricValue("missing_share", _share(cur.isna().to_numpy()), col))
        if kinds[col] == "categorical":
            cur_values = cur.dropna()
            unseen = ~cur_values.isin(reference[col].dropna().unique())
            metrics.append(MetricValue("unseen_category_share", _share(unseen.to_numpy()), col))
        else:
            ref_values = numeric_column(reference[col], side="reference")
            ref_values = ref_values[~np.isnan(ref_values)]
            cur_values = numeric_column(cur, side="current")
            cur_values = cur_values[~np.isnan(cur_values)]
            if ref_values.size:
                outside = (cur_values < ref_values.min()) | (cur_values > ref_values.max())
                share = _share(outside)
            else:
                share = float("nan")
            metrics.append(MetricValue("out_of_range_share", share, col))
    return metrics
