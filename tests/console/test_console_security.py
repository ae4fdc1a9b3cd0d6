"""The console off loopback: every route answers 401 until an API key of `scenarist serve` is
entered; the session cookie is signed, HttpOnly and SameSite=Strict; mutating POSTs need the
admin scope and the session's CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from console_helpers import free_port, scenarist_running
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from scenarist.console import create_console, security
from scenarist.server.keys import create_key, revoke_key

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def keys_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('console-keys') / 'keys.db'}"


@pytest.fixture(scope="module")
def secrets(keys_url) -> dict[str, str]:
    return {scope: create_key(f"console {scope}", [scope], ["*"], url=keys_url)[1]
            for scope in ("read", "admin", "predict")}


def _guarded(project: Path | None, keys_url: str, **options) -> TestClient:
    app = create_console(project, deployments_url=keys_url, require_key=True)
    probe = APIRouter()  # an admin action, as B's pages declare theirs

    @probe.post("/probe-admin-action", dependencies=security.ADMIN_POST)
    def admin_action() -> dict[str, bool]:
        return {"done": True}

    app.include_router(probe)
    return TestClient(app, **options)


def _paths(routes) -> list[tuple[str, str]]:
    """Every (method, path) of the routes (and of the routers included, which declare no
    prefix), path parameters filled with a name."""
    found = []
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            found += _paths(route.original_router.routes)
        elif isinstance(route, APIRoute):
            path = re.sub(r"\{[^}]+\}", "some-name", route.path)
            found += [(method, path) for method in sorted(route.methods) if method != "HEAD"]
    return found


def test_every_route_is_401_without_a_key(console_site, keys_url):
    client = _guarded(console_site.project, keys_url)
    routes = [r for r in _paths(client.app.routes)
              if r[1] not in ("/login", "/logout") and not r[1].startswith("/static/")]
    assert len(routes) >= 15  # every page area of both console helpers is covered
    for method, path in routes:
        answer = client.request(method, path)
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.json()["detail"].startswith("an API key is required")
        browser = client.request(method, path, headers={"accept": "text/html"})
        assert browser.status_code == 401 and 'name="key"' in browser.text, (method, path)
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/login").status_code == 200


def _login(client: TestClient, secret: str, next_path: str = "/"):
    token = CSRF.search(client.get("/login").text)[1]
    return client.post("/login", data={"key": secret, "csrf_token": token, "next": next_path},
                       follow_redirects=False)


def test_a_read_key_logs_in_with_a_signed_strict_cookie(console_site, keys_url, secrets):
    client = _guarded(console_site.project, keys_url, base_url="https://console.example")
    answer = _login(client, secrets["read"], "/checks")
    assert answer.status_code == 303 and answer.headers["location"] == "/checks"
    cookie = answer.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Secure", "Path=/"):
        assert attribute.lower() in cookie.lower(), (attribute, cookie)
    assert client.get("/checks").status_code == 200
    assert client.get("/stores/the_MES/evaluations/2017Q4").status_code == 200

    forged = client.cookies[security.COOKIE].rsplit(".", 1)[0] + "." + "0" * 64
    client.cookies.set(security.COOKIE, forged, domain="console.example")
    assert client.get("/checks").status_code == 401


def test_wrong_revoked_or_scope_less_keys_are_refused(console_site, keys_url, secrets):
    client = _guarded(console_site.project, keys_url)
    for secret in ("sck_nope_nope", "not a key", secrets["predict"]):
        answer = _login(client, secret)
        assert answer.status_code == 401 and "scenarist keys create" in answer.text
    key, secret = create_key("short-lived", ["read"], ["*"], url=keys_url)
    revoke_key(key.id, url=keys_url)
    assert _login(client, secret).status_code == 401
    token = CSRF.search(client.get("/login").text)[1]
    stale = client.post("/login", data={"key": secrets["read"], "csrf_token": token + "x"})
    assert stale.status_code == 403


def test_mutating_actions_need_admin_and_the_csrf_token(console_site, keys_url, secrets):
    reader = _guarded(console_site.project, keys_url)
    _login(reader, secrets["read"])
    token = CSRF.search(reader.get("/checks").text)[1]  # the logout form carries it
    assert reader.post("/probe-admin-action", data={"csrf_token": token}).status_code == 403

    admin = _guarded(console_site.project, keys_url)
    _login(admin, secrets["admin"])
    token = CSRF.search(admin.get("/checks").text)[1]
    assert admin.post("/probe-admin-action", data={}).status_code == 403
    assert admin.post("/probe-admin-action", data={"csrf_token": "forged"}).status_code == 403
    done = admin.post("/probe-admin-action", data={"csrf_token": token})
    assert done.status_code == 200 and done.json() == {"done": True}
    assert admin.post("/probe-admin-action", headers={"x-csrf-token": token}).status_code == 200

    out = admin.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert admin.get("/checks").status_code == 401


def test_on_loopback_no_key_is_asked_but_csrf_still_is(console_site):
    app = create_console(console_site.project, require_key=False)
    probe = APIRouter()

    @probe.post("/probe-admin-action", dependencies=security.ADMIN_POST)
    def admin_action() -> dict[str, bool]:
        return {"done": True}

    app.include_router(probe)
    client = TestClient(app)
    assert client.get("/checks").status_code == 200
    assert client.post("/probe-admin-action", data={}).status_code == 403
    token = CSRF.search(client.get("/login").text)[1]
    assert client.post("/probe-admin-action", data={"csrf_token": token}).status_code == 200


def test_scenarist_ui_on_a_network_address_asks_for_a_key(console_site, keys_url, secrets):
    import httpx

    with scenarist_running("ui", "-p", str(console_site.project), "--url", keys_url,
                           "--host", "0.0.0.0", port=free_port()) as url, \
            httpx.Client(base_url=url, timeout=120) as http:
        assert http.get("/").status_code == 401
        assert http.get("/stores/the_MES").status_code == 401
        token = CSRF.search(http.get("/login").text)[1]
        answer = http.post("/login", data={"key": secrets["read"], "csrf_token": token},
                           follow_redirects=True)
        assert answer.status_code == 200 and "the_MES" in answer.text  # redirected to /
