"""The HTML evaluation report: one self-contained file (plotly.js inlined) that opens offline.

    html = render_report(store, label="2017Q4", checks=project.checks, results=history)
    path = write_report(project, "the_MES", label="2017Q4", output="report.html")

For one evaluation (default: the latest) and for the store over time: key metric history charts
with the checks' WARNING/ERROR zones shaded, this evaluation's check results, the per-feature
drift table (drifted first, then by PSI) with the test used and its score, reference-vs-current
histograms of the drifted features, performance and data quality. Everything comes from the
store; nothing is recomputed from raw data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from plotly.offline import get_plotlyjs

from scenarist.errors import NotFoundError
from scenarist.metrics import sufficiency
from scenarist.metrics.cbpe import ESTIMATED
from scenarist.reports.charts import histogram_chart, history_chart
from scenarist.reports.segments import segment_rows
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.evaluation_store import EvaluationStore

HISTORY_METRICS = ("data_drift", "drift_share", "prediction_drift", "auc", "accuracy",
                   "f1_macro", "rmse", "mae")
PERFORMANCE_METRICS = ("auc", "accuracy", "precision", "recall", "f1", "logloss", "f1_macro",
                       "rmse", "mae", "r2", "mape", "labeled_rows")
DRIFT_COLUMNS = ("ks_pvalue", "adjusted_pvalue", "wasserstein", "chi2_pvalue", "z_pvalue", "psi",
                 "js_distance")
MAX_HISTOGRAMS = 12

_ENV = Environment(
    loader=PackageLoader("scenarist.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
)


def _number(value: Any) -> str:
    """4 significant digits; whole numbers in full (20000, not 2e+04); "–" for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4g}"
    return str(value)


_ENV.filters["num"] = _number


def render_report(
    store: EvaluationStore,
    *,
    label: str | None = None,
    checks: Mapping[str, Any] | None = None,
    results: pd.DataFrame | None = None,
) -> str:
    """The report of evaluation `label` (default: the latest) of `store` as HTML text.

    `checks`: the project's check specs (their bounds shade the history charts);
    `results`: the stored check history (`scenarist.stores.check_results.check_history`)."""
    evaluation = store.get(label) if label is not None else store.latest()
    if evaluation is None:
        raise NotFoundError(f"store {store.name!r} has no evaluation yet; nothing to report")
    own_checks = {
        name: spec for name, spec in (checks or {}).items()
        if getattr(spec, "store", None) == store.name
    }
    custom = list(evaluation.details.get("custom_metrics") or {})
    history = _history_figures(store, own_checks, custom)
    segment_columns, segments = segment_rows(store, evaluation, results, custom)
    features = _feature_rows(evaluation)
    drifted = [row["feature"] for row in features if row["drifted"]][:MAX_HISTOGRAMS]
    histograms = evaluation.details.get("histograms", {})
    return _ENV.get_template("report.html.j2").render(
        plotly_js=get_plotlyjs(),
        store=store.name,
        evaluation=evaluation,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        summary=_summary(evaluation),
        history=history,
        check_rows=_check_rows(results, evaluation),
        features=features,
        drift_columns=[c for c in DRIFT_COLUMNS if any(c in row["stats"] for row in features)],
        histograms=[
            _figure_html(histogram_chart(f, histograms[f]), f"hist-{i}")
            for i, f in enumerate(drifted) if f in histograms
        ],
        performance=[(m, evaluation.metric(m), _interval(evaluation, m))
                     for m in PERFORMANCE_METRICS if m in evaluation.metrics],
        estimates=_estimate_rows(evaluation),
        calibration=(evaluation.details.get("cbpe") or {}).get("reason", ""),
        revisions=store.revisions(evaluation.label),
        insufficient=sufficiency.summary(evaluation.details),
        quality=_quality_rows(evaluation),
        segment_columns=segment_columns,
        segments=segments,
        custom_metrics=[(m, evaluation.metric(m),
                         (evaluation.details["custom_metrics"][m] or {}).get("error", ""))
                        for m in custom if m in evaluation.metrics],
    )


def _estimate_rows(evaluation: Evaluation) -> list[tuple[str, float, float, float]]:
    """CBPE: each estimate beside the realized value and the error, when labels came."""
    return [(m, evaluation.metric(f"estimated_{m}"), evaluation.metric(m),
             evaluation.metric(f"estimated_{m}_error"))
            for m in ESTIMATED if f"estimated_{m}" in evaluation.metrics]


def write_report(project: Any, store_name: str, *, label: str | None = None,
                 output: Path | str | None = None) -> Path:
    """Render the report of a project's store to `output` (default under .scenarist/reports/)."""
    from scenarist.operations.build import open_store
    from scenarist.operations.checking import store_engine
    from scenarist.stores.check_results import check_history

    store = open_store(project, store_name)
    results = check_history(store_engine(project, store_name), store=store_name)
    evaluation_label = label or (store.latest().label if store.latest() else None)
    html = render_report(store, label=label, checks=project.checks, results=results)
    path = Path(output) if output else (
        project.root / ".scenarist" / "reports" / store_name / f"{evaluation_label}.html"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)  # readers never see a half-written report
    return path


def _history_figures(store: EvaluationStore, checks: Mapping[str, Any],
                     custom: Sequence[str] = ()) -> list[str]:
    names = set(store.metric_names())
    figures = []
    for metric in dict.fromkeys([*HISTORY_METRICS, *custom]):
        if metric not in names:
            continue
        series = store.history(metric)
        bands = [spec.bounds() for spec in checks.values()
                 if spec.metric == metric and spec.feature is None and spec.type == "numeric_range"]
        lower, upper = (store.history(f"{metric}.{side}") if f"{metric}.{side}" in names
                        else None for side in ("lower", "upper"))
        figure = history_chart(metric, list(series.index), list(series.values), bands,
                               interval=None if lower is None or upper is None
                               else (list(lower.values), list(upper.values)))
        figures.append(_figure_html(figure, f"history-{metric}"))
    return figures


def _summary(evaluation: Evaluation) -> list[tuple[str, Any]]:
    rows = [("rows", evaluation.row_count), ("reference rows", evaluation.reference_row_count)]
    for name in ("data_drift", "drift_model_accuracy", "drift_model_pvalue", "drift_share",
                 "n_drifted_features", "prediction_drift"):
        if name in evaluation.metrics:
            rows.append((name, evaluation.metric(name)))
    interval = _interval(evaluation, "data_drift")
    if interval:
        rows.append(("data_drift 95% interval", interval))
    return rows


def _interval(evaluation: Evaluation, metric: str) -> str:
    """"[lower, upper]" of the metric's stored 95% interval; "" when it has none."""
    low, high = evaluation.metric(f"{metric}.lower"), evaluation.metric(f"{metric}.upper")
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"[{_number(low)}, {_number(high)}]"


def _feature_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    table = evaluation.feature_table()
    methods = evaluation.details.get("drift_methods", {})
    kinds = evaluation.details.get("column_kinds", {})
    thresholds = evaluation.details.get("drift_thresholds", {})
    rows = []
    for feature, stats in table.iterrows():
        if "feature_drift" not in stats or pd.isna(stats.get("feature_drift")):
            continue
        rows.append({
            "feature": feature,
            "kind": kinds.get(feature, ""),
            "method": methods.get(feature, ""),
            "score": float(stats["feature_drift"]),
            "threshold": thresholds.get(feature),
            "drifted": bool(stats.get("drifted", 0) == 1),
            "stats": {k: float(v) for k, v in stats.items() if not pd.isna(v)},
        })
    rows.sort(key=lambda r: (not r["drifted"], -r["stats"].get("psi", 0.0), r["feature"]))
    return rows


def _quality_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    table = evaluation.feature_table()
    columns = [c for c in ("missing_share", "unseen_category_share", "out_of_range_share")
               if c in table.columns]
    return [
        {"feature": feature, **{c: row.get(c) for c in columns}}
        for feature, row in table[columns].iterrows()
    ] if columns else []


def _check_rows(results: pd.DataFrame | None, evaluation: Evaluation) -> list[dict[str, Any]]:
    if results is None or results.empty:
        return []
    mine = results[results["evaluation_label"] == evaluation.label]
    keys = ["check", "segment"] if "segment" in mine.columns else ["check"]
    latest = mine.groupby(keys, sort=False, observed=True, dropna=False).tail(1)
    return [
        {"name": r["check"], "outcome": str(r["outcome"]), "value": r["value"],
         "message": r["message"]}
        for _, r in latest.iterrows()
    ]


def _figure_html(figure: Any, div_id: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
