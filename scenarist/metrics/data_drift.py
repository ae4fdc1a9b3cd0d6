"""Dataset-level drift from a domain classifier (Dataiku Model Evaluation Store style).

A random forest learns to tell reference rows (label 0) from current rows (label 1). The two
sides are class-balanced: ``n = min(len(reference), len(current), max_rows_per_side)`` rows are
drawn from each side without replacement (seeded), then split into train and held-out rows,
stratified by side. On the held-out rows:

- ``drift_model_accuracy`` = share of held-out rows whose side is predicted right; 0.5 means the
  two sets cannot be told apart (Dataiku's number).
- ``drift_model_pvalue`` = one-sided exact binomial test of accuracy > 0.5
  (``scipy.stats.binomtest(correct, n_test, 0.5, alternative="greater").pvalue``).
- ``drift_model_accuracy.lower`` / ``.upper`` = two-sided 95% Wilson score interval of the
  accuracy (``scenarist.metrics.intervals.wilson``, equal to
  ``binomtest(...).proportion_ci(0.95, method="wilson")``).
- ``data_drift`` = ``max(0, 2 * (accuracy - 0.5))`` in [0, 1]; 0 = indistinguishable, 1 = every
  held-out row classified right. ``data_drift.lower/.upper`` apply the same map to the bounds.
- ``feature_importance[col]`` = the forest's impurity importance summed over the encoded
  columns of ``col`` (value and missing indicator); sums to 1 unless no tree split at all.

Encoding: a numeric column becomes its value clipped to +-1e20 and cast to float32 (``inf``
stays the most extreme value and sklearn's float32 sums stay finite), missing values filled by
the median of the reference sample, plus a ``<col>__missing`` indicator when the sample has
missing values. A categorical column becomes an ordinal code over the union of categories in
order of first appearance (reference sample first); missing values share the code -1.

Cost is bounded by the cap, not by the batch: at most ``2 * max_rows_per_side`` rows are encoded
and each of the ``n_estimators`` trees (depth <= ``max_depth``) is grown on a bootstrap of at most
``ROWS_PER_TREE`` rows. Measured with the defaults (n_jobs=2 on 2 cores shared with other work,
load average 3-5) on 50k + 50k rows x 25 columns (20 numeric, 5 categorical): 3.4-3.8 s of CPU,
3.5-7 s wall; with 1M + 1M input rows: 4.0-4.2 s CPU, 4.5-6.2 s wall (only the sampling grows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from scenarist.errors import InputDataError
from scenarist.metrics.intervals import interval_values, wilson
from scenarist.metrics.quality import numeric_column, require_columns
from scenarist.metrics.values import ColumnKind, MetricValue

MIN_ROWS_PER_SIDE = 20
VALUE_BOUND = 1e20  # numbers are clipped to +-VALUE_BOUND before the float32 cast
ROWS_PER_TREE = 10_000  # bootstrap size of each tree: bounds the fit cost at any batch size


def _drift(accuracy: float) -> float:
    return float("nan") if np.isnan(accuracy) else max(0.0, 2.0 * (accuracy - 0.5))


@dataclass(frozen=True)
class DataDrift:
    """The domain classifier's verdict on one current batch against its reference."""

    drift_model_accuracy: float
    drift_model_pvalue: float
    accuracy_ci_low: float
    accuracy_ci_high: float
    data_drift: float
    n_reference: int
    n_current: int
    n_test: int
    feature_importance: Mapping[str, float]

    def metric_values(self) -> list[MetricValue]:
        """The stored metrics: dataset-level numbers, then one importance per feature."""
        values = [
            MetricValue("data_drift", self.data_drift),
            *interval_values("data_drift", _drift(self.accuracy_ci_low),
                             _drift(self.accuracy_ci_high)),
            MetricValue("drift_model_accuracy", self.drift_model_accuracy),
            *interval_values("drift_model_accuracy", self.accuracy_ci_low,
                             self.accuracy_ci_high),
            MetricValue("drift_model_pvalue", self.drift_model_pvalue),
        ]
        values += [
            MetricValue("drift_model_importance", imp, col)
            for col, imp in self.feature_importance.items()
        ]
        return values


@dataclass(frozen=True)
class DomainClassifierFit:
    """The fitted domain classifier and its held-out rows, for inspection and tests."""

    model: RandomForestClassifier
    x_test: np.ndarray  # encoded held-out rows, columns named by `encoded_columns`
    y_test: np.ndarray  # 0 = reference row, 1 = current row
    encoded_columns: list[str]
    source_columns: list[str]  # the original column of each encoded column
    n_per_side: int


def _encode(
    ref: pd.DataFrame, cur: pd.DataFrame, kinds: Mapping[str, ColumnKind]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Encode the stacked sample (reference rows first): matrix, column names, source columns."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    sources: list[str] = []

    def add(block: np.ndarray, name: str, source: str) -> None:
        blocks.append(block.astype(np.float32))
        names.append(name)
        sources.append(source)

    sides = ((ref, "reference"), (cur, "current"))
    for col, kind in kinds.items():
        if kind == "categorical":
            add(pd.factorize(pd.concat([ref[col], cur[col]], ignore_index=True))[0], col, col)
            continue
        ref_num, cur_num = (numeric_column(f[col], side=s) for f, s in sides)
        values = np.clip(np.concatenate([ref_num, cur_num]), -VALUE_BOUND, VALUE_BOUND)
        missing = np.isnan(values)
        ref_present = values[: len(ref)][~missing[: len(ref)]]
        fill = float(np.median(ref_present)) if ref_present.size else 0.0
        add(np.where(missing, fill, values), col, col)
        if missing.any():
            add(missing, f"{col}__missing", col)
    return np.column_stack(blocks), names, sources


def fit_domain_classifier(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    kinds: Mapping[str, ColumnKind],
    max_rows_per_side: int = 50_000,
    test_size: float = 0.3,
    random_state: int = 0,
    n_estimators: int = 50,
    max_depth: int = 10,
    n_jobs: int = 2,
) -> DomainClassifierFit:
    """Sample, encode, split and fit the reference-vs-current classifier (see module doc)."""
    columns = require_columns({"reference": reference, "current": current}, kinds)
    if max_rows_per_side < MIN_ROWS_PER_SIDE:
        raise ValueError(f"max_rows_per_side must be at least {MIN_ROWS_PER_SIDE}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    for side, frame in (("reference", reference), ("current", current)):
        if len(frame) < MIN_ROWS_PER_SIDE:
            raise InputDataError(
                f"data drift needs at least {MIN_ROWS_PER_SIDE} rows on each side; "
                f"the {side} data has {len(frame)}"
            )
    n = min(len(reference), len(current), max_rows_per_side)
    rng = np.random.default_rng(random_state)
    ref = reference[columns].iloc[rng.choice(len(reference), n, replace=False)]
    cur = current[columns].iloc[rng.choice(len(current), n, replace=False)]
    x, names, sources = _encode(ref, cur, kinds)
    y = np.repeat(np.array([0, 1], dtype=np.int8), n)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=random_state
    )
    model = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        min_samples_leaf=5,
        max_features="sqrt",
        max_samples=min(len(y_train), ROWS_PER_TREE),
        n_jobs=n_jobs,
        random_state=random_state,
    )
    model.fit(x_train, y_train)
    return DomainClassifierFit(model, x_test, y_test, names, sources, n)


def domain_classifier_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    kinds: Mapping[str, ColumnKind],
    max_rows_per_side: int = 50_000,
    test_size: float = 0.3,
    random_state: int = 0,
    n_estimators: int = 50,
    max_depth: int = 10,
    n_jobs: int = 2,
) -> DataDrift:
    """Dataset-level drift of `current` against `reference` over the columns of `kinds`."""
    fit = fit_domain_classifier(
        reference,
        current,
        kinds=kinds,
        max_rows_per_side=max_rows_per_side,
        test_size=test_size,
        random_state=random_state,
        n_estimators=n_estimators,
        max_depth=max_depth,
        n_jobs=n_jobs,
    )
    n_test = len(fit.y_test)
    correct = int((fit.model.predict(fit.x_test) == fit.y_test).sum())
    accuracy = correct / n_test
    pvalue = binomtest(correct, n_test, 0.5, alternative="greater").pvalue
    low, high = wilson(correct, n_test)
    importance = dict.fromkeys(kinds, 0.0)
    for source, value in zip(fit.source_columns, fit.model.feature_importances_, strict=True):
        importance[source] += float(value)
    return DataDrift(
        drift_model_accuracy=accuracy,
        drift_model_pvalue=float(pvalue),
        accuracy_ci_low=float(low),
        accuracy_ci_high=float(high),
        data_drift=_drift(accuracy),
        n_reference=fit.n_per_side,
        n_current=fit.n_per_side,
        n_test=n_test,
        feature_importance=importance,
    )
