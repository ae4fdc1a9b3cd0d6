"""A deployment's secondary dataset config: joined to logged rows before they are validated and
stored (the features the metrics see come from it), missing keys counted or refused, every
config id kept in the history."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats
from segment_data import frame, merchants
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError, InputDataError
from scenarist.project.models import model_from_estimator

START = pd.Timestamp("2024-05-01T00:00Z")
JOIN = {"dataset": "merchants", "key": ["merchant_id"], "columns": ["merchant_risk"]}


@pytest.fixture
def deployment(store_url, tmp_path):
    reference = frame(1500, 1).merge(merchants()[["merchant_id", "merchant_risk"]],
                                     on="merchant_id")
    estimator = LogisticRegression().fit(reference[["x1", "merchant_risk"]], reference.y)
    model = model_from_estimator(estimator, target="y", type="binary", name="m",
                                 features=["x1", "merchant_risk"])
    dep = Deployment.create(model, "secondary", reference=reference, url=store_url,
                            data_dir=tmp_path / "data")
    return dep, estimator, reference


def _log(dep, estimator, rows, start, **kw):
    joined = rows.merge(merchants()[["merchant_id", "merchant_risk"]], on="merchant_id",
                        how="left")
    features = joined[["x1", "merchant_risk"]].fillna(0.0)
    ids = [f"{start.value}-{i}" for i in range(len(rows))]
    times = [start + pd.Timedelta(seconds=i) for i in range(len(rows))]
    return dep.log_batch(ids, times, rows[["x1", "merchant_id"]], estimator.predict(features),
                         estimator.predict_proba(features)[:, 1], **kw)


def test_config_joins_logged_rows_and_the_metrics_see_it(deployment, tmp_path):
    dep, estimator, reference = deployment
    assert dep.get_secondary_dataset_config() is None
    config = dep.update_secondary_dataset_config({"merchants": merchants()}, [JOIN])
    assert dep.get_secondary_dataset_config().id == config.id
    assert config.datasets["merchants"]["rows"] == 50

    rows = frame(800, 2)
    rows["merchant_id"] = rows["merchant_id"] % 10  # only low-risk merchants: drifted
    result = _log(dep, estimator, rows, START)
    assert result.secondary_missing == {"merchants": 0}
    exported = pd.read_parquet(dep.export(tmp_path / "rows.parquet", start=START,
                                          end=START + pd.Timedelta(hours=1)))
    assert exported["merchant_risk"].tolist() == (rows["merchant_id"] / 50).tolist()
    assert exported["merchant_id"].tolist() == rows["merchant_id"].tolist()  # additional data

    evaluation = dep.evaluate("sec", start=START, end=START + pd.Timedelta(hours=1))
    expected = stats.ks_2samp(reference["merchant_risk"], rows["merchant_id"] / 50)
    assert evaluation.metric("ks_statistic", "merchant_risk") == pytest.approx(
        expected.statistic, abs=1e-12)

    second = dep.update_secondary_dataset_config({}, [])
    history = dep.get_secondary_dataset_config_history()
    assert history["id"].tolist() == [config.id, second.id]
    assert history["active"].tolist() == [False, True]
    assert history["datasets"].tolist() == [["merchants"], []]
    with pytest.raises(InputDataError, match="missing feature"):  # no join any more
        _log(dep, estimator, frame(5, 3), START + pd.Timedelta(hours=2))


def test_missing_keys_reported_or_refused(deployment, tmp_path):
    dep, estimator, _ = deployment
    refused = {**JOIN, "on_missing": "error"}
    dep.update_secondary_dataset_config({"merchants": merchants()}, [refused])
    rows = frame(100, 4)
    rows.loc[:2, "merchant_id"] = [700, 701, 700]
    with pytest.raises(InputDataError, match=r"3 of 100 row\(s\) of the logged rows .*e.g. "
                       r"\[700, 701\]"):
        _log(dep, estimator, rows, START)
    window = {"start": START, "end": START + pd.Timedelta(hours=1)}
    assert dep.get_service_stats(**window).total_predictions == 0  # nothing written

    dep.update_secondary_dataset_config({"merchants": merchants()}, [JOIN])  # report
    result = _log(dep, estimator, rows, START)
    assert result.rows == 100 and result.secondary_missing == {"merchants": 3}
    exported = pd.read_parquet(dep.export(tmp_path / "rows.parquet", **window))
    assert len(exported) == 100 and exported["merchant_risk"].isna().sum() == 3


def test_bad_configs_are_config_errors(deployment):
    dep, *_ = deployment
    with pytest.raises(ConfigError, match=r"\['shops'\] are joined but not given"):
        dep.update_secondary_dataset_config({"merchants": merchants()},
                                            [{**JOIN, "dataset": "shops"}])
    with pytest.raises(InputDataError, match="repeated key"):
        dep.update_secondary_dataset_config({"merchants": pd.concat([merchants()] * 2)}, [JOIN])
    with pytest.raises(ConfigError, match="invalid secondary dataset join"):
        dep.update_secondary_dataset_config({"merchants": merchants()}, [{"dataset": "x"}])
    assert dep.get_secondary_dataset_config() is None


def test_cli_sets_secondary_configs_and_exports(deployment, tmp_path):
    from typer.testing import CliRunner

    from scenarist.cli import app

    dep, estimator, _ = deployment
    url = dep._engine.url.render_as_string(hide_password=False)
    merchants().to_csv(tmp_path / "merchants.csv", index=False)
    runner = CliRunner()
    base = ["deployments", "secondary", dep.id, "--url", url]
    missing_key = runner.invoke(app, [*base, "--dataset", f"merchants={tmp_path}/merchants.csv"])
    assert missing_key.exit_code == 3 and "needs --key" in missing_key.output
    result = runner.invoke(app, [*base, "--dataset", f"merchants={tmp_path}/merchants.csv",
                                 "--key", "merchant_id", "--column", "merchant_risk"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    config = dep.get_secondary_dataset_config()
    assert f"secondary dataset config {config.id} is active" in result.output
    assert config.joins[0].columns == ["merchant_risk"]

    rows = frame(50, 6)
    _log(dep, estimator, rows, START)
    output = tmp_path / "rows.csv"
    exported = runner.invoke(app, ["deployments", "export", dep.id, "--url", url, "-o",
                                   str(output), "--start", "2024-05-01T00:00Z", "--end",
                                   "2024-05-01T01:00Z"])
    assert exported.exit_code == 0, exported.output
    assert pd.read_csv(output)["merchant_risk"].tolist() == pytest.approx(
        (rows["merchant_id"] / 50).tolist())

    cleared = runner.invoke(app, [*base, "--clear"], terminal_width=200)
    assert cleared.exit_code == 0 and "(none)" in cleared.output
    assert dep.get_secondary_dataset_config().joins == ()
