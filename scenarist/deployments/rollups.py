"""Hourly rollups written at ingest: per (deployment, hour, batch, model version) counts and sums.

`ingest_rollups` turns one `log_batch` call into rows for `scenarist_deployment_hourly`
(predictions, warnings, latest sample time, requests, request-time sums, slow requests) and
`scenarist_deployment_request_times` (the request-time histogram); `write_rollups` adds them to
what is stored (INSERT … ON CONFLICT DO UPDATE SET c = c + new), in the caller's transaction.
They are computed with numpy (np.unique + bincount), not pandas: a small call's rollups cost
microseconds. Rows earlier than the latest logged one (within the allowed lateness) add to the
rollups of their own hours like any other. `lock_deployment` takes the deployment's row lock
first, so concurrent writers of one deployment serialise (SQLite: the database write lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, update

from scenarist.deployments.durations import HOUR
from scenarist.deployments.rows import request_time_bins
from scenarist.stores.deployment_tables import ROLLUP_KEY, deployments, hourly, request_times
from scenarist.stores.prediction_log import upsert_add

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

HOURLY_SUMS = ("predictions", "requests", "timed_requests", "request_ms_sum", "errors",
               "slow_requests", "warnings", "labelled", "abs_error_sum", "sq_error_sum",
               "ape_sum", "actual_sum", "actual_sq_sum")
Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Requests:
    """Several requests in one call: rows of each (in order) and their times in ms (or None)."""

    rows: np.ndarray
    times: np.ndarray | None


def ingest_rollups(self: Deployment, hours: np.ndarray, seconds: np.ndarray,
                   warning: np.ndarray, request: Any, batch_key: int) -> tuple[Records, Records]:
    """Rollup records of one call: its predictions per hour, and its request(s) (None, one
    time, one time per row, or `Requests`: each request in its latest row's hour)."""
    per_row = request is not None and np.ndim(request) == 1
    if isinstance(request, Requests):
        starts = np.cumsum(request.rows) - request.rows
        request_hours = (np.maximum.reduceat(seconds, starts) // HOUR).astype(np.int64)
        times = request.times
    elif per_row:
        request_hours, times = hours, request
    else:
        request_hours = np.array([int(seconds.max() // HOUR)])
        times = None if request is None else np.array([float(request)])
    main, bins = request_rollups(self, request_hours, times, batch_key, per_row=True)
    keys, inverse = np.unique(hours, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(keys))
    warnings = np.bincount(inverse, weights=warning.astype(np.float64), minlength=len(keys))
    latest = np.full(len(keys), -np.inf)
    np.maximum.at(latest, inverse, seconds)
    by_hour = {r["hour"]: r for r in main}
    for i, hour in enumerate(keys.tolist()):
        record = by_hour.get(hour)
        if record is None:
            record = by_hour[hour] = _record(self, hour, batch_key)
        record.update(predictions=int(counts[i]), warnings=int(warnings[i]),
                      max_ts=float(latest[i]))
    return list(by_hour.values()), bins


def request_rollups(self: Deployment, hours: np.ndarray, times: np.ndarray | None,
                    batch_key: int, *, per_row: bool) -> tuple[Records, Records]:
    """Records of requests (one per element of `hours`; `times` in ms or None)."""
    slow = self.settings.service.slow_request_ms
    keys, inverse = np.unique(np.asarray(hours, dtype=np.int64), return_inverse=True)
    requests = np.bincount(inverse, minlength=len(keys))
    main = []
    for i, hour in enumerate(keys.tolist()):
        record = _record(self, hour, batch_key)
        record["requests"] = int(requests[i])
        main.append(record)
    bins: Records = []
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        sums = np.bincount(inverse, weights=times, minlength=len(keys))
        slows = np.bincount(inverse, weights=(times > slow).astype(np.float64),
                            minlength=len(keys))
        for i, record in enumerate(main):
            record.update(timed_requests=record["requests"], request_ms_sum=float(sums[i]),
                          slow_requests=int(slows[i]))
        pairs, pair_counts = np.unique(np.stack([keys[inverse], request_time_bins(times)]),
                                       axis=1, return_counts=True)
        bins = [{**_key(self, int(h), batch_key), "bin": int(b), "count": int(c)}
                for h, b, c in zip(pairs[0].tolist(), pairs[1].tolist(), pair_counts.tolist(),
                                   strict=True)]
    return main, bins


def _key(self: Deployment, hour: int, batch_key: int) -> dict[str, Any]:
    return {"deployment_key": self.key, "hour": hour, "batch_key": batch_key,
            "model_version": self.model_version}


def _record(self: Deployment, hour: int, batch_key: int) -> dict[str, Any]:
    return {**_key(self, hour, batch_key), **dict.fromkeys(HOURLY_SUMS, 0), "max_ts": None}


def write_rollups(conn: Any, rollups: tuple[Records | pd.DataFrame, Records | pd.DataFrame]
                  ) -> None:
    main, bins = rollups
    if isinstance(main, pd.DataFrame):
        main = main.assign(**{c: 0 for c in HOURLY_SUMS if c not in main.columns})
        if "max_ts" not in main.columns:
            main = main.assign(max_ts=None)
        main = main[[*ROLLUP_KEY, *HOURLY_SUMS, "max_ts"]]
    upsert_add(conn, hourly, main, ROLLUP_KEY, add=HOURLY_SUMS, greatest=("max_ts",))
    if len(bins):
        upsert_add(conn, request_times, bins, (*ROLLUP_KEY, "bin"), add=("count",))


# built once: SQLAlchemy memoizes a statement object's cache key, so reusing it skips that work
_LOCK = (update(deployments).where(deployments.c.key == bindparam("locked_key"))
         .values(updated_at=deployments.c.updated_at).returning(*deployments.c))


def lock_deployment(conn: Any, self: Deployment) -> Any:
    """Lock the deployment row for this transaction; the row as it is now."""
    return conn.execute(_LOCK, {"locked_key": self.key}).one()
