"""The console's session, API-key login and CSRF protection.

Every browser gets a signed session cookie (`scenarist_console`: HttpOnly, SameSite=Strict, and
Secure whenever the console is reached over HTTPS — a Secure cookie sent over plain HTTP would be
dropped, so a console on a network address belongs behind TLS, e.g. a reverse proxy; uvicorn
takes the scheme from its X-Forwarded-Proto). The cookie holds the CSRF token and, after a
login, the API key's id and scopes; it is signed with HMAC-SHA256 and a secret drawn when the
process starts, so a restart logs everyone out.

When the console requires a key (it listens on a non-loopback address), every page but `/login`
and `/static/…` answers 401 until a key of `scenarist serve` (`scenarist keys create … --scope
read`) has been entered; the 401 body is the login form for browsers, JSON for anything else.
Mutating actions are POSTs guarded by `ADMIN_POST` (`require_admin` + `verify_csrf`): the key
needs the `admin` scope and the form must carry `csrf_token` (template global `csrf_input()`).
Read POSTed fields with `await form_data(request)` (not FastAPI's `Form`, see there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request

COOKIE = "scenarist_console"
SESSION_SECONDS = 12 * 3600
LOOPBACK = ("127.0.0.1", "::1", "localhost")
EXEMPT = ("/login", "/logout", "/static/")


@dataclass(frozen=True)
class Session:
    """What the signed cookie carries."""

    csrf: str
    key: str | None = None  # the API key's id after a login
    scopes: tuple[str, ...] = ()
    expires: float = field(default_factory=lambda: time.time() + SESSION_SECONDS)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def new_session(**changes: Any) -> Session:
    return replace(Session(csrf=secrets.token_urlsafe(24)), **changes)


def encode(session: Session, secret: bytes) -> str:
    body = base64.urlsafe_b64encode(json.dumps(
        [session.csrf, session.key, list(session.scopes), session.expires]).encode()).decode()
    return f"{body}.{_sign(body, secret)}"


def decode(cookie: str | None, secret: bytes) -> Session | None:
    """The session in `cookie`, None when it is missing, forged or expired."""
    if not cookie or "." not in cookie:
        return None
    body, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature, _sign(body, secret)):
        return None
    try:
        csrf, key, scopes, expires = json.loads(base64.urlsafe_b64decode(body))
    except (ValueError, TypeError):
        return None
    if expires < time.time():
        return None
    return Session(str(csrf), key, tuple(scopes), float(expires))


def _sign(body: str, secret: bytes) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name to listen on) is reachable only from this machine."""
    import ipaddress

    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_of(request: Request) -> Session:
    """The request's session (set by the console's middleware)."""
    return request.state.session


def set_cookie(request: Request, response: Any, session: Session, secret: bytes) -> None:
    response.set_cookie(COOKIE, encode(session, secret), max_age=SESSION_SECONDS,
                        path=request.scope.get("root_path") or "/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def local_path(request: Request) -> str:
    """The request's path below the console's mount point (`/ui` under `scenarist serve`)."""
    path, root = request.scope["path"], request.scope.get("root_path") or ""
    return path[len(root):] or "/" if root and path.startswith(root) else path


def is_exempt(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in EXEMPT)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def require_admin(request: Request) -> Session:
    """Dependency of every mutating route: a key with the `admin` scope when keys are required
    (on loopback without keys, whoever reaches the port is the admin)."""
    session = session_of(request)
    if request.app.state.console.require_key and not session.allows("admin"):
        raise HTTPException(403, "this action needs an API key with the admin scope; "
                                 "log in again with one (scenarist keys create … --scope admin)")
    return session


async def form_data(request: Request) -> dict[str, str]:
    """The fields of a POSTed url-encoded form (the last value of a repeated name; use
    `form_lists` for all). FastAPI's `Form(...)` needs python-multipart, whose `multipart` shim
    would overwrite the `multipart` package litestar (evidently) needs, so forms are read here."""
    return {k: v[-1] for k, v in (await form_lists(request)).items()}


async def form_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every field of a POSTed url-encoded form."""
    cached = getattr(request.state, "form_lists", None)
    if cached is None:
        body = (await request.body()).decode("utf-8", "replace")
        cached = {}
        for name, value in parse_qsl(body, keep_blank_values=True):
            cached.setdefault(name, []).append(value)
        request.state.form_lists = cached
    return cached


async def verify_csrf(request: Request) -> None:
    """Dependency of every POST: the form field `csrf_token` (or header `X-CSRF-Token`) must be
    the session's token."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        sent = (await form_data(request)).get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session_of(request).csrf):
        raise HTTPException(403, "the form is stale or was not sent by this console "
                                 "(CSRF token mismatch): reload the page and try again")


ADMIN_POST = [Depends(require_admin), Depends(verify_csrf)]
