"""`scenarist predict`: a batch scoring job, every row monitored under the job's one batch."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator

ROWS = 1_000_000
SCENARIST = str(Path(sys.executable).parent / "scenarist")


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict-job")
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"x1": rng.normal(size=500), "x2": rng.normal(size=500)})
    train["y"] = (train.x1 - train.x2 > 0).astype(int)
    estimator = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
    joblib.dump(estimator, folder / "model.joblib")
    url = f"sqlite:///{folder / 'store.db'}"
    deployment = Deployment.create(
        model_from_estimator(estimator, target="y", type="binary", name="scorer"), "scoring",
        reference=train, url=url, data_dir=folder / "data")
    return folder, url, deployment, estimator


def test_a_million_row_csv_is_scored_and_monitored_under_one_new_batch(job):
    folder, url, deployment, estimator = job
    rng = np.random.default_rng(9)
    rows = pa.table({"customer": np.arange(ROWS), "x1": rng.normal(size=ROWS),
                     "x2": rng.normal(size=ROWS)})
    pacsv.write_csv(rows, folder / "scoring.csv")
    started = time.perf_counter()
    result = subprocess.run(
        [SCENARIST, "predict", deployment.id, str(folder / "scoring.csv"), "-o",
         str(folder / "scored.csv"), "--model", str(folder / "model.joblib"), "--url", url],
        capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    batch_id = result.stdout.strip()
    batches = Deployment.get(deployment.id, url=url).list_batches()
    assert [b.id for b in batches] == [batch_id]
    assert batches[0].name.startswith("Batch From predict.py - ")
    stats = Deployment.get(deployment.id, url=url).get_service_stats(
        batches=[batch_id], start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert stats.total_predictions == ROWS
    scored = pacsv.read_csv(folder / "scored.csv").to_pandas()
    assert len(scored) == ROWS and scored["customer"].tolist() == list(range(ROWS))
    features = rows.select(["x1", "x2"]).to_pandas()
    assert (scored["prediction"].to_numpy() == estimator.predict(features)).all()
    np.testing.assert_allclose(scored["probability"], estimator.predict_proba(features)[:, 1],
                               rtol=1e-9)
    assert scored["sample_id"].is_unique
    print(f"scenarist predict: {ROWS} rows in {elapsed:.1f} s")


def test_a_parquet_job_joins_a_given_batch_and_mistakes_are_one_line(job):
    folder, url, deployment, estimator = job
    batch = Deployment.get(deployment.id, url=url).create_batch("nightly")
    frame = pd.DataFrame({"x1": [0.1, -2.0, 3.0], "x2": [1.0, 0.0, -1.0]})
    frame.to_parquet(folder / "small.parquet")
    base = [SCENARIST, "predict", deployment.id, str(folder / "small.parquet"), "--url", url]
    done = subprocess.run([*base, "-o", str(folder / "small-out.parquet"), "--model",
                           str(folder / "model.joblib"), "--batch", "nightly"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == batch.id, done.stderr
    out = pd.read_parquet(folder / "small-out.parquet")
    assert out["prediction"].tolist() == estimator.predict(frame).tolist()
    no_model = subprocess.run([*base, "-o", str(folder / "x.csv")], capture_output=True,
                              text=True)
    assert no_model.returncode == 3 and "--model path.joblib" in no_model.stderr
    assert "Traceback" not in no_model.stderr
    wrong_kind = subprocess.run([*base, "-o", str(folder / "x.json"), "--model",
                                 str(folder / "model.joblib")], capture_output=True, text=True)
    assert wrong_kind.returncode == 3 and ".csv or .parquet" in wrong_kind.stderr
