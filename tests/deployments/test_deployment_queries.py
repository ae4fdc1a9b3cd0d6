"""Service stats over time from the rollups: buckets, metrics, windows, bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from deployment_helpers import DAY, T0, log_rows

from scenarist.errors import InputDataError


def test_service_stats_over_time(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    frame = quarters["2017Q2"].iloc[:180]
    log_rows(dep, fraud_model, frame.iloc[:120], request_ms=np.full(120, 30.0))  # hours 0, 1
    log_rows(dep, fraud_model, frame.iloc[120:], prefix="late",
             start=T0 + pd.Timedelta(hours=7), request_ms=1_500.0)  # hour 7, one slow request
    dep.log_errors([(T0 + pd.Timedelta(hours=7, minutes=5)).timestamp()])

    hourly = dep.get_service_stats_over_time("total_predictions", "PT1H", *DAY)
    assert len(hourly) == 24 and hourly.index[0] == T0 and hourly.index.freqstr == "h"
    assert hourly.iloc[:2].tolist() == [60, 60] and hourly.iloc[7] == 60 and hourly.sum() == 180
    six = dep.get_service_stats_over_time("total_predictions", "PT6H", *DAY)
    assert six.tolist() == [120, 60, 0, 0]
    requests = dep.get_service_stats_over_time("total_requests", "PT6H", *DAY)
    assert requests.tolist() == [120, 2, 0, 0]  # 120 one-row requests; one call + one error
    errors = dep.get_service_stats_over_time("error_rate", "PT6H", *DAY)
    assert errors.iloc[1] == 0.5 and errors.iloc[0] == 0 and np.isnan(errors.iloc[2])
    slow = dep.get_service_stats_over_time("slow_requests", "P1D", *DAY)
    assert slow.tolist() == [1]
    mean = dep.get_service_stats_over_time("mean_request_ms", "PT6H", *DAY)
    assert mean.iloc[0] == pytest.approx(30.0)
    p90 = dep.get_service_stats_over_time("p90_request_ms", "PT6H", *DAY)
    assert p90.iloc[0] == pytest.approx(30.0, rel=0.1) and np.isnan(p90.iloc[2])
    totals = dep.get_service_stats(*DAY)
    assert (totals.total_predictions, totals.errors, totals.slow_requests) == (180, 1, 1)


def test_query_arguments_are_checked(fraud_deployment):
    dep = fraud_deployment
    with pytest.raises(InputDataError, match="unknown service metric 'latency'; choose one of"):
        dep.get_service_stats_over_time("latency")
    with pytest.raises(InputDataError, match="at least PT1H"):
        dep.get_service_stats_over_time("total_predictions", "PT30M")
    with pytest.raises(InputDataError, match="not at the top of an hour"):
        dep.get_service_stats("2024-05-01T00:30Z", DAY[1])
    with pytest.raises(InputDataError, match="unknown accuracy metric.*rmse"):
        dep.get_accuracy_over_time("rmse")
    empty = dep.get_service_stats()  # default window: the last 7 days
    assert empty.total_predictions == 0 and np.isnan(empty.mean_request_ms)
    assert (empty.end - empty.start).days == 7
