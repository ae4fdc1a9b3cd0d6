"""Segments: every metric again on the rows of one value of a column that is not (necessarily)
a model feature — drift that hides in one device type or one state shows here.

    options = SegmentOptions(by=("device", "merchant_state"), top_n=10, min_rows=100)
    computed = segmented(compute, current, reference, options)
    computed = compute_with_segments(model, current, reference, segments=options,
                                     custom_metrics={"approval_rate": fn})

Each `by` column is segmented on its own (no cross product): its `top_n` most frequent values in
the reference (in the current batch when the reference lacks the column) are segments named
"column=value"; every other value, and a value the reference never had, is "column=other";
a missing value is "column=missing". A segment's current rows are compared with the reference
rows of the same segment (the whole reference when the reference lacks the column), by the same
`compute(current, reference)` that computes all rows, so every built-in and custom metric exists
per segment. The values are stored with `segment` set; a segment with fewer than `min_rows`
current (or reference) rows, or whose computation failed, has only `row_count` and its reason in
`details["segments"][name]` — its checks are EMPTY.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from scenarist.errors import InputDataError
from scenarist.metrics.custom import CustomMetric, with_custom_metrics
from scenarist.metrics.evaluation import ComputedEvaluation, EvaluationOptions, compute_evaluation
from scenarist.metrics.values import MetricValue

OTHER = "other"
MISSING = "missing"
MAX_NAME = 300  # the store's segment column is VARCHAR(300)


@dataclass(frozen=True)
class SegmentOptions:
    """Which columns segment the rows, how many values each keeps, how few rows are too few."""

    by: tuple[str, ...]
    top_n: int = 10
    min_rows: int = 100

    def __post_init__(self) -> None:
        if self.top_n < 1 or self.min_rows < 1:
            raise ValueError("segment top_n and min_rows must be at least 1")


def segment_name(column: str, value: Any) -> str:
    """"device=mobile": how a segment is named in the store, in checks and in reports (past
    MAX_NAME characters, cut and suffixed with a hash of the whole name, so it stays unique)."""
    name = f"{column}={value}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{name[:MAX_NAME - 11]}…{digest}"


def segment_values(column: str, current: pd.DataFrame, reference: pd.DataFrame,
                   top_n: int) -> tuple[pd.Series, pd.Series | None]:
    """Each row's segment value in `current` and `reference` (None when it lacks the column)."""
    source = reference if column in reference.columns else current
    counts = _text(source[column]).value_counts(dropna=True)
    counts = counts.drop(MISSING, errors="ignore")
    kept = set(sorted(counts.index, key=lambda v: (-counts[v], v))[:top_n])

    def label(series: pd.Series) -> pd.Series:
        text = _text(series)
        return text.where(text.isin(kept) | (text == MISSING), OTHER)

    return label(current[column]), (label(reference[column]) if column in reference.columns
                                    else None)


def compute_with_segments(
    model: Any,
    current: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    options: EvaluationOptions | None = None,
    segments: SegmentOptions | None = None,
    custom_metrics: Mapping[str, CustomMetric] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> ComputedEvaluation:
    """`compute_evaluation` plus the custom metrics, for all rows and (with `segments`) for
    each segment: what an evaluation store records."""
    chosen = options or EvaluationOptions()

    def compute(rows: pd.DataFrame, base: pd.DataFrame) -> ComputedEvaluation:
        computed = compute_evaluation(model, rows, base, options=chosen, on_stage=on_stage)
        return with_custom_metrics(computed, custom_metrics or {}, model, rows, base)

    if segments is not None and segments.by:
        return segmented(compute, current, reference, segments)
    return compute(current, reference)


def segmented(
    compute: Callable[[pd.DataFrame, pd.DataFrame], Any],
    current: pd.DataFrame,
    reference: pd.DataFrame,
    options: SegmentOptions,
) -> Any:
    """`compute(current, reference)` (a ComputedEvaluation) for all rows, plus the same for each
    segment: its values carry `segment`, its facts go to `details["segments"]`."""
    missing = [c for c in options.by if c not in current.columns]
    if missing:
        raise InputDataError(
            f"segment column(s) {', '.join(map(repr, missing))} are not in the current batch; "
            f"its columns are {', '.join(map(str, current.columns))}. Add them to the input "
            "dataset (additional data beside the features) or remove them from `segment_by`.")
    whole = compute(current, reference)
    values: list[MetricValue] = []
    facts: dict[str, dict[str, Any]] = {}
    for column in options.by:
        current_values, reference_values = segment_values(column, current, reference,
                                                          options.top_n)
        for value in _ordered(current_values, reference_values):
            name = segment_name(column, value)
            rows = current[current_values.to_numpy() == value].reset_index(drop=True)
            base = reference if reference_values is None else \
                reference[reference_values.to_numpy() == value].reset_index(drop=True)
            values.append(MetricValue("row_count", float(len(rows)), segment=name))
            fact: dict[str, Any] = {"column": column, "value": value, "rows": len(rows),
                                    "reference_rows": len(base)}
            reason = _too_few(len(rows), len(base), options.min_rows)
            if reason is None:
                try:
                    part = compute(rows, base)
                except Exception as exc:  # noqa: BLE001 - one segment must not fail the rest
                    reason = f"{type(exc).__name__}: {exc}"
                else:
                    values.extend(replace(v, segment=name) for v in part.values
                                  if v.metric != "row_count")
                    fact.update(_segment_facts(part.details))
            fact["status"] = "computed" if reason is None else "empty"
            if reason is not None:
                fact["reason"] = reason
            facts[name] = fact
    details = {**whole.details, "segments": facts,
               "segment_options": {"by": list(options.by), "top_n": options.top_n,
                                   "min_rows": options.min_rows}}
    return replace(whole, values=[*whole.values, *values], details=details)


def _too_few(rows: int, reference_rows: int, min_rows: int) -> str | None:
    if rows < min_rows:
        return f"{rows} row(s) in the current batch, fewer than segment_min_rows ({min_rows})"
    if reference_rows < min_rows:
        return (f"{reference_rows} row(s) in the reference, fewer than segment_min_rows "
                f"({min_rows})")
    return None


def _segment_facts(details: dict[str, Any]) -> dict[str, Any]:
    """What a segment keeps of its computation's details (not its histograms)."""
    keep = ("drifted_features", "top_drifted_features", "custom_metrics", "labels")
    return {k: details[k] for k in keep if k in details}


def _ordered(current: pd.Series, reference: pd.Series | None) -> Sequence[str]:
    """Segment values: the kept ones by frequency, then `missing`, then `other`."""
    present = pd.concat([current, reference]) if reference is not None else current
    counts = present.value_counts()
    special = [v for v in (MISSING, OTHER) if v in counts.index]
    regular = sorted((v for v in counts.index if v not in special),
                     key=lambda v: (-counts[v], v))
    return [*regular, *special]


def _text(series: pd.Series) -> pd.Series:
    """Values as text; missing values as "missing" (floats that are whole numbers lose ".0")."""
    def one(value: Any) -> str:
        if value is None or value is pd.NA or value is pd.NaT or (
                isinstance(value, float) and math.isnan(value)):
            return MISSING
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return series.map(one).astype(object)
