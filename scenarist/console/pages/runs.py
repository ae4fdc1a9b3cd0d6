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

from scenarist.console.state import console_state, error_page, render
from scenarist.errors import ConfigError, NotFoundError, ScenaristError, StoreError

router = APIRouter()

RUNS_SHOWN = 100


def project_store(request: Request) -> tuple[Any, Any]:
    """(project, engine of its store) — ScenaristError when there is no project or its store
    cannot be reached (pages show it with `broken`)."""
    project = console_state(request).project_or_none()
    if project is None:
        raise NoProject("the console was started without a project")
    from scenarist.flows.scenario import project_engine

    return project, project_engine(project)


def redirect(request: Request, path: str, **query: Any) -> RedirectResponse:
    """303 to `path` below the console's mount point (after a POST), with `query`."""
    from urllib.parse import urlencode

    root = request.scope.get("root_path") or ""
    return RedirectResponse(root + path + ("?" + urlencode(query) if query else ""),
                            status_code=303)


class NoProject(ScenaristError):
    """The console serves deployments only (started without -p)."""


def broken(request: Request, exc: ScenaristError):
    """A page for a missing project, an unreachable store or an unknown run/scenario."""
    if isinstance(exc, NoProject):
        return error_page(request, "No project", str(exc),
                          "start it with a project: scenarist ui -p PROJECT_FOLDER",
                          status_code=404)
    if isinstance(exc, StoreError):
        return error_page(request, "Store unreachable", str(exc),
                          "start the database, or fix connections.store in scenarist.yaml",
                          status_code=503)
    if isinstance(exc, NotFoundError):
        return error_page(request, "Not found", str(exc), "", status_code=404)
    hint = "fix the project (scenarist validate -p PROJECT)" if isinstance(exc, ConfigError) \
        else ""
    return error_page(request, "Cannot do this", str(exc), hint, status_code=400)


@router.get("/runs", name="runs")
def runs_page(request: Request, scenario: str | None = None, message: str | None = None):
    from scenarist.stores.runs import scenario_runs

    try:
        project, engine = project_store(request)
        runs = scenario_runs(engine, scenario, RUNS_SHOWN)
    except ScenaristError as exc:
        return broken(request, exc)
    rows = runs.to_dict("records")
    return render(request, "runs.html", runs=rows, scenario=scenario, message=message,
                  scenarios=list(project.scenarios), running=any(r["outcome"] is None
                                                                 for r in rows))


@router.get("/runs/{run_id}", name="run")
def run_page(request: Request, run_id: str):
    from scenarist.stores.outbox import outbox_messages
    from scenarist.stores.runs import scenario_run

    try:
        project, engine = project_store(request)
        run, steps = scenario_run(engine, run_id)
        messages = outbox_messages(engine, run["project"], run_id=run_id)
    except ScenaristError as exc:
        return broken(request, exc)
    return render(request, "runs_detail.html", run=run, steps=steps, messages=messages,
                  known=run["scenario"] in project.scenarios)
