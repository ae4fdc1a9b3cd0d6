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
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request

from scenarist.console import access, charts
from scenarist.console.state import render
from scenarist.errors import NotFoundError
from scenarist.stores.revisions import metric_key

router = APIRouter()

DEFAULT_METRICS = ("data_drift", "drift_share", "auc")
MAX_CHOSEN = 12
ROWS_SHOWN = 200  # the newest evaluations listed; `?all_rows=true` lists every one


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
def store_page(request: Request, store: str, all_rows: bool = False):
    project = access.project_of(request)
    history = access.open_named(project, store)
    labels = history.labels()
    latest = history.get(labels[-1]) if labels else None
    checks = access.store_checks(project, store)
    outcomes = access.latest_outcomes(access.check_results(project, store))
    dataset_metrics = sorted(k for k in (latest.metrics if latest else {})
                             if "[" not in k and not k.endswith((".lower", ".upper")))
    chosen, remember = _chosen(request, store, dataset_metrics, checks)
    table = history.list(metrics=[f"{k}{side}" for k in chosen
                                  for side in ("", ".lower", ".upper")])
    figures = [_figure(history, table, key, checks) for key in chosen]
    response = render(
        request, "store.html", store=store, in_project=store in project.evaluation_stores,
        rows=_rows(table, chosen, checks, outcomes, None if all_rows else ROWS_SHOWN),
        total=len(table), columns=[k for k in chosen if k in table],
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
          outcomes: dict[tuple[str, str], str], limit: int | None) -> list[dict[str, Any]]:
    """One row per evaluation, newest first (the newest `limit` when given), columns at once."""
    newest = table.iloc[::-1] if limit is None else table.iloc[::-1].head(limit)
    shown = [k for k in chosen if k in newest]
    moments = pd.to_datetime(newest["time_start"].where(newest["time_start"].notna(),
                                                        newest["evaluated_at"]), utc=True)
    times = moments.dt.strftime("%Y-%m-%d %H:%M").fillna("").tolist()
    values = newest[shown].to_numpy(dtype=float).tolist() if shown else [[]] * len(newest)
    return [{"label": label, "rows": rows, "time": time, "values": row_values,
             "outcomes": [outcomes.get((label, name), "") for name in checks]}
            for label, rows, time, row_values in zip(newest.index, newest["row_count"].tolist(),
                                                     times, values, strict=True)]


def _other_keys(latest: Any, dataset_metrics: list[str]) -> list[str]:
    """Per-feature and per-segment metric keys of the latest evaluation, for the chooser."""
    if latest is None:
        return []
    per_feature = [k for k in latest.metrics if k.endswith("]") and "[" in k]
    segments = list(latest.details.get("segments") or {})
    return per_feature + [metric_key(m, None, s) for s in segments for m in dataset_metrics]
