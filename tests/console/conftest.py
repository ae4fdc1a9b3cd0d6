"""The console's test site, built once per session and shared by every console test:

- the fraud demo project run through Prefect (`run_demo`: evaluations 2017Q2..Q4 of `the_MES`,
  their check history, the scenario runs, the alert in the outbox);
- `api_store`, a store written through the Python API whose feature is named `XSS`;
- the deployments of `console_b_helpers` (logged predictions, late labels) in their own database;
- `scenarist ui` on that project as a real subprocess on 127.0.0.1 (a free port);
- one Chromium (Debian's /usr/bin/chromium, driven by Playwright) for the whole session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from console_b_helpers import XSS, deployments_db, fraud_deployment  # noqa: F401 - fixtures
from console_helpers import API_STORE, free_port, scenarist_running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class ConsoleSite:
    project: Path  # the demo project's folder
    deployments_url: str


@pytest.fixture(scope="session")
def console_site(tmp_path_factory, prefect_api, deployments_db, fraud_deployment  # noqa: F811
                 ) -> ConsoleSite:
    from scenarist.demo.run import run_demo

    folder = tmp_path_factory.mktemp("console-site") / "demo"
    result = run_demo(folder, rows=3_000)
    assert result.check_outcomes["2017Q4"] == "WARNING", result.check_outcomes
    _record_api_store(result.project_file.parent)
    return ConsoleSite(result.project_file.parent, deployments_db[0])


def _record_api_store(root: Path) -> None:
    """Two evaluations of a store written through the API, one feature named like a script."""
    from scenarist.metrics.evaluation import ComputedEvaluation
    from scenarist.metrics.values import MetricValue
    from scenarist.stores.evaluation_store import EvaluationStore

    store = EvaluationStore.open(API_STORE, root=root)
    for label, drift in (("week 1", 0.05), ("week 2", 0.4)):
        values = [MetricValue("data_drift", drift), MetricValue("my_custom_score", 1 - drift),
                  MetricValue("feature_drift", drift, feature=XSS),
                  MetricValue("drifted", float(drift > 0.1), feature=XSS),
                  MetricValue("feature_drift", 0.01, feature="amount"),
                  MetricValue("drifted", 0.0, feature="amount")]
        details = {"drift_methods": {XSS: "wasserstein", "amount": "wasserstein"},
                   "column_kinds": {XSS: "numeric", "amount": "numeric"},
                   "drift_thresholds": {XSS: 0.1, "amount": 0.1},
                   "histograms": {XSS: {"bins": ["a", "b"], "reference": [5, 5],
                                        "current": [8, 2]}}}
        store.record(label, ComputedEvaluation(values, 100, 100, details), model="api_model")


@pytest.fixture
def client(console_site):
    """A TestClient of the console on the site (loopback: no key needed)."""
    from fastapi.testclient import TestClient

    from scenarist.console import create_console

    with TestClient(create_console(console_site.project,
                                   deployments_url=console_site.deployments_url)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def console_server(console_site) -> Iterator[str]:
    """`scenarist ui -p PROJECT --url DEPLOYMENTS` running on 127.0.0.1; its base URL."""
    from prefect.settings import PREFECT_API_URL

    with scenarist_running("ui", "-p", str(console_site.project), "--url",
                           console_site.deployments_url, port=free_port(),
                           env={"PREFECT_API_URL": PREFECT_API_URL.value() or "",
                                "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
                           cwd=console_site.project) as url:
        yield url


@pytest.fixture(scope="module")
def browser(console_server):
    """One headless Chromium per test module (a launch costs ~1 s). Missing Chromium fails
    (CI installs it).

    Playwright's sync API keeps an asyncio loop running in this thread while it is open, and
    Prefect flows (asyncio.run) cannot run under it: the site is built before it starts, and it
    is closed at the end of each module so that the tests after tests/console (flows, …) run
    Prefect again."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package "
                    "(apt-get install chromium; .ci/run does) — the console's browser tests "
                    "must run, not skip")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page and every console error and uncaught page error seen on it."""

    page: object
    errors: list[str]


@pytest.fixture
def page(console_server, browser):
    """A fresh browser context and page on the console; fails the test on any console error
    or page error seen while it ran."""
    context = browser.new_context(base_url=console_server, viewport={"width": 1400,
                                                                      "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(f"console {m.type}: {m.text} ({tab.url})")
           if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"page error: {e} ({tab.url})"))
    tab.set_default_timeout(30_000)
    yield Watched(tab, errors)
    context.close()
    assert not errors, "\n".join(errors)
