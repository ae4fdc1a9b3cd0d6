"""The console's FastAPI application: one router per page area, a session middleware (login and
CSRF, `scenarist.console.security`) and the static files (plotly served from the installed
package, never a CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from scenarist.console import security
from scenarist.console.access import NoProject
from scenarist.console.pages import (
    alerts,
    checks,
    deployments,
    evaluations,
    login,
    overview,
    runs,
    scenarios,
    stores,
)
from scenarist.console.state import ConsoleState, error_page, render
from scenarist.errors import ConfigError, NotFoundError, ScenaristError, StoreError

PAGES = (login, overview, stores, evaluations, checks, runs, scenarios, alerts, deployments)
STATIC = Path(__file__).parent / "static"


def plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def broken_state(request: Request, exc: Exception):
    """An error of the API as a page: what is wrong and what to do (never a traceback)."""
    if isinstance(exc, NoProject):
        return error_page(request, "No project", str(exc),
                          "start the console with the project folder: `scenarist ui -p "
                          "PROJECT_FOLDER` (add `--url` for deployments kept elsewhere)",
                          status_code=404)
    if isinstance(exc, NotFoundError):
        return error_page(request, "Not found", str(exc), "pick one of those listed",
                          status_code=404)
    if isinstance(exc, StoreError):
        return error_page(request, "The store database cannot be read", str(exc),
                          "check that the database server is running and that the URL in "
                          "scenarist.yaml (connections) or --url is right, then reload",
                          status_code=503)
    if isinstance(exc, ConfigError):
        return error_page(request, "The project cannot be read", str(exc),
                          "fix scenarist.yaml (`scenarist validate` lists every problem), "
                          "then reload", status_code=500)
    return error_page(request, "Something failed", str(exc), status_code=500)


def create_console(project: Path | str | None = None, *, deployments_url: str | None = None,
                   require_key: bool = False) -> FastAPI:
    """The console app for `project` (a folder with scenarist.yaml) and the deployments at
    `deployments_url`; `require_key` makes every page ask for an API key (non-loopback)."""
    app = FastAPI(title="scenarist console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleState(Path(project) if project is not None else None,
                                     deployments_url, require_key)

    @app.middleware("http")
    async def session(request: Request, call_next):
        state: ConsoleState = request.app.state.console
        current = security.decode(request.cookies.get(security.COOKIE), state.secret)
        fresh = current is None
        request.state.session = current or security.new_session()
        if (state.require_key and request.state.session.key is None
                and not security.is_exempt(security.local_path(request))):
            response = (render(request, "login.html", status_code=401, error=None,
                               next=security.local_path(request))
                        if security.wants_html(request)
                        else JSONResponse({"detail": "an API key is required: POST it to "
                                                     "/login (field key)"}, status_code=401))
        else:
            response = await call_next(request)
        if fresh and not getattr(request.state, "session_set", False):
            security.set_cookie(request, response, request.state.session, state.secret)
        return response

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.add_exception_handler(ScenaristError, broken_state)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for page in PAGES:
        app.include_router(page.router)
    return app
