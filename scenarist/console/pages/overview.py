"""Console pages: `/`, the overview — every evaluation store with its latest evaluation, the
worst check outcome of that evaluation and a `data_drift` sparkline; the deployments with their
health; the last scenario runs; the outbox (pending and failed alerts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from scenarist.checks.outcome import Outcome
from scenarist.console import access, charts
from scenarist.console.state import console_state, render
from scenarist.errors import NotFoundError, ScenaristError

router = APIRouter()

RUNS_SHOWN = 8


@router.get("/", name="overview")
def overview(request: Request):
    state = console_state(request)
    project = state.project_or_none()
    stores, runs, outbox = [], [], None
    if project is not None:
        results = access.check_results(project)
        stores = [_store_row(project, name, results) for name in access.store_names(project)]
        runs, outbox = _runs_and_outbox(project)
    return render(request, "overview.html", project=project, stores=stores,
                  deployments=_deployments(state), runs=runs, outbox=outbox)


def _store_row(project: Any, name: str, results: Any) -> dict[str, Any]:
    store = access.open_named(project, name)
    labels = store.labels()
    latest = labels[-1] if labels else None
    mine = results[(results["store"] == name) & (results["evaluation_label"] == latest)]
    outcomes = access.latest_outcomes(mine)
    worst = (max((Outcome(o) for o in outcomes.values()), key=list(Outcome).index).value
             if outcomes else ("EMPTY" if latest else ""))
    try:
        drift = list(store.history("data_drift").tail(30)) if labels else []
    except NotFoundError:
        drift = []
    return {"name": name, "latest": latest, "evaluations": len(labels), "worst": worst,
            "checks": len(outcomes), "spark": charts.sparkline(drift) if drift else None}


def _runs_and_outbox(project: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    from scenarist.stores.database import project_engine
    from scenarist.stores.outbox import outbox_messages
    from scenarist.stores.runs import scenario_runs

    engine = project_engine(project)
    runs = scenario_runs(engine, limit=RUNS_SHOWN).to_dict("records")
    waiting = outbox_messages(engine, project.project, statuses=["pending", "failed"])
    counts = {"pending": 0, "failed": 0}
    for message in waiting:
        counts[message.status] = counts.get(message.status, 0) + 1
    return runs, counts


def _deployments(state: Any) -> dict[str, Any]:
    """The deployments (at most 20 shown), or the error that kept them from being read."""
    from scenarist.deployments import Deployment

    try:
        found = Deployment.list(url=state.deployments_db())
    except ScenaristError as exc:
        return {"error": str(exc), "rows": [], "total": 0}
    return {"error": None, "total": len(found), "rows": [
        {"id": d.id, "label": d.label, "drift": d.drift_health, "accuracy": d.accuracy_health}
        for d in found[:20]]}
