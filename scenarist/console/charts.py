"""Chart data for the console's pages: plotly figures as JSON-able dicts.

The figures of the HTML report (`scenarist.reports.charts`: metric history with check bands and
95% intervals, reference-vs-current histograms) drawn as plain {data, layout} dicts with the
same zones and colours (building plotly Figure objects costs ~100 ms a chart), plus small ones
(sparklines, drift vs importance, CBPE estimated vs realized). Templates embed a figure with
`<script type="application/json" class="figure" data-target="ID">{{ figure|tojson }}</script>`
(`tojson` escapes `<`, `>`, `&` and `'`, so a feature name cannot close the script) and
`static/console.js` draws it with the plotly.js served by the console.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from scenarist.reports.charts import CURRENT_COLOR, REFERENCE_COLOR, _zones

CONFIG = {"displaylogo": False, "responsive": True}


def metric_history(metric: str, labels: Sequence[str], values: Sequence[float],
                   bands: Sequence[Mapping[str, Any]],
                   interval: tuple[Sequence[float], Sequence[float]] | None) -> dict[str, Any]:
    """A metric over the evaluations, the checks' WARNING/ERROR zones shaded (the zones of the
    report's `history_chart`), 95% intervals as error bars. Built as a dict: a plotly Figure
    with shapes costs ~100 ms each, too slow for a page of several charts."""
    shown = [_present(v) for v in values]
    finite = [v for v in shown if v is not None]
    trace: dict[str, Any] = {"type": "scatter", "mode": "lines+markers", "name": metric,
                             "x": list(labels), "y": shown, "line": {"color": CURRENT_COLOR}}
    if interval is not None:
        lower, upper = ([_present(b) for b in side] for side in interval)
        finite += [b for b in lower + upper if b is not None]
        trace["error_y"] = {
            "type": "data", "symmetric": False, "color": CURRENT_COLOR, "thickness": 1,
            "array": [None if v is None or u is None else u - v
                      for v, u in zip(shown, upper, strict=True)],
            "arrayminus": [None if v is None or lo is None else v - lo
                           for v, lo in zip(shown, lower, strict=True)]}
    limits = [b for band in bands for b in band.values() if isinstance(b, int | float)]
    low, high = min(finite + limits, default=0.0), max(finite + limits, default=1.0)
    pad = (high - low) * 0.15 or 0.1
    bottom, top = low - pad, high + pad
    shapes, notes = [], []
    for band in bands:
        shapes += [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "y0": y0, "y1": y1,
                    "fillcolor": fill, "line": {"width": 0}, "layer": "below"}
                   for y0, y1, fill in _zones(band, bottom, top)]
        for name, bound in band.items():
            if isinstance(bound, int | float):
                shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": bound,
                               "y1": bound, "line": {"dash": "dot", "width": 1}})
                notes.append({"xref": "paper", "x": 0, "y": bound, "yanchor": "bottom",
                              "xanchor": "left", "showarrow": False,
                              "text": f"{name} {bound:g}"})
    return {"data": [trace], "layout": {
        "title": {"text": metric}, "height": 280, "plot_bgcolor": "#fff",
        "margin": {"l": 40, "r": 20, "t": 40, "b": 30}, "showlegend": False,
        "yaxis": {"range": [bottom, top]}, "xaxis": {"type": "category"},
        "shapes": shapes, "annotations": notes}}


def _present(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def histogram(bins: Mapping[str, Any]) -> dict[str, Any]:
    """Reference vs current share of rows per stored bin (the report's `histogram_chart`, as a
    small dict: a page may draw fifty)."""
    reference, current = bins["reference"], bins["current"]
    ref_total, cur_total = sum(reference) or 1, sum(current) or 1
    bars = [{"type": "bar", "x": list(bins["bins"]), "y": [c / total for c in counts],
             "name": name, "marker": {"color": colour}}
            for name, counts, total, colour in (("reference", reference, ref_total,
                                                 REFERENCE_COLOR),
                                                ("current", current, cur_total, CURRENT_COLOR))]
    return {"data": bars,
            "layout": {"barmode": "group", "height": 110, "width": 240, "showlegend": False,
                       "margin": {"l": 30, "r": 4, "t": 4, "b": 20},
                       "yaxis": {"tickformat": ".0%"}, "xaxis": {"showticklabels": False}},
            "config": {"displayModeBar": False}}


def estimated_vs_realized(rows: Sequence[tuple[str, float, float, float]]) -> dict[str, Any]:
    """CBPE: each estimated metric (with its expected error as an error bar) beside the
    realized one. `rows`: (metric, estimated, realized, error)."""
    names = [r[0] for r in rows]

    def present(value: float) -> float | None:
        return None if value is None or math.isnan(value) else value

    return {"data": [
        {"type": "bar", "name": "estimated (CBPE)", "x": names,
         "y": [present(r[1]) for r in rows], "marker": {"color": REFERENCE_COLOR},
         "error_y": {"type": "data", "array": [present(r[3]) for r in rows]}},
        {"type": "bar", "name": "realized", "x": names, "y": [present(r[2]) for r in rows],
         "marker": {"color": CURRENT_COLOR}}],
        "layout": {"barmode": "group", "height": 280, "plot_bgcolor": "#fff",
                   "margin": {"l": 40, "r": 20, "t": 20, "b": 40}}}


def sparkline(values: Sequence[float]) -> dict[str, Any]:
    """A tiny line of the values, no axes."""
    shown = [None if v is None or math.isnan(v) else v for v in values]
    return {"data": [{"type": "scatter", "mode": "lines+markers", "y": shown,
                      "line": {"color": CURRENT_COLOR, "width": 1.5}, "marker": {"size": 3},
                      "hoverinfo": "y"}],
            "layout": {"height": 36, "width": 160, "margin": {"l": 2, "r": 2, "t": 2, "b": 2},
                       "xaxis": {"visible": False}, "yaxis": {"visible": False},
                       "showlegend": False, "paper_bgcolor": "rgba(0,0,0,0)",
                       "plot_bgcolor": "rgba(0,0,0,0)"},
            "config": {"staticPlot": True}}


def drift_vs_importance(rows: Sequence[Mapping[str, Any]], whose: str = "model"
                        ) -> dict[str, Any]:
    """DataRobot's chart: one point per feature, importance (x, in `whose` model) against drift
    (y), drifted features in red. `rows` carry feature, importance, score, drifted."""
    shown = [r for r in rows if r.get("importance") is not None]
    colour = ["#c62828" if r["drifted"] else CURRENT_COLOR for r in shown]
    return {"data": [{"type": "scatter", "mode": "markers+text",
                      "x": [r["importance"] for r in shown], "y": [r["score"] for r in shown],
                      "text": [r["feature"] for r in shown], "textposition": "top center",
                      "marker": {"color": colour, "size": 9}, "hoverinfo": "text+x+y"}],
            "layout": {"height": 320, "plot_bgcolor": "#fff", "showlegend": False,
                       "margin": {"l": 50, "r": 20, "t": 20, "b": 45},
                       "xaxis": {"title": {"text": f"feature importance ({whose})"}},
                       "yaxis": {"title": {"text": "drift score"}}}}
