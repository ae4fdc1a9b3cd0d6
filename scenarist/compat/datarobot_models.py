"""The monitoring result objects of `scenarist.compat.datarobot`, shaped like the `datarobot`
client's (datarobot/models/deployment/service_stats.py, data_drift.py, accuracy.py, v3.x):
same constructor fields, `period` as {"start", "end"} datetimes, `metrics` dicts keyed by
DataRobot's metric names, `bucket_values` keyed by bucket start, None for "no value".

Each class's `get`/`list` classmethod asks the current client (`Client(...)`, default the local
store) through `scenarist.compat.backends`; every number comes from the native API.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import datetime
from typing import Any

import pandas as pd

from scenarist.compat.backends import NotSupported, _number, _utc
from scenarist.compat.datarobot_core import (
    ACCURACY_NAMES,
    DATA_DRIFT_METRIC,
    SERVICE_NAMES,
    current,
    model_id_of,
    window,
)


def _period(start: Any, end: Any) -> dict[str, datetime]:
    return {"start": _utc(start), "end": _utc(end)}


def _repr(result: Any, *middle: Any) -> str:
    """DataRobot's repr: `Name(model id | … | start - end)`."""
    period = getattr(result, "period", None) or (result.summary.get("period") or {})
    parts = [result.model_id, *middle, f"{period.get('start')} - {period.get('end')}"]
    return f"{type(result).__name__}({' | '.join(map(str, parts))})"


class _WindowMetrics:
    """What ServiceStats and Accuracy share: the window, the metrics dict and the model."""

    def __init__(self, period: dict | None = None, metrics: dict | None = None,
                 model_id: str | None = None):
        self.period = period or {}
        self.metrics = metrics or {}
        self.model_id = model_id

    def __repr__(self) -> str:
        return _repr(self)


class ServiceStats(_WindowMetrics):
    """`metrics`: totalPredictions, totalRequests, slowRequests, executionTime (median request
    time, ms; `execution_time_quantile=0.9` gives the p90), serverErrorRate (failed / all
    requests: scenarist does not tell user errors from server errors)."""

    def __getitem__(self, item: str) -> Any:
        return self.metrics.get(item)

    @classmethod
    def get(cls, deployment_id: str, model_id: str | None = None,
            start_time: Any = None, end_time: Any = None,
            execution_time_quantile: float | None = None,
            response_time_quantile: float | None = None,
            slow_requests_threshold: float | None = None) -> ServiceStats:
        if response_time_quantile is not None:
            raise NotSupported("scenarist records one request time (executionTime), no "
                               "responseTime; use execution_time_quantile=")
        if slow_requests_threshold is not None:
            raise NotSupported("slow requests are counted at ingest against the deployment "
                               "setting; change it with scenarist's Deployment.update_settings("
                               "'service', slow_request_ms=...)")
        execution = _execution_metric(execution_time_quantile)
        client = current()
        facts = client.deployment(deployment_id)
        values = client.service_stats(deployment_id, **window(start_time, end_time, model_id))
        metrics = {name: _number(values[native]) for name, native in SERVICE_NAMES.items()
                   if native != "median_request_ms"}
        metrics["executionTime"] = _number(values[execution])
        return cls(_period(values["start"], values["end"]), metrics,
                   model_id or model_id_of(facts))


class ServiceStatsOverTime:
    """`buckets`: [{"period", "value"}]; `summary`: the whole window's value."""

    def __init__(self, buckets: list | None = None, summary: dict | None = None,
                 metric: str | None = None, model_id: str | None = None):
        self.buckets = buckets or []
        self.summary = summary or {}
        self.metric = metric
        self.model_id = model_id

    def __repr__(self) -> str:
        return _repr(self, self.metric)

    @property
    def bucket_values(self) -> OrderedDict:
        return OrderedDict((b["period"]["start"], b["value"]) for b in self.buckets
                           if b["period"])

    @classmethod
    def get(cls, deployment_id: str, metric: str | None = None, model_id: str | None = None,
            start_time: Any = None, end_time: Any = None, bucket_size: str | None = None,
            quantile: float | None = None, threshold: int | None = None
            ) -> ServiceStatsOverTime:
        metric = metric or "totalPredictions"
        if threshold is not None:
            raise NotSupported("slow requests are counted at ingest against the deployment "
                               "setting; change it with Deployment.update_settings('service', "
                               "slow_request_ms=...)")
        if metric == "executionTime":
            native = _execution_metric(quantile)
        elif metric in SERVICE_NAMES:
            native = SERVICE_NAMES[metric]
        else:
            raise NotSupported(f"service metric {metric!r} is not recorded by scenarist; "
                               f"choose one of {', '.join(SERVICE_NAMES)}")
        client = current()
        facts = client.deployment(deployment_id)
        span = window(start_time, end_time, model_id)
        series = client.service_stats_over_time(deployment_id, native, bucket_size or "PT1H",
                                                **span)
        whole = client.service_stats(deployment_id, **span)
        buckets = _buckets(series, pd.Timestamp(whole["end"]), integer=native in _COUNTS)
        summary = {"period": _period(whole["start"], whole["end"]),
                   "value": _number(whole[native])}
        return cls(buckets, summary, metric, model_id or model_id_of(facts))


def _execution_metric(quantile: float | None) -> str:
    if quantile in (None, 0.5):
        return "median_request_ms"
    if quantile == 0.9:
        return "p90_request_ms"
    raise NotSupported(f"request time quantile {quantile} is not kept; scenarist keeps the "
                       "median (0.5) and p90 (0.9) and the mean (get_service_stats().mean_"
                       "request_ms in scenarist's own API)")


_COUNTS = ("total_predictions", "total_requests", "slow_requests")


def _buckets(series: pd.Series, end: pd.Timestamp, *, integer: bool) -> list[dict[str, Any]]:
    starts = list(series.index)
    ends = [*starts[1:], end]
    values = [_number(float(v)) for v in series.tolist()]
    return [{"period": _period(s, e), "value": int(v) if integer and v is not None else v}
            for s, e, v in zip(starts, ends, values, strict=True)]


class _Drift:
    """What TargetDrift and FeatureDrift share: the window, metric, model and sample sizes."""

    def _common(self, period: dict | None, metric: str | None, model_id: str | None,
                drift_score: float | None, sample_size: int | None,
                baseline_sample_size: int | None) -> None:
        self.period = period or {}
        self.metric = metric
        self.model_id = model_id
        self.drift_score = drift_score
        self.sample_size = sample_size
        self.baseline_sample_size = baseline_sample_size


class TargetDrift(_Drift):
    """`drift_score` is the PSI of the model's output against its output on the reference."""

    def __init__(self, period: dict | None = None, metric: str | None = None,
                 model_id: str | None = None, target_name: str | None = None,
                 drift_score: float | None = None, sample_size: int | None = None,
                 baseline_sample_size: int | None = None):
        self._common(period, metric, model_id, drift_score, sample_size, baseline_sample_size)
        self.target_name = target_name

    def __repr__(self) -> str:
        return _repr(self, self.target_name)

    @classmethod
    def get(cls, deployment_id: str, model_id: str | None = None, start_time: Any = None,
            end_time: Any = None, metric: str | None = None) -> TargetDrift:
        _psi_only(metric)
        client = current()
        facts = client.deployment(deployment_id)
        result = client.target_drift(deployment_id, **window(start_time, end_time, model_id))
        return cls(_period(result["start"], result["end"]), DATA_DRIFT_METRIC.PSI,
                   model_id or model_id_of(facts), facts["model"]["target"],
                   _number(result["psi"]), int(result["rows"]), facts["reference_rows"])


class FeatureDrift(_Drift):
    """One feature: `drift_score` (PSI), `feature_impact` (the model's normalised feature
    importance, None when the estimator has none)."""

    def __init__(self, period: dict | None = None, metric: str | None = None,
                 model_id: str | None = None, name: str | None = None,
                 drift_score: float | None = None, feature_impact: float | None = None,
                 sample_size: int | None = None, baseline_sample_size: int | None = None):
        self._common(period, metric, model_id, drift_score, sample_size, baseline_sample_size)
        self.name = name
        self.feature_impact = feature_impact

    def __repr__(self) -> str:
        return _repr(self, self.name)

    @classmethod
    def list(cls, deployment_id: str, model_id: str | None = None, start_time: Any = None,
             end_time: Any = None, metric: str | None = None) -> list[FeatureDrift]:
        _psi_only(metric)
        client = current()
        facts = client.deployment(deployment_id)
        span = window(start_time, end_time, model_id)
        whole = client.service_stats(deployment_id, **span)  # the resolved window
        rows = client.feature_drift(deployment_id, **span)
        period = _period(whole["start"], whole["end"])
        return [cls(period, DATA_DRIFT_METRIC.PSI, model_id or model_id_of(facts),
                    r["feature"], _number(r["psi"]), _number(r["importance"]), None,
                    facts["reference_rows"]) for r in rows]


def _psi_only(metric: str | None) -> None:
    if metric not in (None, DATA_DRIFT_METRIC.PSI):
        raise NotSupported(f"drift metric {metric!r}: the drift_score here is PSI; scenarist's "
                           "own get_feature_drift(method=...) / get_target_drift(method=...) "
                           "give ks, wasserstein, psi, jensenshannon, chisquare and z scores")


class Accuracy(_WindowMetrics):
    """`metrics[name]` = {"value", "baseline_value" (on the reference rows), "percent_change"};
    `accuracy["AUC"]` is the value. MAPE is in percent, as DataRobot's (scenarist's own API
    keeps the fraction)."""

    def __getitem__(self, item: str) -> Any:
        return (self.metrics.get(item) or {}).get("value")

    @property
    def metric_values(self) -> dict[str, Any]:
        return {k: v.get("value") for k, v in self.metrics.items()}

    @property
    def metric_baselines(self) -> dict[str, Any]:
        return {k: v.get("baseline_value") for k, v in self.metrics.items()}

    @property
    def percent_changes(self) -> dict[str, Any]:
        return {k: v.get("percent_change") for k, v in self.metrics.items()}

    @classmethod
    def get(cls, deployment_id: str, model_id: str | None = None, start_time: Any = None,
            end_time: Any = None, target_classes: list[str] | None = None) -> Accuracy:
        _no_target_classes(target_classes)
        client = current()
        facts = client.deployment(deployment_id)
        result = client.accuracy(deployment_id, **window(start_time, end_time, model_id))
        baseline = facts.get("baseline") or {}
        metrics = {}
        for name, native in ACCURACY_NAMES[facts["model"]["type"]].items():
            value = _scaled(name, result["metrics"].get(native))
            base = _scaled(name, baseline.get(native))
            change = (None if value is None or not base else
                      round((value - base) / abs(base) * 100, 2))
            metrics[name] = {"value": value, "baseline_value": base, "percent_change": change}
        return cls(_period(result["start"], result["end"]), metrics,
                   model_id or model_id_of(facts))


class AccuracyOverTime:
    """`buckets`: [{"period", "value", "sample_size" (labelled rows)}], `summary` (the whole
    window), `baseline` (the reference rows)."""

    def __init__(self, buckets: list | None = None, summary: dict | None = None,
                 baseline: dict | None = None, metric: str | None = None,
                 model_id: str | None = None):
        self.buckets = buckets if buckets is not None else []
        self.summary = summary if summary is not None else {}
        self.baseline = baseline
        self.metric = metric
        self.model_id = model_id

    def __repr__(self) -> str:
        return _repr(self, self.metric)

    @property
    def bucket_values(self) -> dict:
        return {b["period"]["start"]: b["value"] for b in self.buckets if b.get("period")}

    @property
    def bucket_sample_sizes(self) -> dict:
        return {b["period"]["start"]: b["sample_size"] for b in self.buckets
                if b.get("period")}

    @classmethod
    def get(cls, deployment_id: str, metric: str | None = None, model_id: str | None = None,
            start_time: Any = None, end_time: Any = None, bucket_size: str | None = None,
            target_classes: list[str] | None = None) -> AccuracyOverTime:
        _no_target_classes(target_classes)
        client = current()
        facts = client.deployment(deployment_id)
        names = ACCURACY_NAMES[facts["model"]["type"]]
        metric = metric or next(iter(names))
        if metric not in names:
            raise NotSupported(f"accuracy metric {metric!r} is not computed for a "
                               f"{facts['model']['type']} model; choose one of "
                               f"{', '.join(names)}")
        span = window(start_time, end_time, model_id)
        frame = client.accuracy_over_time(deployment_id, [names[metric]], bucket_size or "PT1H",
                                          **span)
        whole = client.accuracy(deployment_id, **span)
        ends = [*list(frame.index[1:]), pd.Timestamp(whole["end"])]
        buckets = [{"period": _period(s, e), "value": _scaled(metric, v),
                    "sample_size": int(n)}
                   for s, e, v, n in zip(frame.index, ends, frame[names[metric]].tolist(),
                                         frame["labelled"].tolist(), strict=True)]
        summary = {"period": _period(whole["start"], whole["end"]),
                   "value": _scaled(metric, whole["metrics"].get(names[metric])),
                   "sample_size": int(whole["labelled"])}
        baseline = {"period": None, "sample_size": facts["reference_rows"],
                    "value": _scaled(metric, (facts.get("baseline") or {}).get(names[metric]))}
        return cls(buckets, summary, baseline, metric, model_id or model_id_of(facts))

    @classmethod
    def get_as_dataframe(cls, deployment_id: str, metrics: list[str] | None = None,
                         model_id: str | None = None, start_time: Any = None,
                         end_time: Any = None, bucket_size: str | None = None
                         ) -> pd.DataFrame:
        """Columns: the metrics (DataRobot names); index: each bucket's start."""
        if metrics == []:
            raise ValueError("Metrics must be a list of ACCURACY_METRIC or None, but cannot be "
                             "an empty list")
        columns = {}
        for metric in metrics or [None]:
            fetched = cls.get(deployment_id, metric, model_id, start_time, end_time,
                              bucket_size)
            columns[fetched.metric] = pd.Series(fetched.bucket_values, dtype=float)
        return pd.DataFrame(columns)


def _scaled(name: str, value: Any) -> float | None:
    number = _number(value)
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return None
    return float(number) * 100 if name == "MAPE" else float(number)


def _no_target_classes(target_classes: list[str] | None) -> None:
    if target_classes:
        raise NotSupported("per-class accuracy is not computed; scenarist's multiclass "
                           "metrics are accuracy and f1_macro over all classes")


__all__ = ["Accuracy", "AccuracyOverTime", "FeatureDrift", "ServiceStats",
           "ServiceStatsOverTime", "TargetDrift"]
