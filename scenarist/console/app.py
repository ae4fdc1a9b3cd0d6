"""The console's FastAPI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from scenarist.console.pages import (
    alerts,
    checks,
    deployments,
    evaluations,
    overview,
    runs,
    scenarios,
    stores,
)
from scenarist.console.state import ConsoleState

PAGES = (overview, stores, evaluations, checks, runs, scenarios, alerts, deployments)


def create_console(project: Path | str | None = None, *, deployments_url: str | None = None,
                   require_key: bool = False) -> FastAPI:
    """The console app for `project` (a folder with scenarist.yaml) and the deployments at
    `deployments_url`; `require_key` makes every page ask for an API key (non-loopback)."""
    app = FastAPI(title="scenarist console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleState(Path(project) if project is not None else None,
                                     deployments_url, require_key)
    for page in PAGES:
        app.include_router(page.router)
    return app
