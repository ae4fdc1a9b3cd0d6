"""The console in a real Chromium against `scenarist ui` on 127.0.0.1 (see conftest.py): what a
user sees and clicks. Every test fails on a console error or an uncaught page error."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from console_b_helpers import XSS
from console_helpers import API_STORE

import scenarist

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
CHECK = "data drift < 0.45"


def test_overview_shows_q4_warning_and_leads_to_the_drifted_features(page):
    tab = page.page
    tab.goto("/")
    row = tab.locator('#stores tr[data-store="the_MES"]')
    assert row.locator("td").nth(1).inner_text() == "2017Q4"
    assert row.locator(".outcome .badge").inner_text() == "WARNING"
    tab.wait_for_selector("#spark-1 .main-svg")  # the data_drift sparkline was drawn

    row.get_by_role("link", name="the_MES").click()
    tab.wait_for_selector("#history-charts .main-svg")
    tab.locator("#evaluations").get_by_role("link", name="2017Q4").click()
    tab.wait_for_url("**/evaluations/2017Q4")

    first_two = tab.locator("#drift tr.feature td.name").all_inner_texts()[:2]
    assert sorted(first_two) == ["card_age", "card_fico_score"]
    for feature in first_two:
        histogram = tab.locator(f'#drift tr[data-feature="{feature}"] .hist')
        histogram.locator(".main-svg").first.wait_for()
        assert histogram.locator(".bars .point").count() > 0  # bars drawn, not an empty frame
        assert tab.locator(f'#drift tr[data-feature="{feature}"]').get_by_text("DRIFTED") \
            .count() == 1
    tab.wait_for_selector("#drift-vs-importance .main-svg")
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(DOCS_IMG / "console-evaluation.png"), full_page=False)


def test_chosen_metrics_persist_after_a_reload(page):
    tab = page.page
    tab.goto("/stores/the_MES")
    tab.wait_for_selector("#history-charts .main-svg")
    shown = tab.locator("#history-charts .history").evaluate_all(
        "nodes => nodes.map(n => n.dataset.metric)")
    assert "data_drift" in shown and "accuracy" not in shown

    tab.locator('#metric-chooser input[value="accuracy"]').check()
    tab.locator('#metric-chooser input[value="drift_share"]').uncheck()
    tab.locator('#metric-chooser input[name="add"]').fill("feature_drift[card_age]")
    tab.locator("#show-metrics").click()
    tab.wait_for_load_state()
    tab.goto("/stores/the_MES")  # a fresh visit, no query: the choice is remembered
    tab.wait_for_selector('#history-charts .history[data-metric="accuracy"] .main-svg')
    shown = tab.locator("#history-charts .history").evaluate_all(
        "nodes => nodes.map(n => n.dataset.metric)")
    assert "accuracy" in shown and "feature_drift[card_age]" in shown
    assert "drift_share" not in shown
    assert tab.locator('#evaluations th:text-is("accuracy")').count() == 1
    tab.wait_for_selector('#history-charts .history[data-metric="feature_drift[card_age]"] '
                          '.main-svg')
    tab.screenshot(path=str(DOCS_IMG / "console-store.png"), full_page=False)


def test_what_if_form_gives_the_backtest_counts(page, console_site, tmp_path):
    tab = page.page
    tab.goto("/checks")
    tab.get_by_role("link", name=CHECK).click()
    tab.locator('#whatif input[name="soft_max"]').fill("0.3")
    tab.locator('#whatif input[name="hard_max"]').fill("0.5")
    tab.locator("#whatif-run").click()
    tab.wait_for_selector("#whatif-answer")

    expected = scenarist.backtest(_with_bounds(console_site.project, tmp_path,
                                               "soft_max: 0.45", "soft_max: 0.3, hard_max: 0.5"),
                                  "the_MES", [CHECK])
    counts = expected.counts.loc[CHECK]
    for outcome, number in counts.items():
        assert tab.locator(f'#whatif-counts td[data-outcome="{outcome}"]').inner_text() \
            == str(number)
    assert counts["ERROR"] == 1  # Q4's data_drift is above 0.5: an ERROR, no longer a WARNING
    messages = int(expected.alerts_per_month.to_numpy().sum())
    assert tab.locator("#whatif-messages").inner_text() == str(messages)
    outcomes = tab.locator("#whatif-outcomes td.whatif-outcome").all_inner_texts()
    assert outcomes == list(expected.outcomes["outcome"])


def _with_bounds(project: Path, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the project file with the check's bounds edited by hand, next to its store."""
    text = (project / "scenarist.yaml").read_text()
    assert old in text
    edited = project / "edited-for-test.yaml"
    edited.write_text(text.replace(old, new))
    return edited


def test_a_script_named_feature_is_shown_as_text(page):
    tab = page.page
    tab.goto(f"/stores/{API_STORE}/evaluations/{quote('week 2')}")
    cell = tab.locator("#drift tr.feature td.name").first
    assert cell.inner_text() == XSS
    assert tab.locator("#drift script:not(.figure)").count() == 0
    tab.wait_for_selector("#drift .hist .main-svg")
    tab.goto(f"/stores/{API_STORE}?chosen=1&add={quote('feature_drift[' + XSS + ']')}")
    tab.wait_for_selector("#history-charts .main-svg")


def test_every_page_of_mine_opens_without_errors(page):
    tab = page.page
    for path in ("/", "/stores", "/stores/the_MES", "/stores/the_MES/evaluations/2017Q2",
                 "/checks", f"/checks/{quote(CHECK)}", "/checks/auc%20above%200.7",
                 f"/stores/{API_STORE}"):
        response = tab.goto(path)
        assert response.status == 200, path
        tab.wait_for_load_state("networkidle")
