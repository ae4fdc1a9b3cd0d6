"""Hourly rollups written at ingest: per (deployment, hour, batch, model version) counts and sums.

`ingest_rollups` turns one `log_batch` call into rows for `scenarist_deployment_hourly`
(predictions, warnings, latest sample time, requests, request-time sums, slow requests) and
`scenarist_deployment_request_times` (the request-time histogram); `write_rollups` adds them to
what is stored (INSERT … ON CONFLICT DO UPDATE SET c = c + new), in the caller's transaction.
`lock_deployment` takes the deployment's row lock first, so concurrent writers of one
deployment serialise (SQLite: the database write lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import select, update

from scenarist.deployments.durations import HOUR
from scenarist.deployments.rows import request_time_bins
from scenarist.stores.deployment_tables import ROLLUP_KEY, deployments, hourly, request_times
from scenarist.stores.prediction_log import upsert_add

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

HOURLY_SUMS = ("predictions", "requests", "timed_requests", "request_ms_sum", "errors",
               "slow_requests", "warnings", "labelled", "abs_error_sum", "sq_error_sum",
               "ape_sum", "actual_sum", "actual_sq_sum")


def ingest_rollups(self: Deployment, hours: np.ndarray, seconds: np.ndarray,
                    warning: np.ndarray, request: Any, batch_key: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    per_row = request is not None and np.ndim(request) == 1
    if per_row:
        main, bins = request_rollups(self, hours, request, batch_key, per_row=True)
    else:
        last_hour = np.array([int(seconds.max() // HOUR)])
        times = None if request is None else np.array([request])
        main, bins = request_rollups(self, last_hour, times, batch_key, per_row=True)
    counts = pd.DataFrame({"hour": hours, "warnings": warning.astype(np.int64), "ts": seconds}
                          ).groupby("hour").agg(predictions=("ts", "size"),
                                                warnings=("warnings", "sum"), max_ts=("ts", "max"))
    main = main.set_index("hour")
    merged = counts.join(main[["requests", "timed_requests", "request_ms_sum", "slow_requests"]],
                         how="outer").fillna(0).reset_index()
    merged["max_ts"] = merged["max_ts"].where(merged["max_ts"] > 0, None)
    return _keyed(self, merged, batch_key), bins


def request_rollups(self: Deployment, hours: np.ndarray, times: np.ndarray | None,
                     batch_key: int, *, per_row: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    slow = self.settings.service.slow_request_ms
    frame = pd.DataFrame({"hour": hours, "requests": 1})
    if times is None:
        frame["timed_requests"], frame["request_ms_sum"], frame["slow_requests"] = 0, 0.0, 0
    else:
        frame["timed_requests"], frame["request_ms_sum"] = 1, times
        frame["slow_requests"] = (times > slow).astype(np.int64)
    main = frame.groupby("hour", as_index=False).sum()
    main["predictions"] = 0
    main["warnings"] = 0
    main["errors"] = 0
    bins = pd.DataFrame(columns=["hour", "bin", "count"])
    if times is not None:
        bins = (pd.DataFrame({"hour": hours, "bin": request_time_bins(times)})
                .groupby(["hour", "bin"]).size().rename("count").reset_index())
    return _keyed(self, main, batch_key), _keyed(self, bins, batch_key)


def _keyed(self: Deployment, frame: pd.DataFrame, batch_key: int) -> pd.DataFrame:
    frame = frame.copy()
    frame["deployment_key"] = self.key
    frame["batch_key"] = batch_key
    frame["model_version"] = self.model_version
    return frame


def write_rollups(conn: Any, rollups: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    main, bins = rollups
    main = main.assign(**{c: 0 for c in HOURLY_SUMS if c not in main.columns})
    if "max_ts" not in main.columns:
        main = main.assign(max_ts=None)
    upsert_add(conn, hourly, main[[*ROLLUP_KEY, *HOURLY_SUMS, "max_ts"]], ROLLUP_KEY,
               add=HOURLY_SUMS, greatest=("max_ts",))
    if len(bins):
        upsert_add(conn, request_times, bins[[*ROLLUP_KEY, "bin", "count"]],
                   (*ROLLUP_KEY, "bin"), add=("count",))


def lock_deployment(conn: Any, self: Deployment) -> float | None:
    """Lock the deployment row for this transaction; its latest logged timestamp."""
    conn.execute(update(deployments).where(deployments.c.key == self.key)
                 .values(updated_at=deployments.c.updated_at))
    return conn.execute(select(deployments.c.last_timestamp)
                        .where(deployments.c.key == self.key)).scalar()
