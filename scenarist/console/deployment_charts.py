"""Plotly figures of a deployment's tabs, as plain dicts (templates embed them with `tojson`).

Every number comes from the `Deployment` API (hourly rollups, stored evaluations); these
functions only lay it out. NaN becomes null (JSON has no NaN), times become ISO strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

Figure = dict[str, Any]


def _values(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
        elif isinstance(value, pd.Timestamp):
            out.append(value.isoformat())
        else:
            out.append(float(value) if not isinstance(value, str) else value)
    return out


def line(series: pd.Series, name: str, **extra: Any) -> dict[str, Any]:
    """One line trace of `series` (index: times or labels)."""
    x = [i.isoformat() if isinstance(i, pd.Timestamp) else str(i) for i in series.index]
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
            "y": _values(series.to_numpy()), **extra}


def figure(traces: list[dict[str, Any]], title: str, unit: str = "",
           **layout: Any) -> Figure:
    """A figure of `traces`; `layout` entries override the defaults (e.g. `yaxis`)."""
    return {"data": traces,
            "layout": {"title": {"text": title}, "height": 300,
                       "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
                       "yaxis": {"title": {"text": unit}}, "legend": {"orientation": "h"},
                       **layout}}


def service_figures(series: Mapping[str, pd.Series]) -> list[Figure]:
    """Predictions and requests, latency p50/p90, error rate (one `series` per service metric
    of `Deployment.get_service_stats_over_time`)."""
    return [
        figure([line(series["total_predictions"], "predictions"),
                line(series["total_requests"], "requests")], "Predictions and requests",
               "count"),
        figure([line(series["median_request_ms"], "p50"),
                line(series["p90_request_ms"], "p90")], "Request time", "ms"),
        figure([line(series["error_rate"], "error rate")], "Error rate",
               yaxis={"title": {"text": "errors / requests"}, "tickformat": ".1%"}),
    ]


def accuracy_figure(frame: pd.DataFrame, metrics: list[str]) -> Figure:
    """Accuracy metrics per bucket (`Deployment.get_accuracy_over_time_frame`)."""
    return figure([line(frame[m], m) for m in metrics], "Accuracy over time", "value")


def warnings_figure(frame: pd.DataFrame) -> Figure:
    """Predictions flagged by the prediction warning bounds, per bucket."""
    return figure([line(frame["warnings"], "warnings"),
                   line(frame["warning_rate"], "warning rate", yaxis="y2")],
                  "Prediction warnings", "warnings",
                  yaxis2={"overlaying": "y", "side": "right", "tickformat": ".1%",
                          "title": {"text": "rate"}})


def drift_over_time(histories: Mapping[str, pd.Series], metric: str) -> Figure:
    """One line per feature: `metric` of each stored evaluation of the deployment."""
    return figure([line(series, name) for name, series in histories.items()],
                  f"Drift per feature over time ({metric})", metric)
