"""/deployments and /deployments/{id}: the inventory, every tab, batch management (CSRF +
admin, deletion confirmed), the empty and broken states, and the same in a real Chromium."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from console_b_helpers import XSS, csrf_of

from scenarist.deployments import Deployment

TABS = ("service", "drift", "accuracy", "warnings", "history", "batches")


def _console(url, **kwargs):
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    return TestClient(create_console(None, deployments_url=url, **kwargs))


@pytest.fixture
def batch(fraud_deployment):
    """A fresh open batch of the shared deployment (tests that change a batch use their own)."""
    return fraud_deployment.create_batch(f"console batch {uuid.uuid4().hex[:6]}")


def test_inventory_shows_label_model_health_24h_predictions_and_labelled_ratio(
        client, fraud_deployment):
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) \
        + timedelta(hours=1)
    day = fraud_deployment.get_service_stats(end - timedelta(hours=24), end)
    ratio = fraud_deployment.get_label_readiness().labelled_ratio
    page = client.get("/deployments")
    assert page.status_code == 200
    row = re.search(rf'<tr data-deployment="{fraud_deployment.id}">.*?</tr>', page.text, re.S)[0]
    assert "Fraud &lt;script&gt;alert(1)&lt;/script&gt;" in row and XSS not in page.text
    assert "fraud_model v1" in row
    assert day.total_predictions == 300  # the second batch; the first is 25-30 hours old
    assert '<td class="num">300</td>' in row
    assert f"{ratio:.1%}" in row and ratio == 0.5
    assert row.count('class="badge') == 3  # service, drift, accuracy


def test_every_tab_answers_200_with_the_deployment_data(client, fraud_deployment):
    for tab in TABS:
        page = client.get(f"/deployments/{fraud_deployment.id}", params={"tab": tab})
        assert page.status_code == 200, (tab, page.text)
        assert 'aria-current="page"' in page.text
    service = client.get(f"/deployments/{fraud_deployment.id}").text
    assert "<td class=\"num\">600</td>" in service  # both batches are in the 7-day window
    assert service.count('<script type="application/json" class="figure"') == 3
    batches = client.get(f"/deployments/{fraud_deployment.id}?tab=batches").text
    for b in fraud_deployment.list_batches():
        assert f'data-batch="{b.id}"' in batches
    history = client.get(f"/deployments/{fraud_deployment.id}?tab=history").text
    assert "<td>fraud_model</td>" in history and "current" in history


def test_drift_tab_computes_the_windows_drift_on_request_only(client, fraud_deployment):
    page = client.get(f"/deployments/{fraud_deployment.id}?tab=drift")
    assert 'id="drift-table"' not in page.text  # no stored evaluation: nothing read
    computed = client.get(f"/deployments/{fraud_deployment.id}?tab=drift&compute=1").text
    expected = fraud_deployment.get_feature_drift().sort_values("psi", ascending=False)
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">", computed)
    assert rows == list(expected.index)
    assert computed.count('class="figure"') == 1  # drift vs importance


def test_unknown_tab_and_unknown_deployment_are_404_pages(client, fraud_deployment):
    assert client.get(f"/deployments/{fraud_deployment.id}?tab=nope").status_code == 404
    bad = client.get(f"/deployments/{fraud_deployment.id}?start=yesterday")
    assert bad.status_code == 400 and "top of an hour" in bad.text
    missing = client.get("/deployments/0000")
    assert missing.status_code == 404 and "no deployment with id" in missing.text


def test_lock_unlock_and_rename_a_batch(client, fraud_deployment, batch):
    path = f"/deployments/{fraud_deployment.id}/batches/{batch.id}"
    token = csrf_of(client, f"/deployments/{fraud_deployment.id}?tab=batches")
    locked = client.post(f"{path}/lock", data={"csrf_token": token})
    assert locked.status_code == 200 and "locked batch" in locked.text
    assert fraud_deployment.get_batch(batch.id).locked
    client.post(f"{path}/unlock", data={"csrf_token": token})
    assert not fraud_deployment.get_batch(batch.id).locked
    renamed = client.post(f"{path}/rename", data={"csrf_token": token, "name": f"{XSS} run"})
    assert renamed.status_code == 200 and XSS not in renamed.text
    assert fraud_deployment.get_batch(batch.id).name == f"{XSS} run"
    empty = client.post(f"{path}/rename", data={"csrf_token": token, "name": "  "})
    assert empty.status_code == 400 and "non-empty name: nothing renamed" in empty.text
    assert fraud_deployment.get_batch(batch.id).name == f"{XSS} run"


def test_deleting_a_batch_needs_its_name_typed(client, fraud_deployment, batch):
    path = f"/deployments/{fraud_deployment.id}/batches/{batch.id}/delete"
    confirm = client.get(path)
    assert confirm.status_code == 200 and batch.name in confirm.text
    token = csrf_of(client, path)
    refused = client.post(path, data={"csrf_token": token, "confirm": "something else"})
    assert refused.status_code == 400 and "nothing was deleted" in refused.text
    assert batch.id in {b.id for b in fraud_deployment.list_batches()}
    done = client.post(path, data={"csrf_token": token, "confirm": batch.name})
    assert done.status_code == 200 and "deleted batch" in done.text
    assert batch.id not in {b.id for b in fraud_deployment.list_batches()}


def test_batch_actions_refuse_a_missing_csrf_token_and_a_key_without_admin(
        console_site, fraud_deployment, batch):
    from scenarist.server.keys import create_key

    path = f"/deployments/{fraud_deployment.id}/batches/{batch.id}/lock"
    with _console(console_site.deployments_url) as anyone:
        assert anyone.post(path).status_code == 403
        assert anyone.post(path, data={"csrf_token": "forged"}).status_code == 403
    _, secret = create_key("batch reader", ["read"], ["*"], url=console_site.deployments_url)
    with _console(console_site.deployments_url, require_key=True) as reader:
        assert reader.post(path).status_code == 401
        reader.post("/login", data={"key": secret, "next": "/",
                                    "csrf_token": csrf_of(reader, "/login")})
        token = csrf_of(reader, f"/deployments/{fraud_deployment.id}?tab=batches")
        refused = reader.post(path, data={"csrf_token": token})
        assert refused.status_code == 403 and "admin" in refused.text
    assert not fraud_deployment.get_batch(batch.id).locked


def test_no_deployments_is_a_page_saying_what_to_do(tmp_path):
    with _console(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        page = empty.get("/deployments")
    assert page.status_code == 200
    assert "No deployments yet" in page.text and "Deployment.create" in page.text


def test_an_unreachable_store_is_a_page_with_the_error_and_what_to_do():
    with _console("postgresql://nobody@127.0.0.1:1/nothing") as broken:
        page = broken.get("/deployments")
        detail = broken.get("/deployments/abc?tab=batches")
    assert page.status_code == 503 and detail.status_code == 503
    assert "cannot reach the store" in page.text and "--url" in page.text
    assert "Traceback" not in page.text


def test_a_deployment_without_reference_data_says_so_on_its_drift_tab(deployments_db,
                                                                        fraud_deployment):
    from scenarist.project.models import model_from_estimator

    url, data_dir = deployments_db
    model = model_from_estimator(fraud_deployment_estimator(), target="y", type="binary",
                                 name="bare")
    bare = Deployment.create(model, "no reference", url=url, data_dir=data_dir)
    with _console(url) as client:
        for tab in TABS:
            assert client.get(f"/deployments/{bare.id}?tab={tab}").status_code == 200
        drift = client.get(f"/deployments/{bare.id}?tab=drift&compute=1")
    assert 'id="no-reference"' in drift.text and "reference=" in drift.text
    bare.delete()


def fraud_deployment_estimator():
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=50), "x2": rng.normal(size=50)})
    return LogisticRegression().fit(frame, (frame["x1"] > 0).astype(int))


# -- in a real Chromium -------------------------------------------------------------------------

def test_browser_locks_a_batch_and_sees_it_locked(page, fraud_deployment, batch):
    tab = page.page
    tab.goto(f"/deployments/{fraud_deployment.id}?tab=batches")
    row = tab.locator(f'tr[data-batch="{batch.id}"]')
    assert row.locator(".state").inner_text().strip() == "open"
    row.locator("button.lock").click()
    tab.wait_for_url(re.compile(r".*tab=batches.*message=.*"))
    row = tab.locator(f'tr[data-batch="{batch.id}"]')
    assert row.locator(".state").inner_text().strip() == "locked"
    assert tab.locator("#message").inner_text().startswith("locked batch")
    assert fraud_deployment.get_batch(batch.id).locked


def test_browser_draws_every_tab_without_console_errors(page, fraud_deployment):
    tab = page.page
    tab.goto("/deployments")
    tab.get_by_role("link", name=f"Fraud {XSS}").click()
    for name in TABS:
        tab.goto(f"/deployments/{fraud_deployment.id}?tab={name}")
        charts = tab.locator("script.figure").count()
        if charts:
            tab.wait_for_function(
                f"document.querySelectorAll('.chart .main-svg').length >= {charts}")
    tab.goto(f"/deployments/{fraud_deployment.id}?tab=drift&compute=1")
    tab.wait_for_function("document.querySelectorAll('.chart .main-svg').length >= 1")
    assert tab.locator("#drift-table tbody tr").count() == len(fraud_deployment.model.features)


def test_drift_tab_reads_the_evaluation_store_fed_by_the_deployment(deployments_db,
                                                                   fraud_deployment, tmp_path):
    import json

    url, _ = deployments_db
    (tmp_path / "scenarist.yaml").write_text(
        "project: production\n"
        f"connections:\n  store: {{url: \"{url}\"}}\n"
        f"evaluation_stores:\n  fraud_prod: {{deployment: {fraud_deployment.id}}}\n")
    for name in ("May run", "June run"):
        fraud_deployment.evaluate("fraud_prod", batch=name)
    latest = Deployment.get(fraud_deployment.id, url=url)
    from scenarist.stores.evaluation_store import EvaluationStore

    table = EvaluationStore.open("fraud_prod", url).get("June run").feature_table()
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    with TestClient(create_console(tmp_path)) as client:
        page = client.get(f"/deployments/{latest.id}?tab=drift")
    assert page.status_code == 200
    assert "fraud_prod" in page.text and "June run" in page.text
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">", page.text)
    assert rows == list(table["psi"].sort_values(ascending=False).index)
    figures = [json.loads(f) for f in re.findall(
        r'<script type="application/json" class="figure"[^>]*>(.*?)</script>', page.text, re.S)]
    over_time = figures[1]["data"]
    assert [t["name"] for t in over_time] == rows[:len(over_time)]
    assert all(t["x"] == ["May run", "June run"] for t in over_time)


def test_actions_redirect_below_the_mount_point(deployments_db, fraud_deployment, batch):
    """Under `scenarist serve -p` the console is mounted at /ui: links and redirects stay there."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    outer = FastAPI()
    outer.mount("/ui", create_console(None, deployments_url=deployments_db[0]))
    tab = f"/ui/deployments/{fraud_deployment.id}?tab=batches"
    with TestClient(outer) as mounted:
        page = mounted.get(tab)
        assert f'action="/ui/deployments/{fraud_deployment.id}/batches/{batch.id}/lock"' \
            in page.text
        done = mounted.post(f"/ui/deployments/{fraud_deployment.id}/batches/{batch.id}/lock",
                            data={"csrf_token": csrf_of(mounted, tab)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/ui/deployments/{fraud_deployment.id}?tab=")
    assert fraud_deployment.get_batch(batch.id).locked
