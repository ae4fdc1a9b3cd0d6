"""Monitoring off the request path: a bounded queue of served requests, flushed in batches.

A prediction request puts one record on the queue (never blocking: when the queue is full the
record is dropped and counted in `stats().dropped`, and the response says so in its
`X-Scenarist-Monitoring` header). One worker thread takes what is queued — up to `batch_size`
records, or whatever arrived within `flush_seconds` — and logs it through the deployments API:

    successful requests  `Deployment.log_batch`: consecutive single-row requests of one
                         (deployment, model version, batch) in one call with one request time per
                         row (each row is its own request); a multi-row request in its own call
    failed requests      `Deployment.log_errors` (they count in the error rate)

Records carry the model version that produced them, so a flush after a model replacement still
files old-model predictions under the old version. Timestamps are taken when a record is queued,
under the queue's lock and never going back, so consecutive flushes never log a time earlier
than one already logged. A flush that fails (a store down) is counted with its error in
`stats()`; its records are not retried.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from scenarist.deployments import Deployment
from scenarist.deployments.model_info import ModelInfo
from scenarist.stores.deployment_tables import deployments

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One served request: predictions (`frame` not None) or a failure (`frame` None)."""

    deployment_id: str
    version: int
    model: ModelInfo
    ts: float
    request_ms: float
    batch_id: str | None = None
    sample_ids: list[str] | None = None
    frame: pd.DataFrame | None = None
    predictions: np.ndarray | None = None
    probabilities: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)


@dataclass
class QueueStats:
    capacity: int
    queued: int = 0
    dropped: int = 0
    flushes: int = 0
    logged_requests: int = 0
    logged_rows: int = 0
    logged_errors: int = 0
    failed_records: int = 0
    last_error: str | None = None
    pending: int = field(default=0)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class MonitoringQueue:
    """See the module docstring. `start()` the worker, `stop()` flushes what is left."""

    def __init__(self, url: str | None, lock_for: Callable[[str], threading.Lock], *,
                 capacity: int = 10_000, batch_size: int = 2_000, flush_seconds: float = 1.0):
        self.url = url
        self._lock_for = lock_for
        self._queue: queue.Queue[Record] = queue.Queue(maxsize=capacity)
        self._stats = QueueStats(capacity=capacity)
        self._stats_lock = threading.Lock()
        self._put_lock = threading.Lock()
        self._last_ts = 0.0
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the request side ---------------------------------------------------------------------

    def put(self, make: Callable[[float], Record]) -> bool:
        """Queue `make(timestamp)`; False (and counted) when the queue is full."""
        with self._put_lock:
            ts = max(time.time(), self._last_ts)
            try:
                self._queue.put_nowait(make(ts))
            except queue.Full:
                with self._stats_lock:
                    self._stats.dropped += 1
                return False
            self._last_ts = ts
        with self._stats_lock:
            self._stats.queued += 1
        return True

    # -- the worker ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="scenarist-monitoring",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Flush everything queued, then end the worker."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued record is flushed (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stats(self) -> QueueStats:
        with self._stats_lock:
            copy = QueueStats(**self._stats.as_dict())
        copy.pending = self._queue.qsize()
        return copy

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            records = [first]
            deadline = time.monotonic() + self.flush_seconds
            while len(records) < self.batch_size:
                wait = deadline - time.monotonic()
                try:
                    records.append(self._queue.get(timeout=max(wait, 0)) if wait > 0
                                   else self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.flush(records)
            finally:
                for _ in records:
                    self._queue.task_done()

    def flush(self, records: list[Record]) -> None:
        """Log `records` (in queue order) through the deployments API."""
        with self._stats_lock:
            self._stats.flushes += 1
        for run in _runs(records):
            head = run[0]
            try:
                with self._lock_for(head.deployment_id):
                    deployment = _at_version(head, self.url)
                    if head.frame is None:
                        deployment.log_errors([r.ts for r in run], [r.request_ms for r in run],
                                              batch_id=head.batch_id)
                        self._count(logged_errors=len(run))
                    else:
                        _log_predictions(deployment, run)
                        self._count(logged_requests=len(run),
                                    logged_rows=sum(r.rows for r in run))
            except Exception as exc:  # noqa: BLE001 - counted and reported, the worker goes on
                log.warning("monitoring flush of deployment %s failed: %s",
                            head.deployment_id, exc)
                self._count(failed_records=len(run), last_error=f"{type(exc).__name__}: {exc}")

    def _count(self, last_error: str | None = None, **increments: int) -> None:
        with self._stats_lock:
            for name, value in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + value)
            if last_error is not None:
                self._stats.last_error = last_error


def _runs(records: list[Record]) -> list[list[Record]]:
    """Consecutive records loggable in one call: same deployment, version, batch and kind;
    predictions only when every record of the run has a single row."""
    runs: list[list[Record]] = []
    for record in records:
        key = (record.deployment_id, record.version, record.batch_id, record.frame is None)
        previous = runs[-1][-1] if runs else None
        joinable = (previous is not None and key == (
            previous.deployment_id, previous.version, previous.batch_id, previous.frame is None)
            and (record.frame is None or (record.rows == 1 and previous.rows == 1)))
        if joinable:
            runs[-1].append(record)
        else:
            runs.append([record])
    return runs


def _log_predictions(deployment: Deployment, run: list[Record]) -> None:
    if len(run) == 1:
        record = run[0]
        deployment.log_batch(record.sample_ids, [record.ts] * record.rows, record.frame,
                             record.predictions, record.probabilities, record.batch_id,
                             request_ms=record.request_ms)
        return
    probabilities = None
    if run[0].probabilities is not None:
        probabilities = np.concatenate([r.probabilities for r in run])  # type: ignore[misc]
    deployment.log_batch(
        [s for r in run for s in r.sample_ids or ()], [r.ts for r in run],
        pd.concat([r.frame for r in run], ignore_index=True),
        np.concatenate([r.predictions for r in run]), probabilities, run[0].batch_id,
        request_ms=[r.request_ms for r in run])


class _AtVersion(Deployment):
    """The deployment as seen by requests its model version `version` served: statistics are
    filed under that version and data is checked against that model, even after a swap."""

    def __init__(self, engine: Any, row: Any, version: int, model: ModelInfo):
        self._pinned = (version, model)
        super().__init__(engine, row)

    def _load(self, row: Any) -> None:
        super()._load(row)
        self.model_version, self.model = self._pinned


def _at_version(record: Record, url: str | None) -> Deployment:
    current = Deployment.get(record.deployment_id, url=url)
    engine = current._engine
    with engine.connect() as conn:
        row = conn.execute(select(deployments).where(deployments.c.key == current.key)).one()
    return _AtVersion(engine, row, record.version, record.model)
