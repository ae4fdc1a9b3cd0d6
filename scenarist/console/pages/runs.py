"""Console pages: scenario runs.

    GET /runs[?scenario=NAME]      recorded runs, newest first, with their outcome
    GET /runs/{run_id}             one run: steps (outcome, attempts, message), the outbox
                                   messages it queued, its whole log, its Prefect flow run

Read as `scenarist scenarios runs|log` reads them (`scenario_runs`, `scenario_run`,
`outbox_messages`) from the project's store. The Prefect link is the URL the run stored when
it started (the flow run's page under PREFECT_UI_URL, or beside a Prefect server's API); a run
through the ephemeral API has none.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from scenarist.console.state import render

router = APIRouter()

RUNS_SHOWN = 100


def project_store(request: Request) -> tuple[Any, Any]:
    """(project, engine of its store); the API's errors (no project, an unreachable store)
    become pages in `scenarist.console.app`."""
    from scenarist.console.access import project_of
    from scenarist.stores.database import project_engine

    project = project_of(request)
    return project, project_engine(project)


def redirect(request: Request, path: str, **query: Any) -> RedirectResponse:
    """303 to `path` below the console's mount point (after a POST), with `query`."""
    from urllib.parse import urlencode

    root = request.scope.get("root_path") or ""
    return RedirectResponse(root + path + ("?" + urlencode(query) if query else ""),
                            status_code=303)


@router.get("/runs", name="runs")
def runs_page(request: Request, scenario: str | None = None, message: str | None = None):
    from scenarist.stores.runs import scenario_runs

    project, engine = project_store(request)
    runs = scenario_runs(engine, scenario, RUNS_SHOWN)
    rows = runs.to_dict("records")
    return render(request, "runs.html", runs=rows, scenario=scenario, message=message,
                  scenarios=list(project.scenarios), running=any(r["outcome"] is None
                                                                 for r in rows))


@router.get("/runs/{run_id}", name="run")
def run_page(request: Request, run_id: str):
    from scenarist.stores.outbox import outbox_messages
    from scenarist.stores.runs import scenario_run

    project, engine = project_store(request)
    run, steps = scenario_run(engine, run_id)
    messages = outbox_messages(engine, run["project"], run_id=run_id)
    return render(request, "runs_detail.html", run=run, steps=steps, messages=messages,
                  known=run["scenario"] in project.scenarios)
