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
than one already logged. Storing goes through writer.Writer: a flush the store cannot take
(database down) is spooled to disk and replayed later, in order (`stats().spooled`); records
that can never be stored (an unknown deployment, rows that do not fit) are counted with their
error in `stats()` (`failed_records`, `last_error`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scenarist.server.writer import Record, Writer, runs

log = logging.getLogger(__name__)


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
    spooled_runs: int = 0
    last_error: str | None = None
    pending: int = field(default=0)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class MonitoringQueue:
    """See the module docstring. `start()` the worker, `stop()` flushes what is left."""

    def __init__(self, url: str | None, lock_for: Callable[[str], threading.Lock], *,
                 capacity: int = 10_000, batch_size: int = 2_000, flush_seconds: float = 1.0,
                 writer: Writer | None = None):
        self.url = url
        self.writer = writer or Writer(url, lock_for, None)
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
        for run in runs(records):
            head = run[0]
            try:
                outcome = self.writer.write(run)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the worker goes on
                log.warning("monitoring flush of deployment %s failed: %s",
                            head.deployment_id, exc)
                self._count(failed_records=len(run), last_error=f"{type(exc).__name__}: {exc}")
                continue
            if outcome.spooled:
                self._count(spooled_runs=1)
            elif head.frame is None:
                self._count(logged_errors=len(run))
            else:
                self._count(logged_requests=len(run), logged_rows=sum(r.rows for r in run))

    def _count(self, last_error: str | None = None, **increments: int) -> None:
        with self._stats_lock:
            for name, value in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + value)
            if last_error is not None:
                self._stats.last_error = last_error
