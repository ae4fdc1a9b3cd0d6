"""One error shape for every endpoint: `{"detail": "<what is wrong and what to do>"}`.

    400  a body that cannot be read (malformed or too deeply nested JSON, malformed CSV)
    401  no key, or an unknown/revoked one; 403 a key without the scope or the deployment
    404  unknown deployment or batch; 409 a state conflict; 413 body too large; 415 content type
    422  a well-formed request whose fields or rows do not fit (FastAPI's validation errors are
         rewritten from their list into one sentence naming each field: body.rows[0].prediction)
    503  store unreachable

`install(app)` registers the handlers; HTTPExceptions keep FastAPI's own handler, which already
answers `{"detail": "..."}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from scenarist.errors import (
    ConfigError,
    InputDataError,
    ModelLoadError,
    NotFoundError,
    ScenaristError,
    StoreError,
)
from scenarist.server.rows import BadRequest, UnsupportedMediaType

SHOWN = 5  # validation errors named in one message
_STATUS: list[tuple[type[Exception], int]] = [
    (BadRequest, 400), (UnsupportedMediaType, 415), (NotFoundError, 404),
    (InputDataError, 422), (ModelLoadError, 422), (ConfigError, 409), (StoreError, 503),
    (ScenaristError, 400),
]


def install(app: FastAPI) -> None:
    for error, status in _STATUS:
        app.add_exception_handler(error, _handler(status))
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]


def _handler(status: int):
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)
    return handle


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    unreadable = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if unreadable is not None:  # FastAPI's own decoder (routes outside GuardedRoute)
        reason = (unreadable.get("ctx") or {}).get("error", "JSON decode error")
        return JSONResponse({"detail": f"the body is not valid JSON: {reason}"},
                            status_code=400)
    named = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', e.get('type'))}"
                      for e in errors[:SHOWN])
    more = f"; … and {len(errors) - SHOWN} more" if len(errors) > SHOWN else ""
    return JSONResponse({"detail": f"the request does not fit the endpoint: {named}{more}"},
                        status_code=422)


def _where(loc: Sequence[Any]) -> str:
    """('body', 'rows', 0, 'prediction') → 'body.rows[0].prediction'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
