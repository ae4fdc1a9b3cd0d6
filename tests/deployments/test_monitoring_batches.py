"""Monitoring batches: create, list, rename, edit times, lock, delete, daily limit, scoping."""

from __future__ import annotations

import pandas as pd
import pytest
from deployment_helpers import DAY, T0, log_rows, stored

from scenarist.errors import ConfigError, InputDataError, NotFoundError


def test_batches_scope_stats_and_delete_removes_them(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    first = dep.create_batch("may-run-1", description="first scoring run")
    second = dep.create_batch("may-run-2")
    frame = quarters["2017Q2"].iloc[:60]
    log_rows(dep, fraud_model, frame.iloc[:40], prefix="a", batch_id=first.id)
    hour = pd.Timedelta(hours=1)
    log_rows(dep, fraud_model, frame.iloc[40:], prefix="b", start=T0 + hour,
             batch_id="may-run-2")  # by name
    log_rows(dep, fraud_model, frame.iloc[:5], prefix="c", start=T0 + 2 * hour)  # no batch
    assert [b.name for b in dep.list_batches()] == ["may-run-1", "may-run-2"]
    assert dep.get_service_stats(*DAY).total_predictions == 65
    assert dep.get_service_stats(*DAY, batches=first.id).total_predictions == 40
    assert dep.get_service_stats(*DAY, batches=["may-run-1", "may-run-2"]
                                 ).total_predictions == 60
    assert dep.get_feature_drift(*DAY, batches="may-run-2").shape[0] == len(fraud_model.features)

    second.lock()
    with pytest.raises(InputDataError, match="'may-run-2' is locked"):
        log_rows(dep, fraud_model, frame.iloc[:2], prefix="d", start=T0 + 3 * hour,
                 batch_id=second.id)
    assert dep.get_service_stats(*DAY, batches=second.id).total_predictions == 20  # readable

    before = stored(dep)
    first.delete()
    after = stored(dep)
    assert after["scenarist_predictions"] == before["scenarist_predictions"] - 40
    assert dep.get_service_stats(*DAY).total_predictions == 25
    assert not (dep.files.folder / f"batch={first.id}").exists()
    assert [b.name for b in dep.list_batches()] == ["may-run-2"]
    with pytest.raises(NotFoundError, match="no monitoring batch 'may-run-1'"):
        dep.get_service_stats(*DAY, batches="may-run-1")


def test_rename_edit_times_and_daily_limit(fraud_deployment):
    dep = fraud_deployment
    batch = dep.create_batch("draft")
    batch.rename("final").update(description="final run", start_time="2024-05-01T00:00Z",
                                 end_time="2024-05-01T06:00Z")
    again = dep.get_batch(batch.id)
    assert (again.name, again.description) == ("final", "final run")
    assert again.start_time.isoformat() == "2024-05-01T00:00:00+00:00"
    assert dep.get_batch("final").id == batch.id
    with pytest.raises(InputDataError, match="is after its end_time"):
        batch.update(start_time="2024-05-02T00:00Z")
    with pytest.raises(ConfigError, match="already has a batch named 'final'"):
        dep.create_batch("final")
    dep.update_settings("batches", daily_limit=2)
    dep.create_batch("second")
    with pytest.raises(ConfigError, match="already created 2 monitoring batches today"):
        dep.create_batch("third")
