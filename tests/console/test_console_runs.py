"""/runs, /runs/{id}, /scenarios and "Run now" (in-process and through a Prefect deployment)."""

from __future__ import annotations

import re
import time

import pytest
from console_b_helpers import csrf_of

from scenarist.flows.scenario import project_engine
from scenarist.project.config import load_project
from scenarist.stores.runs import scenario_run, scenario_runs

SCENARIO = "Data drift monitor"


def _runs(site):
    return scenario_runs(project_engine(load_project(site.project)), limit=500)


def _wait_for_run(site, known: set[str], deadline_s: float = 240.0):
    """The first run not in `known` once it has an outcome (polls the store)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        runs = _runs(site)
        new = runs[~runs["id"].isin(known)]
        if len(new) and new["outcome"].notna().all():
            return new.iloc[0]
        time.sleep(0.5)
    pytest.fail(f"no new finished run within {deadline_s} s")


def test_runs_page_lists_the_demo_runs_with_their_outcomes(client, console_site):
    runs = _runs(console_site)
    page = client.get("/runs")
    assert page.status_code == 200
    for run_id in runs["id"].head(5):
        assert f'data-run="{run_id}"' in page.text
    assert "b-warning" in page.text  # the Q4 run
    only = client.get("/runs", params={"scenario": "Build MES for all quarters"})
    assert only.status_code == 200
    parent = runs[runs["scenario"] == "Build MES for all quarters"]["id"]
    children = runs[runs["scenario"] == SCENARIO]["id"]
    assert all(f'data-run="{i}"' in only.text for i in parent)
    assert not any(f'data-run="{i}"' in only.text for i in children)


def test_run_page_shows_steps_attempts_messages_and_log(client, console_site):
    engine = project_engine(load_project(console_site.project))
    runs = _runs(console_site)
    q4 = next(r for r in runs.itertuples()
              if r.scenario == SCENARIO and r.variables.get("quarter") == "2017Q4")
    run, steps = scenario_run(engine, q4.id)
    page = client.get(f"/runs/{q4.id}")
    assert page.status_code == 200
    text = page.text
    assert [s.name for s in steps] == ["Build MES", "MES_Warn"]
    for step in steps:
        assert f"<td>{step.name}</td>" in text
    assert "b-warning" in text and "2017Q4" in text
    assert 'id="messages"' in text and "Data drift warning" in text  # the queued alert
    first_log_line = run["log"].splitlines()[0]
    assert first_log_line.split(" - ")[-1].replace("'", "&#39;") in text
    if run["url"]:
        assert f'href="{run["url"]}"' in text


def test_unknown_run_is_a_404_page(client):
    page = client.get("/runs/not-a-run")
    assert page.status_code == 404
    assert "no scenario run with id" in page.text


def test_scenarios_pages_list_scenarios_and_prefill_variables(client):
    listing = client.get("/scenarios")
    assert listing.status_code == 200
    assert SCENARIO in listing.text and "Build MES for all quarters" in listing.text
    page = client.get(f"/scenarios/{SCENARIO}")
    assert page.status_code == 200
    assert 'name="var.quarter" value="2017Q4"' in page.text
    assert "Runs in the console&#39;s process" in page.text
    assert client.get("/scenarios/nope").status_code == 404


def test_run_now_without_csrf_token_is_refused_and_starts_nothing(client, console_site):
    before = set(_runs(console_site)["id"])
    refused = client.post(f"/scenarios/{SCENARIO}/run", data={"var.quarter": "2017Q3"})
    assert refused.status_code == 403
    wrong = client.post(f"/scenarios/{SCENARIO}/run",
                        data={"var.quarter": "2017Q3", "csrf_token": "forged"})
    assert wrong.status_code == 403
    time.sleep(1.0)  # a started run records itself within milliseconds; none may appear
    assert set(_runs(console_site)["id"]) == before


def test_run_now_needs_the_admin_scope(console_site):
    from fastapi.testclient import TestClient

    from scenarist.console import create_console
    from scenarist.server.keys import create_key

    _, secret = create_key("console reader", ["read"], ["*"], url=console_site.deployments_url)
    app = create_console(console_site.project, deployments_url=console_site.deployments_url,
                         require_key=True)
    with TestClient(app) as reader:
        assert reader.get(f"/scenarios/{SCENARIO}").status_code == 401
        token = csrf_of(reader, "/login")
        assert reader.post("/login", data={"key": secret, "next": "/",
                                           "csrf_token": token}).status_code in (200, 303)
        token = csrf_of(reader, f"/scenarios/{SCENARIO}")
        before = set(_runs(console_site)["id"])
        refused = reader.post(f"/scenarios/{SCENARIO}/run",
                              data={"var.quarter": "2017Q3", "csrf_token": token})
        assert refused.status_code == 403
        assert "admin" in refused.text
        assert set(_runs(console_site)["id"]) == before


def test_run_now_runs_the_scenario_in_process_with_the_form_variables(client, console_site):
    before = set(_runs(console_site)["id"])
    token = csrf_of(client, f"/scenarios/{SCENARIO}")
    started = client.post(f"/scenarios/{SCENARIO}/run", follow_redirects=False,
                          data={"var.quarter": "2017Q3", "extra": "note=from the console",
                                "csrf_token": token})
    assert started.status_code == 303
    assert started.headers["location"].startswith("/runs?")
    run = _wait_for_run(console_site, before)
    assert run["scenario"] == SCENARIO and run["trigger"] == "console"
    assert run["variables"]["quarter"] == "2017Q3"
    assert run["variables"]["note"] == "from the console"
    assert run["outcome"] in ("SUCCESS", "WARNING")
    page = client.get("/runs")
    assert f'data-run="{run["id"]}"' in page.text


def test_run_now_goes_through_the_scenarios_prefect_deployment(client, console_site):
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from scenarist.bundles.prefect_deployments import ENTRYPOINT, FLOW_NAME

    with get_client(sync_client=True) as prefect:
        flow_id = prefect.create_flow_from_name(FLOW_NAME)
        deployment_id = prefect.create_deployment(
            flow_id=flow_id, name="console-run-now", entrypoint=ENTRYPOINT,
            path=str(console_site.project),
            parameters={"project": ".", "scenario": SCENARIO, "variables": {},
                        "trigger": "quarterly"})
    try:
        form = client.get(f"/scenarios/{SCENARIO}").text
        assert f"Runs through its Prefect deployment {FLOW_NAME}/console-run-now" in form
        token = csrf_of(client, f"/scenarios/{SCENARIO}")
        started = client.post(f"/scenarios/{SCENARIO}/run",
                              data={"var.quarter": "2017Q2", "csrf_token": token})
        assert started.status_code == 200  # the /runs page after the redirect
        assert f"{FLOW_NAME}/console-run-now" in started.text
        with get_client(sync_client=True) as prefect:
            runs = prefect.read_flow_runs(deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[deployment_id])))
        assert len(runs) == 1
        assert runs[0].parameters["variables"] == {"quarter": "2017Q2"}
        assert runs[0].parameters["trigger"] == "console"
        assert runs[0].parameters["scenario"] == SCENARIO  # the deployment's own, merged
    finally:
        with get_client(sync_client=True) as prefect:
            prefect.delete_deployment(deployment_id)


# -- in a real Chromium -------------------------------------------------------------------------

def test_browser_run_now_then_the_run_appears_in_runs_with_its_outcome(page, console_site):
    tab = page.page
    before = set(_runs(console_site)["id"])
    tab.goto("/scenarios")
    tab.get_by_role("link", name=SCENARIO, exact=True).first.click()
    tab.fill('input[name="var.quarter"]', "2017Q2")
    tab.get_by_role("button", name="Run now").click()
    tab.wait_for_url(re.compile(r".*/runs\?.*"))
    assert "started scenario" in tab.locator("#message").inner_text()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        rows = tab.locator("#runs tbody tr")
        new = [rows.nth(i) for i in range(rows.count())
               if rows.nth(i).get_attribute("data-run") not in before]
        if new and new[0].locator(".outcome").inner_text().strip() != "running":
            break
        tab.wait_for_timeout(1000)
        tab.reload()
    else:
        pytest.fail("the run started with Run now did not finish in /runs within 240 s")
    outcome = new[0].locator(".outcome").inner_text().strip()
    run_id = new[0].get_attribute("data-run")
    assert outcome == _runs(console_site).set_index("id").loc[run_id, "outcome"]
    new[0].locator("a", has_text=run_id[:8]).click()
    tab.wait_for_selector("#steps")
    assert "2017Q2" in tab.locator("#variables").inner_text()


def test_browser_runs_scenarios_and_alerts_pages_have_no_console_errors(page, console_site):
    tab = page.page
    run_id = _runs(console_site)["id"].iloc[0]
    for path in ("/runs", f"/runs/{run_id}", "/scenarios", f"/scenarios/{SCENARIO}",
                 "/alerts", "/alerts?status=sent"):
        response = tab.goto(path)
        assert response.status == 200, path
        tab.wait_for_load_state("load")


def test_a_project_without_runs_or_messages_shows_empty_pages(tmp_path):
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    (tmp_path / "scenarist.yaml").write_text(
        "project: empty\nscenarios:\n  a/b <i>x</i>:\n    steps: []\n")
    with TestClient(create_console(tmp_path)) as client:
        runs = client.get("/runs")
        alerts = client.get("/alerts")
        scenarios = client.get("/scenarios")
        slashed = client.get("/scenarios/a%2Fb%20%3Ci%3Ex%3C%2Fi%3E")
    assert runs.status_code == alerts.status_code == scenarios.status_code == 200
    assert "No scenario runs recorded yet" in runs.text
    assert "The outbox is empty" in alerts.text
    assert "a/b &lt;i&gt;x&lt;/i&gt;" in scenarios.text and "<i>x</i>" not in scenarios.text
    assert slashed.status_code == 200 and "Never run" in slashed.text
    assert 'action="/scenarios/a%2Fb%20%3Ci%3Ex%3C%2Fi%3E/run"' in slashed.text
