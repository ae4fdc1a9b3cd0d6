"""Console pages: scenarios, and "Run now".

    GET  /scenarios                     every scenario: steps, triggers, reporters, last run
    GET  /scenarios/{scenario}          one scenario, its variables as a form, its last runs
    POST /scenarios/{scenario}/run      start it (CSRF + admin), then see it in /runs

A run is started through the scenario's Prefect deployment when the Prefect API (a server,
PREFECT_API_URL) has one that runs this scenario of this project folder (`run_deployment`,
not waited for: a worker runs it); otherwise in-process, in a background thread, as
`scenarist run` does (`run_scenario`). Either way the flow records the run in the project's
store, so it appears in /runs with its outcome.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request

from scenarist.console.pages.runs import project_store, redirect
from scenarist.console.security import ADMIN_POST, form_data
from scenarist.console.state import error_page, render
from scenarist.errors import ConfigError, NotFoundError, StoreError

router = APIRouter()
log = logging.getLogger(__name__)

TRIGGER = "console"
RECENT_RUNS = 10
VAR_PREFIX = "var."


@router.get("/scenarios", name="scenarios")
def scenarios_page(request: Request):
    from scenarist.stores.runs import scenario_runs

    project, engine = project_store(request)
    runs = scenario_runs(engine, limit=200)
    last = {}
    for run in runs.to_dict("records"):
        last.setdefault(run["scenario"], run)
    return render(request, "scenarios.html", scenarios=project.scenarios, last=last)


@router.get("/scenarios/{scenario:path}", name="scenario")
def scenario_page(request: Request, scenario: str):
    from scenarist.stores.runs import scenario_runs

    project, engine = project_store(request)
    spec = _spec(project, scenario)
    runs = scenario_runs(engine, scenario, RECENT_RUNS).to_dict("records")
    try:
        through = prefect_deployment(project, scenario)
    except PrefectUnreachable as exc:
        through = None
        runs_where = str(exc)
    else:
        runs_where = (f"through its Prefect deployment {through}" if through
                      else "in the console's process")
    return render(request, "scenario.html", name=scenario, spec=spec, runs=runs,
                  runs_where=runs_where, through=through,
                  variables={k: _shown(v) for k, v in _defaults(project, spec).items()},
                  prefix=VAR_PREFIX)


@router.post("/scenarios/{scenario:path}/run", dependencies=ADMIN_POST, name="scenario_run")
def run_now(request: Request, scenario: str,
            form: Annotated[dict[str, str], Depends(form_data)]):
    project, _engine = project_store(request)
    spec = _spec(project, scenario)
    try:
        variables = _variables(form, _defaults(project, spec))
    except ConfigError as exc:
        return error_page(request, "Cannot run this", str(exc),
                          "correct the variables and submit again", status_code=400)
    where = start_run(project, scenario, variables)
    return redirect(request, "/runs", scenario=scenario, message=where)


def start_run(project: Any, scenario: str, variables: dict[str, Any]) -> str:
    """Start `scenario` (see the module docstring); returns what was done, for the page."""
    deployment = prefect_deployment(project, scenario)
    if deployment is not None:
        from prefect.deployments import run_deployment

        flow_run = run_deployment(deployment, parameters={"variables": variables,
                                                          "trigger": TRIGGER},
                                  timeout=0, as_subflow=False)
        return (f"started flow run {flow_run.name} ({flow_run.id}) of Prefect deployment "
                f"{deployment}; it appears here once a worker runs it")
    from scenarist.flows.scenario import run_scenario

    target = project.file or project.root

    def run() -> None:
        try:
            run_scenario(target, scenario, variables, trigger=TRIGGER)
        except Exception:  # noqa: BLE001 - a background run has no caller to raise to
            log.exception("scenario %r started from the console failed to run", scenario)

    threading.Thread(target=run, name=f"console run {scenario}", daemon=True).start()
    return f"started scenario {scenario!r} in the console's process; its run appears below"


def prefect_deployment(project: Any, scenario: str) -> str | None:
    """`flow/deployment` of a Prefect deployment running `scenario` of this project folder,
    None without a Prefect server (PREFECT_API_URL) or such a deployment."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    from scenarist.bundles.prefect_deployments import FLOW_NAME

    try:
        with get_client(sync_client=True) as client:
            found = client.read_deployments(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the API
        raise PrefectUnreachable(f"cannot reach the Prefect API at {PREFECT_API_URL.value()} "
                                 f"({exc}); start it or unset PREFECT_API_URL") from exc
    here = Path(project.root).resolve()
    for deployment in sorted(found, key=lambda d: d.name):
        parameters = deployment.parameters or {}
        if parameters.get("scenario") == scenario and _folder(deployment) == here:
            return f"{FLOW_NAME}/{deployment.name}"
    return None


class PrefectUnreachable(StoreError):
    """The configured Prefect API does not answer (a page, as an unreachable store)."""


def _folder(deployment: Any) -> Path | None:
    """The project folder a Prefect deployment runs (its `project` parameter, relative to the
    folder its pull step works in)."""
    project = (deployment.parameters or {}).get("project")
    if not project:
        return None
    base = Path(deployment.path or ".")
    for step in deployment.pull_steps or ():
        directory = (step.get("prefect.deployments.steps.set_working_directory") or {})
        if directory.get("directory"):
            base = Path(directory["directory"])
    path = (base / Path(project).expanduser()).resolve()
    return path.parent if path.suffix in (".yaml", ".yml") else path


def _spec(project: Any, scenario: str):
    spec = project.scenarios.get(scenario)
    if spec is None:
        raise NotFoundError(f"no scenario {scenario!r} in project {project.project!r}; "
                            f"scenarios: {', '.join(project.scenarios) or 'none'}")
    return spec


def _defaults(project: Any, spec: Any) -> dict[str, Any]:
    return {**project.variables, **spec.variables}


def _variables(form: dict[str, str], defaults: dict[str, Any]) -> dict[str, Any]:
    """The variables the form changed (a non-text default's new value read as YAML, e.g. a
    number), and the extra `NAME=VALUE` lines."""
    chosen: dict[str, Any] = {}
    for key, text in form.items():
        if not key.startswith(VAR_PREFIX):
            continue
        name = key[len(VAR_PREFIX):]
        default = defaults.get(name)
        if name in defaults and text == _shown(default):
            continue
        chosen[name] = text if isinstance(default, str) or name not in defaults else _yaml(
            name, text)
    for line in form.get("extra", "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{line.strip()!r} is not NAME=VALUE, e.g. quarter=2017Q2")
        chosen[name.strip()] = value.strip()
    return chosen


def _shown(value: Any) -> str:
    """A variable's value as the form shows it."""
    return value if isinstance(value, str) else yaml.safe_dump(
        value, default_flow_style=True).strip().removesuffix("...").strip()


def _yaml(name: str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"variable {name!r}: {text!r} is not a YAML value ({exc})") from exc
