"""Segments: a drift planted in one segment only is invisible globally and caught per segment —
stored with the segment, checked per segment, listed first in the report."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats
from segment_data import frame, write_project

from scenarist.checks.outcome import Outcome
from scenarist.errors import ConfigError, InputDataError, NotFoundError
from scenarist.metrics.segments import SegmentOptions, segment_name, segment_values
from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.checking import run_checks, store_engine
from scenarist.project.config import load_project
from scenarist.reports.html import write_report
from scenarist.stores.check_results import check_history

CHECKS = {
    "drift": {"store": "s", "metric": "data_drift", "soft_max": 0.3},
    "drift per segment": {"store": "s", "metric": "data_drift", "soft_max": 0.3,
                          "segment": "all"},
    "tablet x1 psi": {"store": "s", "metric": "psi", "feature": "x1", "soft_max": 0.25,
                      "segment": "device=tablet"},
}


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """One evaluated project shared by the read-only tests (built once: ~2 s)."""
    root = write_project(tmp_path_factory.mktemp("drifted"),
                         {"segment_by": ["device"], "segment_min_rows": 100}, checks=CHECKS)
    frame(3000, 2, shift=2.5).to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    evaluation = build_evaluation(project, "s", {"q": "Q1"})
    return project, evaluation


def test_drift_in_one_segment_global_ok_segment_warning_report_first(drifted, tmp_path):
    project, evaluation = drifted
    results = run_checks(project)
    by = {(r.name, r.segment): r for r in results}
    assert by[("drift", None)].outcome is Outcome.OK
    assert by[("drift per segment", "device=tablet")].outcome is Outcome.WARNING
    assert by[("drift per segment", "device=mobile")].outcome is Outcome.OK
    assert by[("drift per segment", "device=desktop")].outcome is Outcome.OK
    assert by[("tablet x1 psi", "device=tablet")].outcome is Outcome.WARNING
    assert by[("drift per segment", "device=tablet")].message.startswith("[device=tablet] ")
    assert len(results) == 5

    stored = check_history(store_engine(project, "s"))
    assert set(stored["segment"].dropna()) == {"device=mobile", "device=desktop",
                                                "device=tablet"}
    assert stored.loc[stored["segment"] == "device=tablet", "outcome"].astype(str).tolist() \
        == ["WARNING", "WARNING"]

    html = write_report(project, "s", output=tmp_path / "r.html").read_text()
    table = html.split('<table id="segments">', 1)[1].split("</table>", 1)[0]
    order = re.findall(r"<tr><td>(device=[a-z]+)</td>", table)
    assert order[0] == "device=tablet" and sorted(order) == sorted(evaluation.details["segments"])
    assert 'class="WARNING">WARNING' in table


def test_segment_metrics_match_scipy_on_the_segment_rows(drifted):
    project, evaluation = drifted
    root = project.root
    import pandas as pd

    current = pd.read_parquet(root / "batch_Q1.parquet")
    reference = pd.read_parquet(root / "reference.parquet")
    store = open_store(project, "s")
    for device in ("tablet", "mobile"):
        part = store.get("Q1", segment=f"device={device}")
        cur = current.loc[current.device == device, "x1"]
        ref = reference.loc[reference.device == device, "x1"]
        expected = stats.ks_2samp(ref, cur)
        assert part.metric("ks_statistic", "x1") == pytest.approx(expected.statistic, abs=1e-12)
        assert part.metric("row_count") == part.row_count == len(cur)
        assert part.reference_row_count == len(ref) and part.segment == f"device={device}"
        assert evaluation.details["segments"][f"device={device}"]["reference_rows"] == len(ref)
    assert store.get("Q1").metric("ks_statistic", "x1") == pytest.approx(
        stats.ks_2samp(reference.x1, current.x1).statistic, abs=1e-12)


def test_read_apis_return_all_rows_unless_a_segment_is_asked(drifted):
    project, evaluation = drifted
    store = open_store(project, "s")
    assert evaluation.segment is None and evaluation.metric("row_count") == 3000
    assert store.history("row_count").tolist() == [3000.0]
    tablet = store.history("row_count", segment="device=tablet")
    assert tablet.tolist() == [evaluation.details["segments"]["device=tablet"]["rows"]]
    assert "row_count" in store.list().columns and len(store.list()) == 1
    assert store.segments("Q1") == ["device=mobile", "device=desktop", "device=tablet"]
    table = store.segment_table("Q1")
    assert table.loc["device=tablet", "data_drift"] > 0.3 > evaluation.metric("data_drift")
    with pytest.raises(NotFoundError, match="no segment 'device=phone'; segments: device=mobile"):
        store.get("Q1", segment="device=phone")


def test_top_n_other_and_min_rows_make_empty_segments_with_a_reason(make_project):
    root = make_project({"segment_by": ["device"], "segment_top_n": 1,
                         "segment_min_rows": 1500},
                        checks={"c": {"store": "s", "metric": "data_drift", "soft_max": 0.3,
                                      "segment": "all"}})
    frame(3000, 2).to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    evaluation = build_evaluation(project, "s", {"q": "Q1"})
    segments = evaluation.details["segments"]
    assert list(segments) == ["device=mobile", "device=other"]
    assert segments["device=mobile"]["status"] == "computed"
    assert segments["device=other"]["status"] == "empty"
    assert "fewer than segment_min_rows (1500)" in segments["device=other"]["reason"]
    results = {r.segment: r for r in run_checks(project)}
    assert results["device=other"].outcome is Outcome.EMPTY
    assert "fewer than segment_min_rows" in results["device=other"].message
    assert open_store(project, "s").get("Q1", segment="device=other").metrics == {
        "row_count": segments["device=other"]["rows"]}


def test_segment_values_top_n_from_reference_missing_and_unseen():
    import pandas as pd

    reference = pd.DataFrame({"d": ["a"] * 5 + ["b"] * 3 + ["c"] * 2})
    current = pd.DataFrame({"d": ["a", "b", "c", None, "z", 1.0]})
    labels, ref_labels = segment_values("d", current, reference, top_n=2)
    assert labels.tolist() == ["a", "b", "other", "missing", "other", "other"]
    assert ref_labels.value_counts().to_dict() == {"a": 5, "b": 3, "other": 2}
    with pytest.raises(ValueError, match="at least 1"):
        SegmentOptions(by=("d",), top_n=0)
    long_a, long_b = segment_name("d", "x" * 400), segment_name("d", "x" * 399 + "y")
    assert len(long_a) == 300 and long_a != long_b
    assert segment_name("d", "short") == "d=short"


def test_unknown_segment_column_is_an_input_error(make_project):
    root = make_project({"segment_by": ["browser"]})
    frame(500, 2).to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    with pytest.raises(InputDataError, match="segment column\\(s\\) 'browser' are not in the "
                       "current batch"):
        build_evaluation(project, "s", {"q": "Q1"})
    assert open_store(project, "s").labels() == []  # nothing half-written


def test_segment_checks_need_segment_by(make_project):
    check = {"store": "s", "metric": "data_drift", "soft_max": 0.3, "segment": "all"}
    with pytest.raises(ConfigError, match=r"checks.c.segment.*needs `segment_by` on store 's'"):
        load_project(make_project({}, checks={"c": check}))
    with pytest.raises(ConfigError, match=r"'browser=x' is not \"all\" or .* \(device\)"):
        load_project(make_project({"segment_by": ["device"]},
                                  checks={"c": {**check, "segment": "browser=x"}}))
    root = make_project({})  # evaluated before segment_by was set: EMPTY, saying why
    frame(500, 2).to_parquet(root / "batch_Q1.parquet", index=False)
    build_evaluation(load_project(root), "s", {"q": "Q1"})
    project = load_project(make_project({"segment_by": ["device"]}, checks={"c": check}))
    (result,) = run_checks(project)
    assert result.outcome is Outcome.EMPTY
    assert "has no segment 'all'; segments: none (set `segment_by`" in result.message


def test_bad_segment_options_are_config_errors(make_project):
    root = make_project({"segment_by": ["device"], "segment_top_n": 0})
    with pytest.raises(ConfigError, match="segment_top_n"):
        load_project(root)


def test_segments_stored_on_both_databases(store_url, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from scenarist.project.models import model_from_estimator
    from scenarist.stores.evaluation_store import EvaluationStore

    reference, current = frame(1200, 1), frame(1200, 3, shift=3.0)
    model = model_from_estimator(LogisticRegression().fit(reference[["x1", "x2"]], reference.y),
                                 target="y", type="binary", name="m", features=["x1", "x2"])
    store = EvaluationStore.open("seg-db", store_url)
    store.evaluate(model, current, reference, label="a",
                   segments=SegmentOptions(by=("device",), min_rows=40))
    tablet = store.get("a", segment="device=tablet")
    assert tablet.metric("drifted", "x1") == 1.0
    assert store.get("a").metric("row_count") == 1200
    assert not np.isnan(store.history("data_drift", segment="device=mobile").iloc[0])


def test_cli_lists_segments_and_a_segment_history(drifted):
    from typer.testing import CliRunner

    from scenarist.cli import app

    project, evaluation = drifted
    runner = CliRunner()
    shown = runner.invoke(app, ["store", "segments", "s", "-p", str(project.root)],
                          terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "device=tablet" in shown.output and "device=mobile" in shown.output
    history = runner.invoke(app, ["store", "history", "s", "row_count", "--segment",
                                  "device=tablet", "-p", str(project.root)], terminal_width=200)
    assert history.exit_code == 0, history.output
    assert str(evaluation.details["segments"]["device=tablet"]["rows"]) in history.output
