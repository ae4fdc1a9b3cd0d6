"""What every console page needs: the project, the deployments' store URL and the templates.

Contract for page modules (kept stable):
- `console_state(request)` → `ConsoleState` (project folder, deployments URL, `require_key`;
  `project_or_none()` loads the project, cached by its file's modification time;
  `deployments_db()` is the URL to pass to `Deployment.list/get(url=...)` and the API keys).
- `render(request, template, status_code=200, **context)` → the page; templates extend
  `base.html` and fill its blocks `title`, `head`, `content`, `scripts`.
- Template globals: `href("/stores", name, "evaluations", label, **query)` — a link below the
  mount point, each later part URL-quoted as one path segment; `csrf_token()` and `csrf_input()`
  (the hidden form field) for POST forms; `fmt(value)` — a number for a table; `badge(outcome)`.
- `error_page(request, title, message, hint, status_code)` — a broken state as a page.
"""

from __future__ import annotations

import functools
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass
class ConsoleState:
    """The console's configuration, kept on `app.state.console`."""

    project: Path | None
    deployments_url: str | None
    require_key: bool = False
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _loaded: tuple[float, Any] | None = field(default=None, repr=False)

    def project_or_none(self) -> Any:
        """The loaded project (re-read when its file changed), None when the console has none.
        A broken project file raises its ConfigError (pages show it)."""
        if self.project is None:
            return None
        from scenarist.project.config import load_project

        folder = self.project if self.project.is_dir() else self.project.parent
        file = folder / "scenarist.yaml" if self.project.is_dir() else self.project
        stamp = file.stat().st_mtime if file.exists() else 0.0
        if self._loaded is None or self._loaded[0] != stamp:
            self._loaded = (stamp, load_project(self.project))
        return self._loaded[1]

    def deployments_db(self) -> str | None:
        """The database of deployments and API keys: `--url`, else the project's `store`
        connection, else None (the API's default, `.scenarist/store.db`)."""
        if self.deployments_url is not None:
            return self.deployments_url
        project = self.project_or_none()
        if project is None:
            return None
        from scenarist.stores.database import resolve_url

        connection = project.connections.get("store")
        return resolve_url(connection.resolved_url() if connection else None,
                           project.root).render_as_string(hide_password=False)


def console_state(request: Request) -> ConsoleState:
    """The ConsoleState of the app serving `request` (a FastAPI dependency)."""
    return request.app.state.console


def render(request: Request, template: str, status_code: int = 200, **context: Any):
    """A page: `template` rendered with `context` (autoescaped) and the request."""
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def error_page(request: Request, title: str, message: str, hint: str = "",
               status_code: int = 200):
    """A broken or empty state shown as a page: what is wrong and what to do."""
    return render(request, "error.html", status_code=status_code, title=title,
                  message=message, hint=hint)


@pass_context
def href(context: Any, path: str, *segments: Any, **query: Any) -> str:
    """`path` below the console's mount point, then `segments` each quoted as one segment."""
    root = context["request"].scope.get("root_path") or ""
    url = root + path + "".join("/" + quote(str(s), safe="") for s in segments)
    query = {k: v for k, v in query.items() if v is not None}
    return url + ("?" + urlencode(query, doseq=True) if query else "")


@pass_context
def csrf_token(context: Any) -> str:
    return context["request"].state.session.csrf


@pass_context
def csrf_input(context: Any) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        csrf_token(context))


def fmt(value: Any, digits: int = 4) -> str:
    """A metric value for a table: `digits` significant digits, '–' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def badge(outcome: Any) -> Markup:
    """An outcome (OK, WARNING, ERROR, EMPTY, SUCCESS, FAILED, …) as a coloured badge."""
    return _badge(str(getattr(outcome, "value", outcome) or "–"))


@functools.lru_cache(maxsize=256)
def _badge(text: str) -> Markup:  # a store page draws hundreds: format each text once
    return Markup('<span class="badge b-{}">{}</span>').format(text.lower(), escape(text))


TEMPLATES.env.globals.update(href=href, csrf_token=csrf_token, csrf_input=csrf_input, fmt=fmt,
                             badge=badge)
