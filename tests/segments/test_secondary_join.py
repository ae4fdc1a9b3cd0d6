"""Secondary datasets: joined by key before metrics (the metrics see the joined feature), a
missing key is reported (count and examples) or an error, never a silently dropped row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from segment_data import frame, merchants

from scenarist.errors import ConfigError, InputDataError
from scenarist.operations.build import build_evaluation, open_store
from scenarist.project.config import load_project
from scenarist.project.secondary import SecondaryDatasetSpec, join_secondary

JOIN = {"dataset": "merchants", "key": "merchant_id", "columns": ["merchant_risk"]}


def test_join_changes_the_features_the_metrics_see(make_project):
    root = make_project({"secondary_datasets": [JOIN]}, features=("x1", "merchant_risk"))
    batch = frame(1000, 2)
    batch["merchant_id"] = np.random.default_rng(5).integers(0, 10, 1000)  # riskless merchants
    batch.to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    evaluation = build_evaluation(project, "s", {"q": "Q1"})
    joined = batch["merchant_id"] / 50.0
    reference = pd.read_parquet(root / "reference.parquet")
    expected = stats.ks_2samp(reference["merchant_risk"], joined)
    assert evaluation.metric("ks_statistic", "merchant_risk") == pytest.approx(
        expected.statistic, abs=1e-12)
    assert evaluation.metric("drifted", "merchant_risk") == 1.0
    report = evaluation.details["secondary_datasets"]["merchants"]
    assert report["input"]["missing_keys"] == 0 and report["input"]["matched"] == 1000
    assert "reference" not in report  # the reference already had merchant_risk
    exported = open_store(project, "s").export("Q1", root / "rows.parquet")
    assert pd.read_parquet(exported)["merchant_risk"].tolist() == joined.tolist()


def test_missing_keys_are_reported_not_dropped(make_project):
    from sklearn.ensemble import HistGradientBoostingClassifier  # accepts missing values

    root = make_project({"secondary_datasets": [JOIN]}, features=("x1", "merchant_risk"),
                        estimator=HistGradientBoostingClassifier(max_iter=20))
    batch = frame(1000, 2)
    batch.loc[:6, "merchant_id"] = [900, 901, 900, 902, 903, 904, 905]
    batch.to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    evaluation = build_evaluation(project, "s", {"q": "Q1"})
    report = evaluation.details["secondary_datasets"]["merchants"]["input"]
    assert report["missing_keys"] == 7 and report["matched"] == 993
    assert report["examples"] == [900, 901, 902, 903, 904]
    assert evaluation.row_count == 1000
    assert evaluation.metric("missing_share", "merchant_risk") == pytest.approx(7 / 1000)


def test_on_missing_error_stops_and_writes_nothing(make_project):
    root = make_project({"secondary_datasets": [{**JOIN, "on_missing": "error"}]},
                        features=("x1", "merchant_risk"))
    batch = frame(300, 2)
    batch.loc[0, "merchant_id"] = 777
    batch.to_parquet(root / "batch_Q1.parquet", index=False)
    project = load_project(root)
    with pytest.raises(InputDataError, match=r"1 of 300 row\(s\) of the input batch have a key "
                       r"\['merchant_id'\] that secondary dataset 'merchants' does not have "
                       r"\(e.g. \[777\]\)"):
        build_evaluation(project, "s", {"q": "Q1"})
    assert open_store(project, "s").labels() == []


def test_join_matches_a_pandas_left_merge_on_two_keys():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"a": rng.integers(0, 5, 400), "b": rng.choice(["x", "y"], 400),
                         "v": rng.normal(size=400)}, index=rng.permutation(400))
    table = pd.DataFrame([(a, b, a * 10 + (b == "y")) for a in range(4) for b in "xy"],
                         columns=["a", "b", "w"])
    spec = SecondaryDatasetSpec(dataset="t", key=["a", "b"])
    joined, report = join_secondary(rows, table, spec)
    merged = rows.merge(table, on=["a", "b"], how="left")
    assert joined.index.equals(rows.index)
    assert joined["w"].to_numpy() == pytest.approx(merged["w"].to_numpy(), nan_ok=True)
    assert report["missing_keys"] == int((rows["a"] == 4).sum())
    assert report["examples"] and all(example[0] == 4 for example in report["examples"])


def test_text_keys_match_numbers_and_bad_tables_are_errors():
    rows = pd.DataFrame({"k": ["1", "2", "3"]})
    table = pd.DataFrame({"k": [1.0, 2.0, 3.0], "v": [10, 20, 30]})
    joined, _ = join_secondary(rows, table, SecondaryDatasetSpec(dataset="t", key=["k"]))
    assert joined["v"].tolist() == [10, 20, 30]
    spec = SecondaryDatasetSpec(dataset="t", key=["k"])
    with pytest.raises(InputDataError, match="2 rows with a repeated key"):
        join_secondary(rows, pd.DataFrame({"k": [1, 1], "v": [1, 2]}), spec)
    with pytest.raises(InputDataError, match="not in the secondary dataset 't'"):
        join_secondary(rows, pd.DataFrame({"id": [1]}), spec)
    with pytest.raises(InputDataError, match="already has column\\(s\\) 'v'"):
        join_secondary(rows.assign(v=1), table, spec)
    with pytest.raises(InputDataError, match="has no column\\(s\\) 'w'"):
        join_secondary(rows, table, SecondaryDatasetSpec(dataset="t", key=["k"], columns=["w"]))


def test_unknown_secondary_dataset_is_a_config_error(make_project):
    root = make_project({"secondary_datasets": [{**JOIN, "dataset": "shops"}]})
    with pytest.raises(ConfigError, match=r"evaluation_stores.s.secondary_datasets\[0\].dataset"
                       ".*unknown dataset 'shops'; defined datasets: reference, batch, merchants"):
        load_project(root)
    assert merchants().shape == (50, 3)


def test_a_deployment_fed_store_takes_no_secondary_datasets(make_project):
    import yaml

    root = make_project({})
    raw = yaml.safe_load((root / "scenarist.yaml").read_text())
    raw["evaluation_stores"]["s"] = {"deployment": "abc", "secondary_datasets": [JOIN]}
    (root / "scenarist.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="update_secondary_dataset_config"):
        load_project(root)
