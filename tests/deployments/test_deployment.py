"""Deployments on SQLite and the real PostgreSQL: create, get, list, update, delete, settings."""

from __future__ import annotations

import pytest

from scenarist.deployments import Deployment, DeploymentListFilters
from scenarist.errors import ConfigError, NotFoundError


def test_create_get_update_and_delete(store_url, data_dir, fraud_model, quarters):
    dep = Deployment.create(fraud_model, "Fraud v1", description="card fraud",
                            importance="HIGH", reference=quarters["2017Q1"], url=store_url,
                            data_dir=data_dir)
    assert len(dep.id) == 24 and dep.status == "active" and dep.model_version == 1
    again = Deployment.get(dep.id, url=store_url)
    assert (again.label, again.description, again.importance) == ("Fraud v1", "card fraud",
                                                                  "HIGH")
    assert again.model.features == fraud_model.features and again.model.classes == (0, 1)
    assert again.reference_facts["rows"] == len(quarters["2017Q1"])
    assert again.reference_facts["baseline"]["auc"] > 0.6  # measured on the reference

    dep.update(label="Fraud v1 (prod)", description="now in prod")
    assert Deployment.get(dep.id, url=store_url).label == "Fraud v1 (prod)"

    dep.delete()
    kept = Deployment.get(dep.id, url=store_url)
    assert kept.status == "deleted"  # data kept, still readable
    assert dep.id not in [d.id for d in Deployment.list(url=store_url)]
    assert dep.id in [d.id for d in Deployment.list(DeploymentListFilters(status="deleted"),
                                                    url=store_url)]
    with pytest.raises(ConfigError, match="is deleted"):
        dep.create_batch("b")


def test_list_filters_by_label_and_health(store_url, data_dir, fraud_model):
    first = Deployment.create(fraud_model, "Fraud EU", url=store_url, data_dir=data_dir)
    second = Deployment.create(fraud_model, "Churn US", url=store_url, data_dir=data_dir)
    found = {d.id for d in Deployment.list(DeploymentListFilters(label="fraud eu"),
                                           url=store_url)}
    assert first.id in found and second.id not in found
    second._write(drift_health="failing")
    failing = {d.id for d in Deployment.list(DeploymentListFilters(drift_health="failing"),
                                             url=store_url)}
    assert second.id in failing and first.id not in failing


def test_get_unknown_and_bad_creation(store_url, data_dir, fraud_model):
    with pytest.raises(NotFoundError, match="no deployment with id 'nope'"):
        Deployment.get("nope", url=store_url)
    with pytest.raises(ConfigError, match="non-empty label"):
        Deployment.create(fraud_model, " ", url=store_url, data_dir=data_dir)
    with pytest.raises(ConfigError, match="importance 'URGENT' is not one of LOW"):
        Deployment.create(fraud_model, "x", importance="URGENT", url=store_url,
                          data_dir=data_dir)
    if store_url.startswith("postgresql"):  # only a SQLite file has a default data folder
        with pytest.raises(ConfigError, match=r"needs data_dir=<folder>"):
            Deployment.create(fraud_model, "x", url=store_url)


def test_settings_round_trip_and_validation(store_url, data_dir, fraud_model):
    dep = Deployment.create(fraud_model, "settings", url=store_url, data_dir=data_dir)
    assert dep.get_drift_tracking_settings().feature_drift is True
    assert dep.get_alert_delay_settings().delay_seconds == 3 * 24 * 3600
    assert dep.get_alert_delay_settings().labels_ratio == 1.0
    dep.update_drift_tracking_settings(target_drift=False)
    dep.update_association_id_settings(column_names=["txn_id"],
                                       required_in_prediction_requests=True)
    dep.update_predictions_data_collection_settings(enabled=False)
    dep.update_prediction_warning_settings(enabled=True, lower=0.05, upper=0.99)
    dep.update_alert_delay_settings(delay_seconds=3600, labels_ratio=0.5)
    dep.update_settings("batches", daily_limit=3)
    fresh = Deployment.get(dep.id, url=store_url)
    assert fresh.get_drift_tracking_settings().target_drift is False
    assert fresh.get_drift_tracking_settings().feature_drift is True  # untouched
    assert fresh.get_association_id_settings().column_names == ("txn_id",)
    assert fresh.get_predictions_data_collection_settings().enabled is False
    assert (fresh.get_prediction_warning_settings().lower, fresh.get_prediction_warning_settings()
            .upper) == (0.05, 0.99)
    assert fresh.get_alert_delay_settings().labels_ratio == 0.5
    assert fresh.settings.batches.daily_limit == 3

    with pytest.raises(ConfigError, match=r"alert_delay.labels_ratio"):
        dep.update_alert_delay_settings(labels_ratio=1.5)
    with pytest.raises(ConfigError, match="lower 0.9 is above upper 0.1"):
        dep.update_prediction_warning_settings(lower=0.9, upper=0.1)
    with pytest.raises(ConfigError, match=r"service.slow_ms: unknown setting"):
        dep.update_settings("service", slow_ms=3)
    with pytest.raises(ConfigError, match="unknown settings section 'nope'"):
        dep.update_settings("nope", x=1)
    with pytest.raises(ConfigError, match="needs at least one column name"):
        dep.update_association_id_settings(column_names=[])
    assert Deployment.get(dep.id, url=store_url).get_alert_delay_settings().labels_ratio == 0.5
