"""Small log_batch calls are cheap: one transaction, a handful of statements, no SELECT (no
refresh(), no secondary-config query per call), no file written (the rows go in the call's file
record), and a deployment changed elsewhere is still honoured (the call re-validates)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import event

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError

T0 = pd.Timestamp("2024-05-01T10:00Z").timestamp()
DAY = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")


def _call(dep: Deployment, model, reference: pd.DataFrame, prefix: str, rows: int, at: float):
    frame = reference.iloc[:rows].reset_index(drop=True)[["x1", "x2"]]
    pred, proba = model.predict(frame)
    return dep.log_batch([f"{prefix}{i}" for i in range(rows)], [at + i for i in range(rows)],
                         frame, pred, proba, request_ms=5.0)


def test_a_small_call_is_one_transaction_of_few_statements(store_url, data_dir, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "small", reference=reference, url=store_url,
                            data_dir=data_dir)
    _call(dep, model, reference, "warm", 10, T0)  # the first call records the feature types
    statements: list[str] = []
    commits: list[int] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(dep._engine, "before_cursor_execute", count)
    event.listen(dep._engine, "commit", lambda conn: commits.append(1))
    try:
        _call(dep, model, reference, "s", 10, T0 + 60)
    finally:
        event.remove(dep._engine, "before_cursor_execute", count)
    # lock (UPDATE … RETURNING), predictions, 2 rollup upserts, last timestamp, file record:
    # no SELECT of the deployment before or after (refresh), nor of its secondary config
    assert len(statements) <= 6, statements
    assert "SELECT" not in statements, statements
    assert len(commits) == 1
    assert dep.get_service_stats(*DAY).total_predictions == 20
    folder = dep.files.folder
    assert not folder.exists() or not list(folder.rglob("part-*")), "no file per small call"
    assert len(dep.files.read(0, 2 ** 31 - 1, None)) == 20


def test_a_deployment_changed_elsewhere_is_honoured(store_url, data_dir, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "stale", reference=reference, url=store_url,
                            data_dir=data_dir)
    _call(dep, model, reference, "a", 2, T0)
    other = Deployment.get(dep.id, url=store_url)
    other.update_prediction_warning_settings(enabled=True, lower=0.0, upper=0.0)
    result = _call(dep, model, reference, "b", 2, T0 + 10)  # validated with the new settings
    assert result.warnings == 2 and dep.settings.prediction_warnings.enabled
    other.delete()
    with pytest.raises(ConfigError, match="is deleted"):
        _call(dep, model, reference, "c", 2, T0 + 20)
    assert dep.status == "deleted"


def test_a_secondary_config_set_elsewhere_is_joined_by_the_next_call(store_url, data_dir,
                                                                      small_binary):
    """The active secondary config is not read per call: a config set through another object
    (another server process) changes the deployment row, which the next call sees."""
    model, reference = small_binary
    dep = Deployment.create(model, "joined", reference=reference, url=store_url,
                            data_dir=data_dir)
    _call(dep, model, reference, "a", 3, T0)
    other = Deployment.get(dep.id, url=store_url)
    table = pd.DataFrame({"k": range(400), "x2": reference["x2"].to_numpy()})
    other.update_secondary_dataset_config(
        {"t": table}, [{"dataset": "t", "key": ["k"], "columns": ["x2"]}])
    frame = pd.DataFrame({"x1": reference["x1"].iloc[:3].to_numpy(), "k": [0, 1, 2]})
    pred, proba = model.predict(reference[["x1", "x2"]].iloc[:3])
    result = dep.log_batch(["b0", "b1", "b2"], [T0 + 10, T0 + 11, T0 + 12], frame, pred, proba)
    assert result.secondary_missing == {"t": 0}
    rows = dep.files.read(0, 2 ** 31 - 1, None)
    assert sorted(rows.loc[rows["sample_id"].str.startswith("b"), "x2"]) == sorted(
        reference["x2"].iloc[:3])
