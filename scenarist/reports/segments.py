"""The report's segment table: one row per segment of the evaluation, the worst first.

Worst means: the worst outcome of the segment's stored check results for this evaluation
(ERROR > WARNING > EMPTY > OK), then the highest `data_drift`, then `drift_share`; segments
without metrics (too few rows) come after the computed ones with the same outcome.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from scenarist.checks.outcome import Outcome

SEGMENT_METRICS = ("row_count", "data_drift", "drift_share", "prediction_drift", "auc",
                   "accuracy", "rmse")
_RANK = {str(o): i for i, o in enumerate(Outcome)}


def segment_rows(store: Any, evaluation: Any, results: pd.DataFrame | None,
                 custom: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns shown and one row per segment (worst first); ([], []) without segments."""
    if not evaluation.details.get("segments"):
        return [], []
    table = store.segment_table(evaluation.label)
    columns = [c for c in (*SEGMENT_METRICS, *custom) if c in table.columns]
    outcomes = _worst_outcomes(results, evaluation.label)
    rows = []
    for segment, row in table.iterrows():
        worst = outcomes.get(str(segment))
        rows.append({
            "segment": segment,
            "status": row["status"],
            "outcome": worst or "",
            "reason": row["reason"] or "",
            "values": {c: _float(row.get(c)) for c in columns},
        })

    def severity(row: dict[str, Any]) -> tuple[Any, ...]:
        values = row["values"]
        return (-_RANK.get(row["outcome"], -1), row["status"] != "computed",
                -_or_low(values.get("data_drift")), -_or_low(values.get("drift_share")),
                str(row["segment"]))

    return columns, sorted(rows, key=severity)


def _worst_outcomes(results: pd.DataFrame | None, label: str) -> dict[str, str]:
    if results is None or results.empty or "segment" not in results.columns:
        return {}
    mine = results[(results["evaluation_label"] == label) & results["segment"].notna()]
    latest = mine.groupby(["check", "segment"], sort=False, observed=True).tail(1)
    worst: dict[str, str] = {}
    for _, r in latest.iterrows():
        current = worst.get(r["segment"])
        if current is None or _RANK[str(r["outcome"])] > _RANK[current]:
            worst[r["segment"]] = str(r["outcome"])
    return worst


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _or_low(value: float | None) -> float:
    return -math.inf if value is None or math.isnan(value) else value
