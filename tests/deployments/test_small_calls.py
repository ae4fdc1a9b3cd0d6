"""Small log_batch calls are cheap: one transaction, a handful of statements, no refresh() per
call, and a deployment changed elsewhere is still honoured (the call re-validates)."""

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
    # lock (UPDATE … RETURNING), secondary config, predictions, 2 rollup upserts, last
    # timestamp, file record: no SELECT of the deployment before or after (refresh)
    assert len(statements) <= 8, statements
    assert statements.count("SELECT") <= 1, statements
    assert len(commits) == 1
    assert dep.get_service_stats(*DAY).total_predictions == 20


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
