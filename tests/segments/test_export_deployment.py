"""Deployments: additional data logged beside the features segments the evaluation and comes
back in `export` row-exact with predictions, labels and warnings; custom metrics per batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from segment_data import frame
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.errors import InputDataError, NotFoundError
from scenarist.metrics.segments import SegmentOptions
from scenarist.project.models import model_from_estimator

START = pd.Timestamp("2024-05-01T00:00Z")


@pytest.fixture
def logged(store_url, tmp_path):
    reference, current = frame(2000, 1), frame(1500, 2, shift=3.0)
    estimator = LogisticRegression().fit(reference[["x1", "x2"]], reference.y)
    model = model_from_estimator(estimator, target="y", type="binary", name="m",
                                 features=["x1", "x2"])
    dep = Deployment.create(model, "segments", reference=reference, url=store_url,
                            data_dir=tmp_path / "data")
    ids = [f"s{i}" for i in range(len(current))]
    times = [START + pd.Timedelta(seconds=2 * i) for i in range(len(current))]
    batch = dep.create_batch("May run")
    half = len(current) // 2
    proba = estimator.predict_proba(current[["x1", "x2"]])[:, 1]
    predicted = estimator.predict(current[["x1", "x2"]])
    for part, batch_id in ((slice(0, half), None), (slice(half, None), batch.id)):
        dep.log_batch(ids[part], times[part], current[["x1", "x2"]].iloc[part],
                      predicted[part], proba[part], batch_id=batch_id,
                      additional_data=current[["device", "merchant_id"]].iloc[part])
    dep.log_labels(ids[:1000], current.y[:1000].tolist())
    return dep, current, ids, predicted, proba, batch


def test_export_round_trips_the_logged_rows(logged, tmp_path):
    dep, current, ids, predicted, proba, batch = logged
    path = dep.export(tmp_path / "rows.parquet", start=START, end=START + pd.Timedelta(hours=2))
    rows = pd.read_parquet(path)
    assert rows.columns.tolist() == ["sample_id", "timestamp", "model_version", "x1", "x2",
                                     "device", "merchant_id", "prediction",
                                     "prediction_probability", "label", "warning"]
    assert rows["sample_id"].tolist() == ids
    pd.testing.assert_frame_equal(rows[["x1", "x2", "device", "merchant_id"]],
                                  current[["x1", "x2", "device", "merchant_id"]])
    assert (rows["prediction"].to_numpy() == predicted).all()
    assert rows["prediction_probability"].to_numpy() == pytest.approx(proba, abs=0)
    assert rows["label"][:1000].tolist() == current.y[:1000].tolist()
    assert rows["label"][1000:].isna().all() and not rows["warning"].any()
    assert rows["timestamp"][1] - rows["timestamp"][0] == pd.Timedelta(seconds=2)

    only = pd.read_csv(dep.export(tmp_path / "batch.csv", batch="May run"))
    assert only["sample_id"].tolist() == ids[len(ids) // 2:]
    with pytest.raises(NotFoundError, match="no logged rows between"):
        dep.export(tmp_path / "none.csv", start="2020-01-01", end="2020-01-02")


def test_segments_and_batch_custom_metrics_from_additional_data(logged):
    dep, current, ids, predicted, proba, batch = logged
    approval = lambda c, r, p, labels: float(np.mean(p == 0))  # noqa: E731
    evaluation = dep.evaluate("dep_segments", batch="May run",
                              segments=SegmentOptions(by=("device",), min_rows=30),
                              custom_metrics={"approval_rate": approval})
    second_half = slice(len(ids) // 2, None)
    assert evaluation.metric("approval_rate") == pytest.approx(
        float(np.mean(predicted[second_half] == 0)))
    segments = evaluation.details["segments"]
    tablet = current.iloc[second_half].device == "tablet"
    assert segments["device=tablet"]["rows"] == int(tablet.sum())
    from scenarist.stores.evaluation_store import EvaluationStore

    store = EvaluationStore.open("dep_segments", dep._engine.url.render_as_string(
        hide_password=False))
    part = store.get(evaluation.label, segment="device=tablet")
    assert part.metric("drifted", "x1") == 1.0
    assert part.metric("approval_rate") == pytest.approx(
        float(np.mean(predicted[second_half][tablet.to_numpy()] == 0)))
    with pytest.raises(NotFoundError, match=r"export them with Deployment.get\('.*'\)"
                       r".export\(path, batch='May run'\)"):
        store.export(evaluation.label, "rows.parquet")


def test_additional_data_must_not_repeat_features(logged):
    dep, current, *_ = logged
    with pytest.raises(InputDataError, match=r"additional_data column\(s\) \['x1'\] are model "
                       "features"):
        dep.log_batch(["z1"], [START + pd.Timedelta(hours=1)], current[["x1", "x2"]].head(1),
                      [0], [0.1], additional_data=current[["x1"]].head(1))
    with pytest.raises(InputDataError, match="other columns go in additional_data="):
        dep.log_batch(["z1"], [START + pd.Timedelta(hours=1)],
                      current[["x1", "x2", "device"]].head(1), [0], [0.1])


def test_evaluate_deployment_step_passes_the_store_segments_and_custom_metrics(logged, tmp_path):
    """The scenario step reads `segment_by` and `metrics` of a deployment-fed store."""
    import logging

    import yaml

    from scenarist.flows.context import RunContext
    from scenarist.flows.specs import EvaluateDeploymentStep
    from scenarist.flows.steps import evaluate_deployment_step
    from scenarist.project.config import load_project

    dep, current, ids, predicted, *_ = logged
    root = tmp_path / "project"
    root.mkdir()
    (root / "teammetrics.py").write_text(
        "import numpy as np\n\ndef approval_rate(current, reference, predictions, labels):\n"
        "    return float(np.mean(predictions == 0))\n")
    url = dep._engine.url.render_as_string(hide_password=False)
    (root / "scenarist.yaml").write_text(yaml.safe_dump({
        "project": "p", "connections": {"store": {"url": url}},
        "evaluation_stores": {"prod": {
            "deployment": dep.id, "segment_by": ["device"], "segment_min_rows": 30,
            "metrics": {"approval_rate": {"python": "teammetrics:approval_rate"}}}}}))
    project = load_project(root)
    context = RunContext(project=project, scenario="s", run_id="r1")
    step = EvaluateDeploymentStep(name="E", type="evaluate_deployment", store="prod",
                                  batch="May run")
    evaluate_deployment_step(step, context, logging.getLogger("test"))
    half = slice(len(ids) // 2, None)
    assert context.evaluation["metrics"]["approval_rate"] == pytest.approx(
        float(np.mean(predicted[half] == 0)))
    from scenarist.operations.build import open_store

    assert "device=tablet" in open_store(project, "prod").segments("May run")
