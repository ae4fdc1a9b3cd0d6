"""Plotly figures of an evaluation store: metric history with check bands, histogram overlays.

Pure functions from stored numbers to `plotly.graph_objects.Figure`s; `html.py` embeds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

WARNING_FILL = "rgba(255, 193, 7, 0.18)"
ERROR_FILL = "rgba(220, 53, 69, 0.18)"
REFERENCE_COLOR = "#6c757d"
CURRENT_COLOR = "#0d6efd"


def history_chart(
    metric: str,
    labels: Sequence[str],
    values: Sequence[float],
    bands: Sequence[Mapping[str, Any]],
    interval: tuple[Sequence[float], Sequence[float]] | None = None,
) -> go.Figure:
    """`metric` over the evaluations, with each check's WARNING and ERROR zones shaded.

    `bands` are check bounds ({"soft_max": 0.45, "hard_min": …}); above a soft maximum up to the
    hard maximum is the WARNING zone, beyond a hard bound the ERROR zone. `interval` (lower and
    upper bounds per evaluation) draws each value's 95% interval as an error bar."""
    shown = [_present(v) for v in values]
    finite = [v for v in shown if v is not None]
    error_y = None
    if interval is not None:
        lower, upper = ([_present(b) for b in side] for side in interval)
        finite += [b for b in lower + upper if b is not None]
        error_y = {"type": "data", "symmetric": False, "color": CURRENT_COLOR, "thickness": 1,
                   "array": [None if v is None or u is None else u - v
                             for v, u in zip(shown, upper, strict=True)],
                   "arrayminus": [None if v is None or lo is None else v - lo
                                  for v, lo in zip(shown, lower, strict=True)]}
    limits = [b for band in bands for b in band.values() if isinstance(b, (int, float))]
    low = min(finite + limits, default=0.0)
    high = max(finite + limits, default=1.0)
    pad = (high - low) * 0.15 or 0.1
    bottom, top = low - pad, high + pad
    figure = go.Figure(
        go.Scatter(x=list(labels), y=shown, mode="lines+markers", name=metric,
                   line={"color": CURRENT_COLOR}, connectgaps=False, error_y=error_y)
    )
    for band in bands:
        for y0, y1, fill in _zones(band, bottom, top):
            figure.add_hrect(y0=y0, y1=y1, fillcolor=fill, line_width=0, layer="below")
        for name, bound in band.items():
            if isinstance(bound, (int, float)):
                figure.add_hline(y=bound, line_dash="dot", line_width=1,
                                 annotation_text=f"{name} {bound:g}",
                                 annotation_position="top left")
    figure.update_layout(
        title=metric, height=280, margin={"l": 40, "r": 20, "t": 40, "b": 30},
        yaxis={"range": [bottom, top]}, xaxis={"type": "category"}, showlegend=False,
        template="plotly_white",
    )
    return figure


def _present(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def histogram_chart(feature: str, histogram: Mapping[str, Any]) -> go.Figure:
    """Reference vs current share of rows in each bin (grouped bars)."""
    reference, current = histogram["reference"], histogram["current"]
    ref_total, cur_total = sum(reference) or 1, sum(current) or 1
    figure = go.Figure(
        [
            go.Bar(x=histogram["bins"], y=[c / ref_total for c in reference], name="reference",
                   marker_color=REFERENCE_COLOR),
            go.Bar(x=histogram["bins"], y=[c / cur_total for c in current], name="current",
                   marker_color=CURRENT_COLOR),
        ]
    )
    figure.update_layout(
        title=feature, barmode="group", height=260, yaxis={"tickformat": ".0%"},
        margin={"l": 40, "r": 20, "t": 40, "b": 60}, template="plotly_white",
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
    )
    return figure


def _zones(band: Mapping[str, Any], bottom: float, top: float) -> list[tuple[float, float, str]]:
    zones = []
    soft_max, hard_max = band.get("soft_max"), band.get("hard_max")
    soft_min, hard_min = band.get("soft_min"), band.get("hard_min")
    if soft_max is not None:
        zones.append((soft_max, hard_max if hard_max is not None else top, WARNING_FILL))
    if hard_max is not None:
        zones.append((hard_max, top, ERROR_FILL))
    if soft_min is not None:
        zones.append((hard_min if hard_min is not None else bottom, soft_min, WARNING_FILL))
    if hard_min is not None:
        zones.append((bottom, hard_min, ERROR_FILL))
    return zones
