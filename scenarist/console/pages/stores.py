"""Console pages: the evaluation stores — `/stores` (every store) and `/stores/{store}` (its
evaluations, one row each, and history charts of the metrics chosen on the page).

The chosen metrics are remembered per store in a cookie (`sc_metrics_<hash of the store name>`,
a JSON list, one year): the chooser is a GET form, so choosing changes nothing on the server.
A metric key is a dataset-level metric (`auc`, a custom one), `metric[feature]` for a per-feature
one, or `metric @ segment` for a segment's (`auc @ device=mobile`), as
`scenarist.stores.revisions.metric_key` writes them.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request

from scenarist.console import access, charts
from scenarist.console.state import render
from scenarist.errors import NotFoundError
from scenarist.stores.revisions import metric_key

router = APIRouter()

FACTS = ("evaluated_at", "time_start", "time_end", "model", "row_count")
DEFAULT_METRICS = ("data_drift", "drift_share", "auc")
MAX_CHOSEN = 12


@router.get("/stores")
def store_list(request: Request):
    project = access.project_of(request)
    rows = []
    for name in access.store_names(project):
        store = access.open_named(project, name)
        labels = store.labels()
        rows.append({"name": name, "evaluations": len(labels),
                     "latest": labels[-1] if labels else None,
                     "in_project": name in project.evaluation_stores})
    return render(request, "stores.html", stores=rows)


@router.get("/stores/{store}")
def store_page(request: Request, store: str):
    project = access.project_of(request)
    history = access.open_named(project, store)
    table = history.list()
    checks = access.store_checks(project, store)
    outcomes = access.latest_outcomes(access.check_results(project, store))
    dataset_metrics = [c for c in table.columns if c not in FACTS
                       and not c.endswith((".lower", ".upper"))]
    chosen, remember = _chosen(request, store, dataset_metrics, checks)
    figures = [_figure(history, table, key, checks) for key in chosen]
    latest = history.get(table.index[-1]) if len(table) else None
    response = render(
        request, "store.html", store=store, in_project=store in project.evaluation_stores,
        rows=_rows(table, chosen, checks, outcomes), columns=[k for k in chosen if k in table],
        checks=list(checks), chosen=chosen, dataset_metrics=dataset_metrics,
        other_metrics=_other_keys(latest, dataset_metrics), figures=figures)
    if remember is not None:
        response.set_cookie(_cookie(store), json.dumps(remember), max_age=365 * 86400,
                            path=request.scope.get("root_path") or "/", httponly=True,
                            samesite="strict")
    return response


def _chosen(request: Request, store: str, available: list[str], checks: dict[str, Any]
            ) -> tuple[list[str], list[str] | None]:
    """The metric keys to show, and what to remember (None: nothing new was chosen)."""
    query = request.query_params
    if "chosen" in query:
        keys = [k for k in query.getlist("m") if k.strip()]
        added = query.get("add", "").strip()
        keys = list(dict.fromkeys([*keys, *([added] if added else [])]))[:MAX_CHOSEN]
        return keys, keys
    try:
        remembered = json.loads(request.cookies.get(_cookie(store), "null"))
    except ValueError:
        remembered = None
    if isinstance(remembered, list) and all(isinstance(k, str) for k in remembered):
        return remembered[:MAX_CHOSEN], None
    checked = [spec.metric for spec in checks.values() if spec.feature is None]
    return [m for m in dict.fromkeys([*checked, *DEFAULT_METRICS]) if m in available], None


def _cookie(store: str) -> str:
    return "sc_metrics_" + hashlib.sha256(store.encode()).hexdigest()[:12]


def parse_key(key: str) -> tuple[str, str | None, str | None]:
    """`metric`, `metric[feature]` or `metric @ segment` → (metric, feature, segment)."""
    key, sep, segment = key.partition(" @ ")
    if key.endswith("]") and "[" in key:
        metric, feature = key[:-1].split("[", 1)
        return metric, feature, segment if sep else None
    return key, None, segment if sep else None


def _figure(history: Any, table: pd.DataFrame, key: str, checks: dict[str, Any]
            ) -> dict[str, Any]:
    """The history chart of one metric key (an error message instead when it does not exist)."""
    metric, feature, segment = parse_key(key)
    labels = list(table.index)
    try:
        if feature is None and segment is None and key in table:
            values = list(table[key])
            interval = ((list(table[f"{key}.lower"]), list(table[f"{key}.upper"]))
                        if f"{key}.lower" in table and f"{key}.upper" in table else None)
        else:
            values = list(history.history(metric, feature, segment))
            interval = _interval(history, metric, feature, segment)
    except NotFoundError as exc:
        return {"key": key, "error": str(exc)}
    bands = [spec.bounds() for spec in checks.values()
             if spec.type == "numeric_range" and spec.metric == metric
             and spec.feature == feature and (spec.segment or None) in (None, segment)]
    return {"key": key, "figure": charts.metric_history(key, labels, values, bands, interval)}


def _interval(history: Any, metric: str, feature: str | None, segment: str | None):
    try:
        return (list(history.history(f"{metric}.lower", feature, segment)),
                list(history.history(f"{metric}.upper", feature, segment)))
    except NotFoundError:
        return None


def _rows(table: pd.DataFrame, chosen: list[str], checks: dict[str, Any],
          outcomes: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """One row per evaluation, newest first."""
    shown = [k for k in chosen if k in table]
    rows = []
    for label, row in zip(table.index[::-1], table.iloc[::-1].itertuples(index=False),
                          strict=True):
        facts = row._asdict()
        values = dict(zip(table.columns, row, strict=True))
        rows.append({"label": label, "rows": facts["row_count"],
                     "time": _when(values.get("time_start"), values.get("evaluated_at")),
                     "values": [values[k] for k in shown],
                     "outcomes": [outcomes.get((label, name), "") for name in checks]})
    return rows


def _when(start: Any, evaluated: Any) -> str:
    moment = start if start is not None and not (isinstance(start, float) and math.isnan(start)) \
        and not pd.isna(start) else evaluated
    return "" if moment is None or pd.isna(moment) else pd.Timestamp(moment).strftime(
        "%Y-%m-%d %H:%M")


def _other_keys(latest: Any, dataset_metrics: list[str]) -> list[str]:
    """Per-feature and per-segment metric keys of the latest evaluation, for the chooser."""
    if latest is None:
        return []
    per_feature = [k for k in latest.metrics if k.endswith("]") and "[" in k]
    segments = list(latest.details.get("segments") or {})
    return per_feature + [metric_key(m, None, s) for s in segments for m in dataset_metrics]
