"""DataRobot's keyword names on the native API: start_time/end_time on every query,
target_drift_enabled/feature_drift_enabled on the drift settings (issue 18, item 1)."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from deployment_helpers import DAY, T0, TARGET, log_rows

WINDOW = {"start_time": DAY[0], "end_time": DAY[1]}


def _same(left, right) -> None:
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right)
    else:
        assert left == right or (np.isnan(left.score) and np.isnan(right.score))


def test_every_query_takes_start_time_and_end_time(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    frame = quarters["2017Q4"].iloc[:240].reset_index(drop=True)
    _, ids, _, _ = log_rows(dep, fraud_model, frame, request_ms=20.0)
    dep.log_labels(ids[:120], frame[TARGET].iloc[:120])
    batch = dep.create_batch("later")
    log_rows(dep, fraud_model, frame.iloc[:30], prefix="b", batch_id=batch.id,
             start=T0 + pd.Timedelta(hours=5))
    calls = [
        ("get_service_stats", (), {}),
        ("get_service_stats_over_time", ("total_predictions", "PT6H"), {}),
        ("get_accuracy_over_time", ("auc", "PT6H"), {}),
        ("get_accuracy_over_time_frame", (["accuracy"], "PT6H"), {}),
        ("get_prediction_warnings", ("PT6H",), {}),
        ("get_feature_drift", (), {}),
        ("get_target_drift", (), {}),
        ("get_service_stats", (), {"batches": "later"}),  # batch-scoped queries too
        ("get_feature_drift", (), {"batches": ["later"]}),
    ]
    for name, args, extra in calls:
        method = getattr(dep, name)
        _same(method(*args, **WINDOW, **extra),
              method(*args, start=DAY[0], end=DAY[1], **extra))
    accuracy = dep.get_accuracy(**WINDOW)
    assert accuracy.metrics == dep.get_accuracy(start=DAY[0], end=DAY[1]).metrics
    assert accuracy.labelled == 120 and accuracy.start == pd.Timestamp(DAY[0])
    assert dep.get_label_readiness(**WINDOW) == dep.get_label_readiness(*DAY)
    assert dep.get_service_stats(start_time=DAY[0]).start == pd.Timestamp(DAY[0])
    evaluation = dep.evaluate("aliases_MES", **WINDOW, label="day")
    assert evaluation.row_count == 270


def test_both_spellings_of_one_argument_is_an_error_naming_both(fraud_deployment):
    dep = fraud_deployment
    with pytest.raises(TypeError, match=r"get_service_stats\(\) got both start= and "
                       r"start_time= \(DataRobot's name for it\); pass only one"):
        dep.get_service_stats(start=DAY[0], start_time=DAY[0])
    with pytest.raises(TypeError, match="got both end= and end_time="):
        dep.get_service_stats(DAY[0], DAY[1], end_time=DAY[1])  # positional end
    with pytest.raises(TypeError, match="got both end= and end_time="):
        dep.get_accuracy_over_time("auc", "PT1H", None, DAY[1], end_time=DAY[1])
    with pytest.raises(TypeError, match="got both target_drift= and target_drift_enabled="):
        dep.update_drift_tracking_settings(True, target_drift_enabled=False)
    assert dep.get_drift_tracking_settings().target_drift is True  # nothing was written


def test_drift_tracking_settings_take_the_datarobot_names(fraud_deployment):
    dep = fraud_deployment
    settings = dep.update_drift_tracking_settings(target_drift_enabled=False)
    assert (settings.target_drift, settings.feature_drift) == (False, True)
    settings = dep.update_drift_tracking_settings(feature_drift_enabled=False,
                                                  target_drift=True)
    assert (settings.target_drift, settings.feature_drift) == (True, False)
    assert dep.refresh().get_drift_tracking_settings().feature_drift is False


def test_the_aliases_show_in_the_signatures(fraud_deployment):
    dep = fraud_deployment
    parameters = inspect.signature(dep.get_feature_drift).parameters
    assert list(parameters)[:2] == ["start", "end"]
    assert parameters["start_time"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "end_time" in parameters
    assert "target_drift_enabled" in inspect.signature(
        dep.update_drift_tracking_settings).parameters
    assert dep.get_service_stats.__name__ == "get_service_stats"
