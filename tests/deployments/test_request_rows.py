"""log_batch(request_rows=...): one call storing several multi-row requests (a server storing
many predictionLogs requests at once) counts each as its own request, in its own hour."""

from __future__ import annotations

import numpy as np
import pytest
from deployment_helpers import DAY, FEATURES, T0, stored

from scenarist.errors import InputDataError


def _call(dep, model, frame, **kwargs):
    pred, proba = model.predict(frame)
    ids = [f"r{i}" for i in range(len(frame))]
    stamps = T0.timestamp() + np.arange(len(frame)) * 600.0  # 10 minutes apart: 6 an hour
    return dep.log_batch(ids, stamps, frame[list(FEATURES)], pred, proba, **kwargs)


def test_each_request_counts_once_in_the_hour_of_its_latest_row(fraud_deployment, fraud_model,
                                                              quarters):
    frame = quarters["2017Q2"].iloc[:12]  # rows at 0:00 … 1:50
    # requests: rows 0-4 (hour 0), 5-7 (0:50 … 1:10: its latest row is in hour 1), 8-11 (hour 1)
    _call(fraud_deployment, fraud_model, frame, request_rows=[5, 3, 4],
          request_ms=[10.0, 2_000.0, 30.0])
    stats = fraud_deployment.get_service_stats(*DAY)
    assert (stats.total_predictions, stats.total_requests) == (12, 3)
    assert stats.mean_request_ms == pytest.approx((10 + 2000 + 30) / 3)
    assert stats.slow_requests == 1
    requests = fraud_deployment.get_service_stats_over_time("total_requests", "PT1H", *DAY)
    predictions = fraud_deployment.get_service_stats_over_time("total_predictions", "PT1H", *DAY)
    assert list(requests.iloc[:3]) == [1, 2, 0]
    assert list(predictions.iloc[:3]) == [6, 6, 0]


def test_untimed_requests_count_without_a_time(fraud_deployment, fraud_model, quarters):
    _call(fraud_deployment, fraud_model, quarters["2017Q2"].iloc[:6], request_rows=[1, 2, 3])
    stats = fraud_deployment.get_service_stats(*DAY)
    assert (stats.total_predictions, stats.total_requests) == (6, 3)
    assert np.isnan(stats.mean_request_ms)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"request_rows": [2, 2]}, "adding up to the call's 6 rows"),
    ({"request_rows": [3, 0, 3]}, "at least 1"),
    ({"request_rows": [2.5, 3.5]}, "whole numbers"),
    ({"request_rows": [3, 3], "request_ms": [1.0]}, r"one number per request \(2\)"),
    ({"request_rows": [3, 3], "request_ms": [1.0, -1.0]}, "non-negative"),
])
def test_bad_request_rows_are_refused_and_store_nothing(fraud_deployment, fraud_model, quarters,
                                                        kwargs, message):
    before = stored(fraud_deployment)
    with pytest.raises(InputDataError, match=message):
        _call(fraud_deployment, fraud_model, quarters["2017Q2"].iloc[:6], **kwargs)
    assert stored(fraud_deployment) == before
