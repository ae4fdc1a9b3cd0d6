"""What every console page needs: the project, the deployments' store URL and the templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass(frozen=True)
class ConsoleState:
    """The console's configuration, kept on `app.state.console`."""

    project: Path | None
    deployments_url: str | None
    require_key: bool = False


def console_state(request: Request) -> ConsoleState:
    """The ConsoleState of the app serving `request` (a FastAPI dependency)."""
    return request.app.state.console


def render(request: Request, template: str, status_code: int = 200, **context: Any):
    """A page: `template` rendered with `context` (autoescaped) and the request."""
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
