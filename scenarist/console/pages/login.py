"""Console pages: the login form (an API key of `scenarist serve`) and logout."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from scenarist.console import security
from scenarist.console.state import console_state, render

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", error=None, next=next)


@router.post("/login")
async def login(request: Request):
    from scenarist.server.keys import Scope, verify

    state = console_state(request)
    form = await security.form_data(request)
    target = form.get("next", "/")
    target = target if target.startswith("/") and not target.startswith("//") else "/"
    if not hmac.compare_digest(form.get("csrf_token", ""), security.session_of(request).csrf):
        return render(request, "login.html", status_code=403, next=target,
                      error="the form is stale: reload the page and try again")
    found = verify(form.get("key", "").strip(), url=state.deployments_db())
    if found is None or not found.allows(Scope.READ):
        return render(request, "login.html", status_code=401, next=target,
                      error="unknown or revoked key, or one without the read scope: create one "
                            "with `scenarist keys create console --scope read --deployment '*'`")
    response = RedirectResponse((request.scope.get("root_path") or "") + target, 303)
    session = security.new_session(key=found.id, scopes=tuple(sorted(found.scopes)))
    security.set_cookie(request, response, session, state.secret)
    request.state.session_set = True
    return response


@router.post("/logout", dependencies=[Depends(security.verify_csrf)])
def logout(request: Request):
    response = RedirectResponse((request.scope.get("root_path") or "") + "/login", 303)
    response.delete_cookie(security.COOKIE, path=request.scope.get("root_path") or "/")
    request.state.session_set = True
    return response
