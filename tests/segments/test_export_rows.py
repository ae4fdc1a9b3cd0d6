"""Export: the rows behind an evaluation come back row-exact (Parquet and CSV, Python and CLI);
tampered, missing or never-kept rows are clear errors."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
import pytest
from segment_data import frame
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.errors import InputDataError, NotFoundError, StoreError
from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.export import write_table
from scenarist.project.config import load_project
from scenarist.project.models import load_model


@pytest.fixture
def project(make_project):
    root = make_project({"segment_by": ["device"]})
    batch = frame(800, 2)
    batch.loc[3, "device"] = None  # a missing value survives the round trip
    batch.to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    build_evaluation(project, "s", {"q": "Q1"})
    return project


def test_parquet_export_round_trips_row_exact(project, tmp_path):
    store = open_store(project, "s")
    path = store.export("Q1", tmp_path / "rows.parquet")
    exported = pd.read_parquet(path)
    batch = pd.read_parquet(project.root / "batch_Q1.parquet")
    pd.testing.assert_frame_equal(exported[batch.columns.tolist()], batch)
    assert exported.columns.tolist() == [*batch.columns, "prediction", "prediction_probability"]
    estimator = joblib.load(project.root / "model.joblib")
    assert (exported["prediction"].to_numpy() == estimator.predict(batch[["x1", "x2"]])).all()
    assert exported["prediction_probability"].to_numpy() == pytest.approx(
        estimator.predict_proba(batch[["x1", "x2"]])[:, 1], abs=1e-15)
    assert exported["device"].isna().sum() == 1
    snapshot = store.get("Q1").snapshot
    assert snapshot["rows"] == 800 and len(snapshot["sha256"]) == 64


def test_csv_export_from_the_cli(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default output file is written to the working directory
    output = tmp_path / "rows.csv"
    result = CliRunner().invoke(app, ["export", "s", "--label", "Q1", "-o", str(output),
                                      "--project", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "exported 800 row(s) of evaluation 'Q1'" in result.output
    exported = pd.read_csv(output)
    batch = pd.read_parquet(project.root / "batch_Q1.parquet")
    batch["device"] = batch["device"].fillna("")
    exported["device"] = exported["device"].fillna("")
    pd.testing.assert_frame_equal(exported[batch.columns.tolist()], batch, check_exact=False,
                                  rtol=1e-15)

    default = CliRunner().invoke(app, ["export", "s", "--format", "csv", "--project",
                                       str(project.root)], catch_exceptions=False)
    assert default.exit_code == 0 and "s_Q1.csv" in default.output.replace("\n", "")


def test_tampered_missing_and_unkept_rows_are_errors(project, make_project, tmp_path):
    store = open_store(project, "s")
    kept = store.get("Q1").snapshot["file"]
    frame(10, 9).to_parquet(kept, index=False)
    with pytest.raises(StoreError, match="changed since it was evaluated"):
        store.export("Q1", tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()
    import os

    os.unlink(kept)
    with pytest.raises(NotFoundError, match="no longer exists; re-evaluate it"):
        store.export("Q1", tmp_path / "x.parquet")

    result = CliRunner().invoke(app, ["export", "s", "--label", "Q9", "--project",
                                      str(project.root)])
    assert result.exit_code == 3 and "no evaluation labelled 'Q9'" in result.output

    root = make_project({"keep_rows": False}, name="unkept")
    frame(300, 2).to_parquet(root / "batch_Q1.parquet", index=False)
    unkept = load_project(root)
    build_evaluation(unkept, "s", {"q": "Q1"})
    assert not (root / ".scenarist" / "snapshots").exists()
    with pytest.raises(NotFoundError, match="keep_rows: false"):
        open_store(unkept, "s").export("Q1", tmp_path / "y.parquet")


def test_unknown_export_format(tmp_path):
    with pytest.raises(InputDataError, match="name it .parquet or .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "rows.xlsx")


def test_kept_rows_go_with_the_last_evaluation_that_refers_to_them(project):
    store = open_store(project, "s")
    first = store.get("Q1").snapshot
    frame(800, 2).to_parquet(project.root / "batch_Q2.parquet", index=False)
    build_evaluation(project, "s", {"q": "Q2"})  # another label, another batch
    second = store.get("Q2").snapshot
    assert first["sha256"] != second["sha256"]

    frame(500, 7).to_parquet(project.root / "batch_Q1.parquet", index=False)
    build_evaluation(project, "s", {"q": "Q1"})  # Q1 re-evaluated on other rows
    replaced = store.get("Q1").snapshot
    assert not Path(first["file"]).exists() and Path(replaced["file"]).exists()

    frame(800, 2).to_parquet(project.root / "batch_Q3.parquet", index=False)
    build_evaluation(project, "s", {"q": "Q3"})  # the same rows as Q2 share its file
    assert store.get("Q3").snapshot["file"] == second["file"]
    store.delete("Q2")
    assert Path(second["file"]).exists()  # Q3 still refers to it
    store.delete("Q3")
    assert not Path(second["file"]).exists()
    assert sorted(p.name for p in Path(replaced["file"]).parent.iterdir()) == [
        Path(replaced["file"]).name]

    with pytest.raises(StoreError, match="non-empty label"):  # a failed write keeps no rows
        store.evaluate(load_model(project, "m"), frame(300, 9), frame(300, 1), label=" ",
                       snapshot_dir=Path(replaced["file"]).parent)
    assert [p.name for p in Path(replaced["file"]).parent.iterdir()] == [
        Path(replaced["file"]).name]
