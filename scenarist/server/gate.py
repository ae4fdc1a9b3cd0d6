"""What a request passes before its endpoint runs: the API key, then a bounded body.

    Guard(scope, keys)    the API-key check of one route, declared as `Depends(Guard(...))`
    GuardedRoute          runs the route's guards BEFORE FastAPI reads the body, and parses
                          JSON with readable 400s (malformed, nested too deeply)
    BodyLimit             ASGI middleware: 413 over the limit, Content-Length or chunked

FastAPI reads (and parses) a body parameter before it solves any dependency, so a key checked
by a dependency is checked after the whole body was buffered: a chunked gigabyte without a key
was read whole, then refused. GuardedRoute's handler is what FastAPI calls with the request
before it reads anything, so the key is checked there; the dependency only hands the checked
key to the endpoint (and documents the Authorization header in OpenAPI).

BodyLimit wraps `receive`: the bytes read are counted as they arrive and the first message past
the limit raises BodyTooLarge (an HTTPException, so it becomes a 413 wherever the body is read);
nothing further is read. A response sent before the body was read to its end carries
`Connection: close`, so the server closes the connection instead of draining a body nobody
reads (the client may see a reset after the response).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scenarist.server.keys import ApiKey
from scenarist.server.keys import Scope as KeyScope
from scenarist.server.rows import BadRequest, parse_json


class Guard(SecurityBase):
    """The API-key check of one route: `dependencies=[Depends(Guard(Scope.PREDICT, keys))]`,
    with `keys(secret)` the verified key or None. A security scheme (HTTP bearer) in OpenAPI:
    no header parameter for FastAPI to solve on every request."""

    def __init__(self, scope: KeyScope, keys: Callable[[str], ApiKey | None]):
        self.scope = scope
        self.keys = keys
        self.model = HTTPBearerModel(bearerFormat="scenarist API key", description=(
            "Authorization: Bearer <API key> (`scenarist keys create`)"))
        self.scheme_name = "APIKey"

    def check(self, request: Request) -> ApiKey:
        """The request's key, allowed this scope on the path's deployment; else 401/403."""
        scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise HTTPException(401, "send an API key as 'Authorization: Bearer <key>' "
                                "(create one with `scenarist keys create`)",
                                headers={"WWW-Authenticate": "Bearer"})
        # on the event loop: a cached key costs no thread hop; a miss reads one row (rare)
        key = self.keys(secret.strip())
        if key is None:
            raise HTTPException(401, "the API key is unknown or revoked",
                                headers={"WWW-Authenticate": "Bearer"})
        if not key.allows(self.scope):
            raise HTTPException(403, f"API key {key.id} lacks the {self.scope.value!r} scope "
                                f"(it has {', '.join(sorted(key.scopes))})")
        deployment_id = request.path_params.get("deployment_id")
        if not key.allows(self.scope, deployment_id):
            raise HTTPException(403, f"API key {key.id} may not touch deployment "
                                f"{deployment_id}")
        return key

    async def __call__(self, request: Request) -> ApiKey:
        # GuardedRoute checked the key before the body was read
        checked = getattr(request.state, "api_key", None)
        return checked if checked is not None else self.check(request)


class GuardedRoute(APIRoute):
    """A route whose guards run before the body is read (`app.router.route_class`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guards = [d.dependency for d in self.dependencies if isinstance(d.dependency, Guard)]

        async def guarded(request: Request) -> Response:
            request = _JsonRequest(request.scope, request.receive)
            for guard in guards:
                request.state.api_key = guard.check(request)
            return await handler(request)

        return guarded


class _JsonRequest(Request):
    """JSON bodies parsed by rows.parse_json: a malformed or too deeply nested body is a 400
    with a readable message (FastAPI re-raises an HTTPException met while reading)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except BadRequest as exc:
                raise HTTPException(400, str(exc)) from None
        return self._json


class BodyTooLarge(HTTPException):
    def __init__(self, detail: str):
        super().__init__(413, detail)


class BodyLimit:
    """ASGI middleware bounding request bodies to `limit` bytes (see the module docstring);
    plain ASGI: no per-request task, unlike BaseHTTPMiddleware."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await _refuse(scope, send, f"the body has {int(length)} bytes; the limit is "
                          f"{self.limit}")
            return
        unread = (length.isdigit() and int(length) > 0) or b"transfer-encoding" in headers
        received = 0
        started = False

        async def bounded() -> Message:
            nonlocal received, unread
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                unread = unread and message.get("more_body", False)
                if received > self.limit:
                    raise BodyTooLarge(f"the body has more than {self.limit} bytes; the limit "
                                       f"is {self.limit}")
            return message

        async def closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if unread:
                    message = {**message, "headers": [*message.get("headers", ()),
                                                      (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, bounded, closing)
        except BodyTooLarge as exc:  # read outside an endpoint's exception handling
            if started:
                raise
            await _refuse(scope, send, str(exc.detail))


async def _refuse(scope: Scope, send: Send, detail: str) -> None:
    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    response = JSONResponse({"detail": detail}, status_code=413,
                            headers={"Connection": "close"})
    await response(scope, nothing, send)
