"""Console pages: one evaluation — `/stores/{store}/evaluations/{label}` (the input data drift
pane, drift vs importance, performance with intervals, CBPE estimated vs realized, data quality,
segments worst first, revisions), its HTML report (`…/report`, from `scenarist.reports`) and
its export (`…/export?format=parquet|csv`, from `EvaluationStore.export`).

Every number is read from the store: the tables are the HTML report's own
(`scenarist.reports.html`), so the console and the report never disagree.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from scenarist.console import access, charts
from scenarist.console.state import render
from scenarist.errors import ConfigError
from scenarist.reports.html import (
    PERFORMANCE_METRICS,
    _estimate_rows,
    _feature_rows,
    _interval,
    _quality_rows,
    _summary,
)
from scenarist.reports.segments import segment_rows

router = APIRouter()

PVALUES = ("adjusted_pvalue", "ks_pvalue", "chi2_pvalue", "z_pvalue")
DISTANCES = ("wasserstein", "js_distance", "psi")
MAX_HISTOGRAMS = 60


@router.get("/stores/{store}/evaluations/{label}")
def evaluation_page(request: Request, store: str, label: str):
    project = access.project_of(request)
    history = access.open_named(project, store)
    evaluation = history.get(label)
    results = access.check_results(project, store)
    mine = results[results["evaluation_label"] == label]
    importance = access.model_importance(project, evaluation.model) or {}
    features = [_drift_row(row, evaluation, importance) for row in _feature_rows(evaluation)]
    histograms = evaluation.details.get("histograms") or {}
    estimates = _estimate_rows(evaluation)
    custom = list(evaluation.details.get("custom_metrics") or {})
    segment_columns, segments = segment_rows(history, evaluation, results, custom)
    return render(
        request, "evaluation.html", store=store, evaluation=evaluation,
        summary=_summary(evaluation), features=features,
        histograms={f["feature"]: charts.histogram(histograms[f["feature"]])
                    for f in features[:MAX_HISTOGRAMS] if f["feature"] in histograms},
        model_importance=bool(importance),
        scatter=charts.drift_vs_importance(features, "model" if importance else "drift model")
        if any(f["importance"] is not None for f in features) else None,
        checks=[{"name": r.check, "outcome": str(r.outcome), "value": r.value,
                 "message": r.message, "segment": r.segment}
                for r in mine.groupby(["check", "segment"], dropna=False, observed=True,
                                      sort=False).tail(1).itertuples()],
        performance=[(m, evaluation.metric(m), _interval(evaluation, m))
                     for m in PERFORMANCE_METRICS if m in evaluation.metrics],
        estimates=estimates,
        estimates_chart=charts.estimated_vs_realized(estimates) if estimates else None,
        calibration=(evaluation.details.get("cbpe") or {}).get("reason", ""),
        quality=_quality_rows(evaluation), segment_columns=segment_columns, segments=segments,
        revisions=history.revisions(label),
        custom=[(m, evaluation.metric(m)) for m in custom if m in evaluation.metrics],
        exportable=bool(evaluation.snapshot))


def _drift_row(row: dict[str, Any], evaluation: Any, importance: dict[str, float]
               ) -> dict[str, Any]:
    """A row of the drift pane: the report's feature row, its p-value and distance named, the
    model's importance of the feature (else the drift model's: how much the feature tells the
    batch from the reference) and the drift model's."""
    stats = row["stats"]
    pvalue = next(((name, stats[name]) for name in PVALUES if name in stats), None)
    distance = next(((name, stats[name]) for name in DISTANCES if name in stats), None)
    drift_model = evaluation.metric("drift_model_importance", row["feature"])
    drift_model = None if math.isnan(drift_model) else drift_model
    own = importance.get(row["feature"]) if importance else drift_model
    return {**row, "pvalue": pvalue, "distance": distance, "importance": own,
            "drift_importance": drift_model}


@router.get("/stores/{store}/evaluations/{label}/report")
def evaluation_report(request: Request, store: str, label: str) -> HTMLResponse:
    from scenarist.reports.html import render_report

    project = access.project_of(request)
    history = access.open_named(project, store)
    html = render_report(history, label=label, checks=access.store_checks(project, store),
                         results=access.check_results(project, store))
    return HTMLResponse(html)


@router.get("/stores/{store}/evaluations/{label}/export")
def evaluation_export(request: Request, store: str, label: str, format: str = "parquet"):
    if format not in ("parquet", "csv"):
        raise ConfigError(f"unknown export format {format!r}; choose parquet or csv")
    project = access.project_of(request)
    history = access.open_named(project, store)
    folder = Path(tempfile.mkdtemp(prefix="scenarist-export-"))
    path = history.export(label, folder / f"{store}-{label}.{format}".replace("/", "_"), format)
    return FileResponse(path, filename=path.name, background=BackgroundTask(
        lambda: (path.unlink(missing_ok=True), folder.rmdir())))
