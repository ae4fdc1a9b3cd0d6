"""Service stats, accuracy and prediction warnings over time, read from the hourly rollups.

Every query takes `start`/`end` (top of the hour; default the 7 days before the next top of the
hour), `batches` (ids or names: only those monitoring batches) and `model_version` (one model
of the history). None of them reads prediction rows: they sum rollup rows, at most one per
(hour, batch, model version), so their cost grows with the window, not with the predictions.

Service stats: total predictions and requests, mean request time (exact, from sums), median and
p90 request time (from a histogram with bins 2^(1/4) wide, so within ±9%), errors and error
rate (errors / requests), slow requests (slower than `settings.service.slow_request_ms`).

Accuracy: the metrics of `scenarist.metrics.performance` for the model type, computed from the
labelled outcomes: binary accuracy/precision/recall/f1 (exact), logloss (exact), auc (from
probabilities binned on the logit scale, 20 bins per unit: pairs inside one bin count as ties,
so it differs from the row-level AUC by about 10⁻³ at most on typical scores); multiclass
accuracy and f1_macro (exact); regression rmse, mae, r2, mape (exact, from sums).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sqlalchemy import func, select

from scenarist.deployments.batches import scope_conditions
from scenarist.deployments.durations import (
    TimeLike,
    bucket_hours,
    epoch_hour,
    resolve_window,
    to_utc,
)
from scenarist.deployments.labels import NO_PROBA
from scenarist.deployments.rows import bin_quantile
from scenarist.errors import InputDataError
from scenarist.stores.deployment_tables import hourly, outcomes, request_times

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

SERVICE_METRICS = ("total_predictions", "total_requests", "mean_request_ms", "median_request_ms",
                   "p90_request_ms", "errors", "error_rate", "slow_requests")
ACCURACY_METRICS = {
    "binary": ("accuracy", "precision", "recall", "f1", "auc", "logloss"),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2", "mape"),
}
Batches = str | Sequence[str] | None


@dataclass(frozen=True)
class ServiceStats:
    start: datetime
    end: datetime
    total_predictions: int
    total_requests: int
    mean_request_ms: float
    median_request_ms: float
    p90_request_ms: float
    errors: int
    error_rate: float
    slow_requests: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LabelReadiness:
    """Whether label-dependent checks may run on a window (the alert delay rule)."""

    ready: bool
    labelled: int
    predictions: int
    labelled_ratio: float
    latest_sample_time: datetime | None
    ready_at: datetime | None  # when the delay alone will make it ready
    reason: str


@dataclass(frozen=True)
class Accuracy:
    start: datetime
    end: datetime
    metrics: dict[str, float]
    labelled: int
    predictions: int
    readiness: LabelReadiness

    def __getitem__(self, metric: str) -> float:
        return self.metrics[metric]


# -- service stats ----------------------------------------------------------------------------

def get_service_stats(self: Deployment, start: TimeLike | None = None,
                      end: TimeLike | None = None, *, batches: Batches = None,
                      model_version: int | None = None) -> ServiceStats:
    """Totals of the window (see the module docstring)."""
    first, last = resolve_window(start, end)
    sums = _hourly(self, first, last, batches, model_version, bucket=None)
    bins = _request_bins(self, first, last, batches, model_version, bucket=None)
    row = sums.iloc[0] if len(sums) else pd.Series(dtype=float)
    values = _service_values(row, bins)
    return ServiceStats(start=first, end=last, **values)


def get_service_stats_over_time(self: Deployment, metric: str = "total_predictions",
                                bucket_size: str | timedelta = "PT1H",
                                start: TimeLike | None = None, end: TimeLike | None = None, *,
                                batches: Batches = None, model_version: int | None = None
                                ) -> pd.Series:
    """`metric` per bucket (index: bucket start, UTC); every bucket of the window is present."""
    if metric not in SERVICE_METRICS:
        raise InputDataError(f"unknown service metric {metric!r}; choose one of "
                             f"{', '.join(SERVICE_METRICS)}")
    hours = bucket_hours(bucket_size)
    first, last = resolve_window(start, end)
    sums = _hourly(self, first, last, batches, model_version, bucket=hours).set_index("bucket")
    needs_bins = metric in ("median_request_ms", "p90_request_ms")
    bins = (_request_bins(self, first, last, batches, model_version, bucket=hours)
            if needs_bins else None)
    index = _buckets(first, last, hours)
    by_bucket = dict(tuple(bins.groupby("bucket"))) if bins is not None else {}
    empty = pd.DataFrame({"bin": [], "count": []})
    values = []
    for bucket in range(len(index)):
        row = sums.loc[bucket] if bucket in sums.index else pd.Series(dtype=float)
        chosen = by_bucket.get(bucket, empty) if bins is not None else None
        values.append(_service_values(row, chosen, only=metric)[metric])
    return pd.Series(values, index=index, name=metric, dtype=float)


def _service_values(row: pd.Series, bins: pd.DataFrame | None, only: str | None = None
                    ) -> dict[str, Any]:
    def total(column: str) -> int:
        value = row.get(column)
        return 0 if value is None or pd.isna(value) else int(value)

    requests, timed = total("requests"), total("timed_requests")
    errors = total("errors")
    ms_sum = float(row.get("request_ms_sum", 0.0))
    values: dict[str, Any] = {
        "total_predictions": total("predictions"),
        "total_requests": requests,
        "mean_request_ms": ms_sum / timed if timed else math.nan,
        "errors": errors,
        "error_rate": errors / requests if requests else math.nan,
        "slow_requests": total("slow_requests"),
        "median_request_ms": math.nan,
        "p90_request_ms": math.nan,
    }
    if bins is not None and len(bins) and only in (None, "median_request_ms", "p90_request_ms"):
        b, c = bins["bin"].to_numpy(), bins["count"].to_numpy()
        values["median_request_ms"] = bin_quantile(b, c, 0.5)
        values["p90_request_ms"] = bin_quantile(b, c, 0.9)
    return values


# -- accuracy ---------------------------------------------------------------------------------

def get_accuracy(self: Deployment, start: TimeLike | None = None, end: TimeLike | None = None,
                 *, batches: Batches = None, model_version: int | None = None,
                 now: datetime | None = None) -> Accuracy:
    """Every accuracy metric of the model type over the window's labelled predictions."""
    first, last = resolve_window(start, end)
    counts = _outcomes(self, first, last, batches, model_version, bucket=None)
    sums = _hourly(self, first, last, batches, model_version, bucket=None)
    row = sums.iloc[0] if len(sums) else pd.Series(dtype=float)
    metrics = _accuracy_values(self, row, counts)
    readiness = get_label_readiness(self, first, last, batches=batches,
                                    model_version=model_version, now=now)
    result = Accuracy(first, last, metrics, readiness.labelled, readiness.predictions, readiness)
    _record_health(self, result)
    return result


def get_accuracy_over_time(self: Deployment, metric: str, bucket_size: str | timedelta = "PT1H",
                           start: TimeLike | None = None, end: TimeLike | None = None, *,
                           batches: Batches = None, model_version: int | None = None
                           ) -> pd.Series:
    """One accuracy metric per bucket (NaN where a bucket has no labelled prediction)."""
    frame = get_accuracy_over_time_frame(self, [metric], bucket_size, start, end,
                                         batches=batches, model_version=model_version)
    return frame[metric]


def get_accuracy_over_time_frame(self: Deployment, metrics: Sequence[str] | None = None,
                                 bucket_size: str | timedelta = "PT1H",
                                 start: TimeLike | None = None, end: TimeLike | None = None, *,
                                 batches: Batches = None, model_version: int | None = None
                                 ) -> pd.DataFrame:
    """Accuracy metrics (default: all of the model type) per bucket, plus `labelled` rows."""
    known = ACCURACY_METRICS[self.model.type]
    chosen = list(metrics) if metrics else list(known)
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise InputDataError(f"unknown accuracy metric(s) {unknown} for a {self.model.type} "
                             f"model; choose from {', '.join(known)}")
    hours = bucket_hours(bucket_size)
    first, last = resolve_window(start, end)
    counts = _outcomes(self, first, last, batches, model_version, bucket=hours)
    sums = _hourly(self, first, last, batches, model_version, bucket=hours).set_index("bucket")
    index = _buckets(first, last, hours)
    rows = []
    for bucket in range(len(index)):
        row = sums.loc[bucket] if bucket in sums.index else pd.Series(dtype=float)
        chosen_counts = counts[counts["bucket"] == bucket] if counts is not None else None
        values = _accuracy_values(self, row, chosen_counts)
        rows.append({**{m: values.get(m, math.nan) for m in chosen},
                     "labelled": int(row.get("labelled", 0) or 0)})
    return pd.DataFrame(rows, index=index)


def _accuracy_values(self: Deployment, row: pd.Series, counts: pd.DataFrame | None
                     ) -> dict[str, float]:
    model = self.model
    nan = dict.fromkeys(ACCURACY_METRICS[model.type], math.nan)
    if model.type == "regression":
        n = float(row.get("labelled", 0) or 0)
        if n <= 0:
            return nan
        sq, y, y2 = row["sq_error_sum"], row["actual_sum"], row["actual_sq_sum"]
        total = y2 - y * y / n
        return {"rmse": math.sqrt(max(sq, 0.0) / n), "mae": row["abs_error_sum"] / n,
                "r2": 1 - sq / total if n > 1 and total > 0 else math.nan,
                "mape": row["ape_sum"] / n}
    if counts is None or counts.empty or counts["count"].sum() <= 0:
        return nan
    counts = counts[counts["count"] > 0]
    weight = counts["count"].to_numpy(dtype=float)
    true, pred = counts["actual"].to_numpy(), counts["predicted"].to_numpy()
    values = {"accuracy": skm.accuracy_score(true, pred, sample_weight=weight)}
    if model.type == "multiclass":
        values["f1_macro"] = skm.f1_score(true, pred, average="macro", sample_weight=weight,
                                          zero_division=0)
        return {k: float(v) for k, v in values.items()}
    positive = list(model.classes or ()).index(model.positive_label)
    is_pos, pred_pos = true == positive, pred == positive
    for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score),
                        ("f1", skm.f1_score)):
        values[name] = score(is_pos, pred_pos, sample_weight=weight, zero_division=0)
    with_proba = counts["proba_bin"].to_numpy() != NO_PROBA
    values["auc"] = values["logloss"] = math.nan
    if with_proba.any():
        centre = counts["proba_bin"].to_numpy()[with_proba]  # monotone in the probability
        if 0 < is_pos[with_proba].sum() and (~is_pos[with_proba]).any():
            values["auc"] = skm.roc_auc_score(is_pos[with_proba], centre,
                                              sample_weight=weight[with_proba])
        values["logloss"] = counts["logloss_sum"].to_numpy()[with_proba].sum() / weight[
            with_proba].sum()
    return {k: float(v) for k, v in values.items()}


def get_label_readiness(self: Deployment, start: TimeLike | None = None,
                        end: TimeLike | None = None, *, batches: Batches = None,
                        model_version: int | None = None, now: datetime | None = None
                        ) -> LabelReadiness:
    """The alert delay rule: ready once `delay_seconds` have passed since the window's latest
    sample, or once `labels_ratio` of its predictions are labelled (whichever comes first)."""
    first, last = resolve_window(start, end)
    sums = _hourly(self, first, last, batches, model_version, bucket=None)
    row = sums.iloc[0] if len(sums) else pd.Series(dtype=float)
    predicted = int(row.get("predictions", 0) or 0)
    labelled = int(row.get("labelled", 0) or 0)
    ratio = labelled / predicted if predicted else math.nan
    latest = row.get("max_ts")
    latest_time = to_utc(float(latest)) if latest is not None and not pd.isna(latest) else None
    settings = self.settings.alert_delay
    current = now or datetime.now(timezone.utc)
    ready_at = latest_time + timedelta(seconds=settings.delay_seconds) if latest_time else None
    if predicted == 0:
        return LabelReadiness(False, 0, 0, ratio, None, None, "no predictions in the window")
    if ratio >= settings.labels_ratio:
        return LabelReadiness(True, labelled, predicted, ratio, latest_time, ready_at,
                              f"{ratio:.1%} labelled, at least labels_ratio "
                              f"{settings.labels_ratio:.1%}")
    if ready_at is not None and current >= ready_at:
        return LabelReadiness(True, labelled, predicted, ratio, latest_time, ready_at,
                              f"delay of {settings.delay_seconds} s passed since the latest "
                              "sample")
    return LabelReadiness(False, labelled, predicted, ratio, latest_time, ready_at,
                          f"waiting: {ratio:.1%} labelled (needs {settings.labels_ratio:.1%}) "
                          f"and the delay ends at {ready_at.isoformat() if ready_at else '-'}")


def get_prediction_warnings(self: Deployment, bucket_size: str | timedelta = "PT1H",
                            start: TimeLike | None = None, end: TimeLike | None = None, *,
                            batches: Batches = None, model_version: int | None = None
                            ) -> pd.DataFrame:
    """Predictions, warnings and warning_rate per bucket (warnings are flagged at ingest)."""
    hours = bucket_hours(bucket_size)
    first, last = resolve_window(start, end)
    sums = _hourly(self, first, last, batches, model_version, bucket=hours).set_index("bucket")
    index = _buckets(first, last, hours)
    frame = sums.reindex(range(len(index)))[["predictions", "warnings"]].fillna(0).astype(int)
    frame.index = index
    frame["warning_rate"] = frame["warnings"] / frame["predictions"].where(frame["predictions"] > 0)
    return frame


# -- reading the rollups ----------------------------------------------------------------------

def _bucket_expr(table: Any, first: datetime, hours: int | None) -> Any:
    if hours is None:
        return None
    return ((table.c.hour - epoch_hour(first)) // hours).label("bucket")


def _hourly(self: Deployment, first: datetime, last: datetime, batches: Batches,
            model_version: int | None, *, bucket: int | None) -> pd.DataFrame:
    columns = ["predictions", "requests", "timed_requests", "request_ms_sum", "errors",
               "slow_requests", "warnings", "labelled", "abs_error_sum", "sq_error_sum",
               "ape_sum", "actual_sum", "actual_sq_sum"]
    aggregates = [func.sum(hourly.c[c]).label(c) for c in columns]
    aggregates.append(func.max(hourly.c.max_ts).label("max_ts"))
    where = scope_conditions(self, hourly, first, last, batches, model_version)
    group = _bucket_expr(hourly, first, bucket)
    query = select(*([group] if group is not None else []), *aggregates).where(*where)
    if group is not None:
        query = query.group_by(group)
    with self._engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=[*(["bucket"] if group is not None else []), *columns,
                                        "max_ts"])
    frame[columns] = frame[columns].astype(float).fillna(0.0)
    if bucket is not None:
        frame["bucket"] = frame["bucket"].astype(np.int64)
    return frame


def _request_bins(self: Deployment, first: datetime, last: datetime, batches: Batches,
                  model_version: int | None, *, bucket: int | None) -> pd.DataFrame:
    group = _bucket_expr(request_times, first, bucket)
    keys = [*([group] if group is not None else []), request_times.c.bin]
    query = (select(*keys, func.sum(request_times.c.count).label("count"))
             .where(*scope_conditions(self, request_times, first, last, batches, model_version))
             .group_by(*keys))
    with self._engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=[*(["bucket"] if group is not None else []), "bin",
                                       "count"]).astype(np.int64)


def _outcomes(self: Deployment, first: datetime, last: datetime, batches: Batches,
              model_version: int | None, *, bucket: int | None) -> pd.DataFrame | None:
    if not self.model.is_classifier:
        return None
    group = _bucket_expr(outcomes, first, bucket)
    keys = [*([group] if group is not None else []), outcomes.c.predicted, outcomes.c.actual,
            outcomes.c.proba_bin]
    query = (select(*keys, func.sum(outcomes.c.count).label("count"),
                    func.sum(outcomes.c.logloss_sum).label("logloss_sum"))
             .where(*scope_conditions(self, outcomes, first, last, batches, model_version))
             .group_by(*keys))
    with self._engine.connect() as conn:
        rows = conn.execute(query).all()
    names = [*(["bucket"] if group is not None else []), "predicted", "actual", "proba_bin",
             "count", "logloss_sum"]
    return pd.DataFrame(rows, columns=names).astype({"count": np.int64, "logloss_sum": float})


def _buckets(first: datetime, last: datetime, hours: int) -> pd.DatetimeIndex:
    total = (epoch_hour(last) - epoch_hour(first) + hours - 1) // hours
    return pd.date_range(first, periods=total, freq=f"{hours}h", name="start")


def _record_health(self: Deployment, accuracy: Accuracy) -> None:
    from scenarist.deployments.replacement import accuracy_health

    health = accuracy_health(self, accuracy)
    if health != self.accuracy_health:
        self._write(accuracy_health=health)

