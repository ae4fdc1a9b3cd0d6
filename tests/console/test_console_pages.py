"""The console's store, evaluation, check and overview pages answer with the store's data, and
empty or broken states are pages, not tracebacks (TestClient on the session's demo site)."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from console_b_helpers import XSS
from console_helpers import API_STORE
from fastapi.testclient import TestClient

import scenarist
from scenarist.console import create_console

CHECK = "data drift < 0.45"


def test_overview_lists_the_stores_with_their_latest_outcome(client):
    page = client.get("/")
    assert page.status_code == 200
    row = re.search(r'<tr data-store="the_MES">.*?</tr>', page.text, re.S).group(0)
    assert "2017Q4" in row and "b-warning" in row
    assert 'data-store="api_store"' in page.text
    assert "Build MES for all quarters" in page.text  # the last scenario runs
    assert re.search(r"\d+ pending, \d+ failed", page.text)
    assert "Fraud " in page.text  # the deployments of the deployments database


def test_store_page_has_one_row_per_evaluation_and_the_check_outcomes(client):
    page = client.get("/stores/the_MES")
    assert page.status_code == 200
    table = page.text.split('id="evaluations"')[1]
    assert [m for m in re.findall(r">(2017Q\d)</a>", table)] == ["2017Q4", "2017Q3", "2017Q2"]
    assert table.count("b-warning") == 1 and table.count("b-ok") == 2
    for metric in ("data_drift", "auc"):
        assert f'data-metric="{metric}"' in page.text
    assert "error_y" in page.text  # 95% intervals drawn as error bars


def test_any_stored_metric_can_be_chosen_per_feature_and_custom(client):
    chosen = client.get("/stores/the_MES", params={"chosen": "1", "m": ["drift_share"],
                                                   "add": "ks_pvalue[card_age]"})
    assert 'data-metric="ks_pvalue[card_age]"' in chosen.text
    assert 'data-metric="data_drift"' not in chosen.text
    again = client.get("/stores/the_MES")  # remembered in the cookie of this client
    assert 'data-metric="ks_pvalue[card_age]"' in again.text
    custom = client.get(f"/stores/{API_STORE}", params={"chosen": "1", "m": ["my_custom_score"]})
    assert 'data-metric="my_custom_score"' in custom.text
    unknown = client.get("/stores/the_MES", params={"chosen": "1", "add": "no_such_metric"})
    assert unknown.status_code == 200 and "has metric" in unknown.text


def test_evaluation_page_has_every_pane(client):
    page = client.get("/stores/the_MES/evaluations/2017Q4")
    assert page.status_code == 200
    features = re.findall(r'<tr class="feature[^"]*" data-feature="([^"]+)"', page.text)
    assert set(features[:2]) == {"card_age", "card_fico_score"} and len(features) == 9
    for pane in ('id="drift-vs-importance"', 'id="performance"', 'id="cbpe"',
                 'id="quality"', "Revisions", 'id="report-link"'):
        assert pane in page.text, pane


def test_report_and_export_of_an_evaluation(client):
    report = client.get("/stores/the_MES/evaluations/2017Q4/report")
    assert report.status_code == 200 and "card_fico_score" in report.text
    exported = client.get("/stores/the_MES/evaluations/2017Q4/export", params={"format": "csv"})
    assert exported.status_code == 200
    rows = pd.read_csv(io.BytesIO(exported.content))
    assert len(rows) == 3_000 and "card_age" in rows.columns
    assert client.get("/stores/the_MES/evaluations/2017Q4/export",
                      params={"format": "xlsx"}).status_code == 500


def test_checks_list_and_a_check_history(client):
    listing = client.get("/checks")
    assert listing.status_code == 200 and CHECK.replace("<", "&lt;") in listing.text
    page = client.get(f"/checks/{quote(CHECK)}")
    assert page.status_code == 200
    history = page.text.split('id="check-history"')[1]
    assert history.count("b-warning") == 1 and "2017Q4" in history


def test_what_if_matches_the_backtest_of_the_edited_bounds(client, console_site):
    page = client.get(f"/checks/{quote(CHECK)}",
                      params={"whatif": "1", "soft_max": "0.0001", "hard_max": ""})
    expected = scenarist.operations.backtesting.what_if(console_site.project, CHECK,
                                                        {"soft_max": 0.0001})
    for outcome, number in expected.counts.loc[CHECK].items():
        assert f'data-outcome="{outcome}">{number}<' in page.text
    assert expected.counts.loc[CHECK, "WARNING"] >= 2  # more than the 1 of soft_max 0.45
    messages = int(expected.alerts_per_month.to_numpy().sum())
    assert f'id="whatif-messages">{messages}<' in page.text
    wrong = client.get(f"/checks/{quote(CHECK)}", params={"whatif": "1", "soft_max": "high"})
    assert wrong.status_code == 200 and "is not a number" in wrong.text


def test_a_long_what_if_lists_the_evaluations_that_change_and_links_to_all(client, console_site,
                                                                          monkeypatch):
    from scenarist.console.pages import checks

    asked = {"whatif": "1", "soft_max": "0.0001", "hard_max": ""}
    every = client.get(f"/checks/{quote(CHECK)}", params=asked).text
    table = every.split('id="whatif-outcomes"')[1].split("</table>")[0]
    total, changed = table.count("<tr") - 1, table.count("class=highlight")
    assert 0 < changed < total  # the demo's history: some outcomes change, some do not
    assert f"Outcomes over {total} evaluation(s): {changed} change" in every

    monkeypatch.setattr(checks, "WHATIF_SHOWN", changed)  # a history longer than the page
    page = client.get(f"/checks/{quote(CHECK)}", params=asked).text
    listed = page.split('id="whatif-outcomes"')[1].split("</table>")[0]
    assert listed.count("<tr") - 1 == changed == listed.count("class=highlight")
    assert f"list all {total}</a>" in page and "all_rows=true" in page
    again = client.get(f"/checks/{quote(CHECK)}", params={**asked, "all_rows": "true"}).text
    assert again.split('id="whatif-outcomes"')[1].split("</table>")[0] == table


def test_user_controlled_names_are_escaped(client):
    for path in (f"/stores/{API_STORE}/evaluations/{quote('week 2')}",
                 f"/stores/{API_STORE}?chosen=1&add={quote('feature_drift[' + XSS + ']')}"):
        page = client.get(path)
        assert page.status_code == 200
        assert XSS not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text or \
            "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page.text


def test_unknown_store_evaluation_and_check_are_404_pages(client):
    for path, listed in (("/stores/nope", "the_MES"), ("/stores/the_MES/evaluations/nope",
                                                          "2017Q4"), ("/checks/nope", "auc")):
        page = client.get(path)
        assert page.status_code == 404 and listed in page.text and "Traceback" not in page.text


@pytest.fixture(scope="module")
def fresh_project(tmp_path_factory) -> Path:
    """The example project before any evaluation."""
    from scenarist.demo.project import write_example

    return write_example(tmp_path_factory.mktemp("fresh"), rows=300).parent


def test_a_project_without_evaluations_is_a_page(fresh_project):
    client = TestClient(create_console(fresh_project))
    for path, hint in (("/", "no evaluation yet"), ("/stores/the_MES", "No evaluations yet"),
                       ("/checks", "never run"), (f"/checks/{quote(CHECK)}", "Never run"),
                       ("/stores", "none yet")):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert hint in page.text, path
    empty = client.get(f"/checks/{quote(CHECK)}", params={"whatif": "1", "soft_max": "0.3"})
    assert empty.status_code == 200 and "No stored evaluation to replay" in empty.text


def test_an_unreachable_store_database_is_a_page_saying_what_to_do(fresh_project, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(fresh_project, broken)
    text = (broken / "scenarist.yaml").read_text()
    (broken / "scenarist.yaml").write_text(text.replace(
        'url: "sqlite:///.scenarist/store.db"',
        'url: "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"'))
    client = TestClient(create_console(broken))
    page = client.get("/stores/the_MES")
    assert page.status_code == 503
    assert "cannot be read" in page.text and "What to do" in page.text
    assert "Traceback" not in page.text


def test_a_broken_project_file_and_no_project_are_pages(tmp_path):
    (tmp_path / "scenarist.yaml").write_text("project: x\nchecks: {c: {store: s}}\n")
    page = TestClient(create_console(tmp_path)).get("/checks")
    assert page.status_code == 500 and "scenarist validate" in page.text
    none = TestClient(create_console(None))
    assert "scenarist ui -p" in none.get("/").text
    for path in ("/stores", "/runs", "/checks", "/alerts"):
        page = none.get(path)
        assert page.status_code == 404 and "No project" in page.text, path
        assert "scenarist ui -p" in page.text and "scenarist.yaml" not in page.text


def test_scenarist_serve_with_a_project_mounts_the_console_under_ui(console_site):
    import httpx
    from console_helpers import free_port, scenarist_running

    with scenarist_running("serve", "-p", str(console_site.project), port=free_port()) as url, \
            httpx.Client(base_url=url, timeout=120) as http:
        page = http.get("/ui/stores/the_MES")
        assert page.status_code == 200 and "2017Q4" in page.text
        assert 'href="/ui/stores/the_MES/evaluations/2017Q4"' in page.text
        assert http.get("/ui/static/plotly.min.js").status_code == 200
