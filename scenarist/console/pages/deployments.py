"""Console pages: the deployments inventory and one deployment in tabs, with batch management.

    GET  /deployments                         label, model, health, 24 h predictions, latest sample
    GET  /deployments/{id}?tab=service|drift|accuracy|warnings|history|batches
    POST /deployments/{id}/batches/{batch}/rename|lock|unlock      (CSRF + admin)
    GET  /deployments/{id}/batches/{batch}/delete                  the confirmation page
    POST /deployments/{id}/batches/{batch}/delete                  needs `confirm` = batch name

The store is the console's `--url`, else the project's `store` connection, else the default
(as `scenarist deployments --url` / SCENARIST_STORE_URL). Every number is read through the
`Deployment` API from the hourly rollups and stored evaluations; the drift of logged rows
(`get_feature_drift`, which reads the window's feature files) is computed only on request.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from scenarist.console import deployment_charts as charts
from scenarist.console.pages.runs import redirect
from scenarist.console.security import ADMIN_POST, form_data
from scenarist.console.state import console_state, error_page, render
from scenarist.errors import ConfigError, InputDataError, ScenaristError

router = APIRouter()

TABS = {"service": "Service health", "drift": "Data drift", "accuracy": "Accuracy",
        "warnings": "Prediction warnings", "history": "Model history",
        "batches": "Batch management"}
SERVICE_SERIES = ("total_predictions", "total_requests", "median_request_ms", "p90_request_ms",
                  "error_rate")
SHOWN_DRIFT_FEATURES = 10
ERROR_RATE_FAILING = 0.05  # service health: failing at ≥ 5% errors, at risk above 0


def deployments_url(request: Request) -> str | None:
    """The deployments' store, chosen as `scenarist deployments` chooses it: `--url`, else
    the project's `store` connection, else $SCENARIST_STORE_URL, else the default SQLite file."""
    return console_state(request).deployments_db() or os.environ.get("SCENARIST_STORE_URL")


def service_health(stats: Any) -> str:
    """unknown (no request), passing (no error), at_risk (some), failing (≥ 5% of requests)."""
    if not stats.total_requests:
        return "unknown"
    if not stats.errors:
        return "passing"
    return "failing" if stats.error_rate >= ERROR_RATE_FAILING else "at_risk"


def inventory_row(dep: Any, now: datetime | None = None) -> dict[str, Any]:
    """One deployment as the inventory (and the overview) shows it: rollup queries only."""
    now = now or datetime.now(timezone.utc)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    day = dep.get_service_stats(end - timedelta(hours=24), end)
    readiness = dep.get_label_readiness()
    latest = (datetime.fromtimestamp(dep.last_timestamp, tz=timezone.utc)
              if dep.last_timestamp is not None else None)
    return {"id": dep.id, "label": dep.label, "model": dep.model.name,
            "version": dep.model_version, "service_health": service_health(day),
            "drift_health": dep.drift_health, "accuracy_health": dep.accuracy_health,
            "predictions_24h": day.total_predictions, "latest_sample": latest,
            "labelled_ratio": readiness.labelled_ratio, "importance": dep.importance}


@router.get("/deployments", name="deployments")
def deployments_page(request: Request):
    from scenarist.deployments import Deployment

    rows = [inventory_row(d) for d in Deployment.list(url=deployments_url(request))]
    return render(request, "deployments.html", rows=rows, url=_shown_url(request))


@router.get("/deployments/{deployment_id}", name="deployment")
def deployment_page(request: Request, deployment_id: str, tab: str = "service",
                    start: str | None = None, end: str | None = None,
                    compute: bool = False, message: str | None = None):
    if tab not in TABS:
        return error_page(request, "Unknown tab", f"there is no tab {tab!r}",
                          f"choose one of {', '.join(TABS)}", status_code=404)
    dep = _deployment(request, deployment_id)
    try:
        first, last = _window(dep, start, end)
    except InputDataError as exc:
        return error_page(request, "Bad window", str(exc), "give start and end as ISO times "
                          "at the top of an hour, e.g. start=2024-05-01T00:00Z", status_code=400)
    context = TAB_READERS[tab](request, dep, first, last, compute)
    return render(request, "deployment.html", dep=dep, tab=tab, tabs=TABS, start=first,
                  end=last, message=message, has_reference=_has_reference(dep),
                  **context)


# -- the tabs ---------------------------------------------------------------------------------

def _service(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    bucket = _bucket(first, last)
    series = {m: dep.get_service_stats_over_time(m, bucket, first, last) for m in SERVICE_SERIES}
    return {"stats": dep.get_service_stats(first, last), "bucket": bucket,
            "figures": charts.service_figures(series)}


def _drift(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    context: dict[str, Any] = {"figures": [], "drift_table": None, "stored": None,
                               "drift_error": None, "tracking": dep.settings.drift_tracking}
    stored = _stored_drift(request, dep)
    if stored is not None:
        store, latest, histories = stored
        table = latest.feature_table()
        table["importance"] = [(dep.model.feature_importance or {}).get(f, math.nan)
                               for f in table.index]
        table["drifted"] = table.get("drifted", 0.0).fillna(0.0).astype(bool)
        context["stored"] = {"store": store, "label": latest.label}
        context["drift_table"] = _drift_rows(table, "psi")
        context["figures"] = [_scatter(context["drift_table"]),
                              charts.drift_over_time(histories, "psi")]
    if compute and _has_reference(dep):
        try:
            table = dep.get_feature_drift(first, last)
        except ScenaristError as exc:
            context["drift_error"] = str(exc)
        else:
            context["drift_table"] = _drift_rows(table, "psi")
            context["figures"] = [_scatter(context["drift_table"]), *context["figures"][1:]]
            context["stored"] = None
    return context


def _accuracy(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    from scenarist.deployments.queries import ACCURACY_METRICS

    bucket = _bucket(first, last, coarse=True)
    metrics = list(ACCURACY_METRICS[dep.model.type])
    frame = dep.get_accuracy_over_time_frame(metrics, bucket, first, last)
    return {"readiness": dep.get_label_readiness(first, last), "bucket": bucket,
            "figures": [charts.accuracy_figure(frame, metrics)], "baseline":
            dep.reference_facts.get("baseline") or {}}


def _warnings(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    bucket = _bucket(first, last)
    frame = dep.get_prediction_warnings(bucket, first, last)
    return {"settings": dep.settings.prediction_warnings, "bucket": bucket,
            "total_warnings": int(frame["warnings"].sum()),
            "figures": [charts.warnings_figure(frame)]}


def _history(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    history = dep.get_model_history()
    rows = [{"version": int(version), **{k: (None if v is None or v != v else v)
                                         for k, v in row.items()}}
            for version, row in history.iterrows()]
    return {"history": rows, "figures": []}


def _batches(request: Request, dep: Any, first: datetime, last: datetime, compute: bool):
    return {"batches": dep.list_batches(), "figures": []}


TAB_READERS = {"service": _service, "drift": _drift, "accuracy": _accuracy,
               "warnings": _warnings, "history": _history, "batches": _batches}


# -- batch management ---------------------------------------------------------------------------

@router.post("/deployments/{deployment_id}/batches/{batch}/{action}", dependencies=ADMIN_POST,
             name="deployment_batch_action")
def batch_action(request: Request, deployment_id: str, batch: str, action: str,
                 form: Annotated[dict[str, str], Depends(form_data)]):
    if action not in ("rename", "lock", "unlock", "delete"):
        return error_page(request, "Unknown action", f"there is no batch action {action!r}",
                          "use rename, lock, unlock or delete", status_code=404)
    dep = _deployment(request, deployment_id)
    found = dep.get_batch(batch)
    try:
        if action == "delete":
            if form.get("confirm", "") != found.name:
                return render(request, "deployment_batch_delete.html", status_code=400, dep=dep,
                              batch=found, error="the name typed does not match the batch's "
                              "name: nothing was deleted")
            found.delete()
            done = f"deleted batch {found.name!r}"
        elif action == "rename":
            old, new = found.name, form.get("name", "").strip()
            if not new:
                raise ConfigError("a monitoring batch needs a non-empty name: nothing renamed")
            found.rename(new)
            done = f"renamed batch {old!r} to {found.name!r}"
        else:
            getattr(found, action)()
            done = f"{action}ed batch {found.name!r}"
    except (ConfigError, InputDataError) as exc:  # a refused change: say why, change nothing
        return error_page(request, "Not done", str(exc), status_code=400)
    return redirect(request, f"/deployments/{deployment_id}", tab="batches", message=done)


@router.get("/deployments/{deployment_id}/batches/{batch}/delete",
            name="deployment_batch_delete")
def batch_delete_form(request: Request, deployment_id: str, batch: str):
    dep = _deployment(request, deployment_id)
    found = dep.get_batch(batch)
    return render(request, "deployment_batch_delete.html", dep=dep, batch=found, error=None)


# -- helpers ----------------------------------------------------------------------------------

def _deployment(request: Request, deployment_id: str):
    from scenarist.deployments import Deployment

    return Deployment.get(deployment_id, url=deployments_url(request))


def _window(dep: Any, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The query's window; by default the 7 days up to the deployment's latest sample, so a
    deployment that stopped receiving predictions still shows its last week."""
    from scenarist.deployments.durations import resolve_window

    if end is None and start is None and dep.last_timestamp is not None:
        latest = datetime.fromtimestamp(dep.last_timestamp, tz=timezone.utc)
        end_dt = latest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return resolve_window(None, min(end_dt, _next_hour()))
    return resolve_window(start, end)


def _next_hour() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _bucket(first: datetime, last: datetime, *, coarse: bool = False) -> str:
    """Hourly up to 2 days, then 6-hourly up to 14 days, then daily; `coarse` (accuracy,
    whose cost is per bucket, not per prediction: ~10 ms of sklearn each) daily beyond 2 days."""
    span = last - first
    if span <= timedelta(days=2):
        return "PT1H"
    return "PT6H" if span <= timedelta(days=14) and not coarse else "P1D"


def _has_reference(dep: Any) -> bool:
    return bool(dep.reference_facts.get("rows"))


def _stored_drift(request: Request, dep: Any):
    """(store, latest evaluation, psi history of its top features) from the project's
    evaluation store fed by this deployment, None when there is none or it is empty."""
    from scenarist.stores.evaluation_store import EvaluationStore

    project = console_state(request).project_or_none()
    names = [name for name, spec in (project.evaluation_stores.items() if project else ())
             if getattr(spec, "deployment", None) == dep.id]
    for name in names:
        store = EvaluationStore.open(name, deployments_url(request))
        latest = store.latest()
        if latest is None:
            continue
        table = latest.feature_table()
        if "psi" not in table:
            continue
        top = table["psi"].sort_values(ascending=False).index[:SHOWN_DRIFT_FEATURES]
        return name, latest, {f: store.history("psi", feature=f) for f in top}
    return None


def _scatter(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """DataRobot's drift (PSI) vs importance chart, drawn by the console's shared chart."""
    from scenarist.console.charts import drift_vs_importance

    def number(value: Any) -> float | None:
        return None if value is None or value != value else float(value)

    return drift_vs_importance([{**r, "score": number(r["drift"]),
                                 "importance": number(r["importance"])} for r in rows])


def _drift_rows(table: Any, column: str) -> list[dict[str, Any]]:
    ordered = table.sort_values(column, ascending=False, na_position="last")
    return [{"feature": feature, "drift": row.get(column), "drifted": bool(row.get("drifted")),
             "method": row.get("method"), "importance": row.get("importance")}
            for feature, row in ordered.iterrows()]


def _shown_url(request: Request) -> str:
    from scenarist.stores.database import display_url, resolve_url

    return display_url(resolve_url(deployments_url(request)))
