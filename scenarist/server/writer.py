"""Storing what the server accepted — through the deployments API, or the spool when it is down.

    writer = Writer(url, lock_for, spool)
    outcome = writer.write(run)        # one run of Records (see `runs`): stored or spooled
    writer.start() / writer.stop()     # the thread replaying the spool, with back-off

`write` holds the deployment's lock. When earlier records of the deployment are still in the
spool, the run joins them there (order kept: nothing newer is stored before something older, so
the non-decreasing timestamp rule holds on replay). Otherwise it is logged; a store that cannot
be reached (StoreError, a database or OS error) spools the run, fsync'd, and the caller may
answer 200: it is durable. Any other error (rows that do not fit, an unknown deployment) is
raised to the caller.

The replay thread stores the oldest spooled runs, in order, once the oldest is `gather_s` old (or
1,000 are pending): under steady `--ingest spool` traffic each `log_batch` call (and each fsync
retiring entries) then covers many requests instead of the few that arrived since the last one,
which is what lets it keep up. A failure to reach the store waits (0.5 s doubling to 30 s) and
tries the same runs again. Sample ids are the
idempotency key: before a run is replayed, its records whose sample ids are already stored (the
process died between the commit and retiring the entry) are skipped, so a record is never
stored twice. The look-up (one query per 5,000 ids, as costly as storing them) is skipped for
entries `--ingest spool` appended in this process and never handed to the store: entries
found at start-up, spooled after a failed store call, or behind a failed replay are looked up.
Failed-request records carry no sample id and are counted at least once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from scenarist.deployments import Deployment
from scenarist.deployments.batches import resolve_batch
from scenarist.deployments.durations import HOUR
from scenarist.deployments.ingest import IngestResult, logged_hashes
from scenarist.deployments.model_info import ModelInfo
from scenarist.deployments.rollups import lock_deployment, request_rollups, write_rollups
from scenarist.errors import StoreError
from scenarist.server.spool import Entry, Spool, SpoolFull
from scenarist.stores.deployment_tables import deployments
from scenarist.stores.prediction_log import hash_texts, id_texts

log = logging.getLogger(__name__)
UNREACHABLE = (SQLAlchemyError, psycopg.Error, sqlite3.OperationalError, OSError)
FIRST_WAIT, LONGEST_WAIT = 0.5, 30.0
REPLAY_ENTRIES = 1_000  # spooled runs of one deployment replayed in one go
GATHER_S = 0.2  # the replay waits until the oldest entry is this old (or 1,000 are pending)


@dataclass(frozen=True)
class Record:
    """One request: predictions (`frame` not None), a failure (`frame` and `predictions` None)
    or a request served elsewhere reported without its data (`predictions` its count).

    `ts` is the request's time; `row_ts` one timestamp per row when the client gave them
    (predictionLogs). `request_ms` None: the request's time is unknown. `version` None: the
    deployment's current model version when stored (requests not served here). `frame` and
    `additional` are DataFrames, or columns (name → one value per row; predictionLogs: no
    DataFrame per request, one per stored run)."""

    deployment_id: str
    version: int | None
    model: ModelInfo | None
    ts: float
    request_ms: float | None
    batch_id: str | None = None
    sample_ids: list[str] | None = None
    frame: pd.DataFrame | dict[str, list[Any]] | None = None
    predictions: Any = None
    probabilities: Any = None
    row_ts: list[Any] | None = None
    additional: pd.DataFrame | dict[str, list[Any]] | None = None

    @property
    def rows(self) -> int:
        if self.frame is None:
            return 0
        return len(self.sample_ids) if self.sample_ids is not None else len(self.frame)

    @property
    def kind(self) -> str:
        if self.frame is not None:
            return "rows"
        return "error" if self.predictions is None else "stats"


@dataclass(frozen=True)
class Outcome:
    """What became of a run: `result` when stored now, `spooled` when stored later."""

    result: IngestResult | None
    spooled: bool


def transient(exc: BaseException) -> bool:
    """Whether `exc` says the store could not be reached (a database or OS error, or a
    StoreError caused by one), rather than that the rows can never be stored."""
    if isinstance(exc, SpoolFull):
        return False
    if isinstance(exc, StoreError):
        return isinstance(exc.__cause__, UNREACHABLE)
    return isinstance(exc, UNREACHABLE)


class Writer:
    """See the module docstring."""

    def __init__(self, url: str | None, lock_for: Callable[[str], threading.Lock],
                 spool: Spool | None, gather_s: float = GATHER_S):
        self.url = url
        self.spool = spool
        self.gather_s = gather_s
        self._lock_for = lock_for
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.replayed = 0
        self.replay_failed = 0
        self.last_error: str | None = None

    def write(self, run: list[Record]) -> Outcome:
        head = run[0]
        with self._lock_for(head.deployment_id):
            if self.spool is not None and self.spool.pending_for(head.deployment_id):
                return self._spool(run)
            try:
                return Outcome(_store(run, self.url), False)
            except Exception as exc:
                if self.spool is None or not transient(exc):
                    raise
                log.warning("deployment %s: store unreachable, %d record(s) spooled: %s",
                            head.deployment_id, len(run), exc)
                self.last_error = f"{type(exc).__name__}: {exc}"
                return self._spool(run)

    def append(self, records: list[Record]) -> Outcome:
        """Spool `records` (of one deployment) without trying the store: the write-ahead
        path of `--ingest spool`; the replay thread stores them (the spool keeps the order:
        no deployment lock, so a replay in progress does not hold the requests up)."""
        return self._spool(records, unattempted=True)

    def _spool(self, run: list[Record], unattempted: bool = False) -> Outcome:
        assert self.spool is not None
        self.spool.append(run[0].deployment_id, run, unattempted)
        self._wake.set()
        return Outcome(None, True)

    # -- replay -------------------------------------------------------------------------------

    def start(self) -> None:
        if self.spool is not None and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._replay, name="scenarist-spool",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def drain(self, timeout: float) -> bool:
        """Wait until the spool is empty (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.spool is not None and len(self.spool):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _replay(self) -> None:
        assert self.spool is not None
        wait = FIRST_WAIT
        while not self._stop.is_set():
            age = self.spool.oldest_age()
            if age is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            if age < self.gather_s and len(self.spool) < REPLAY_ENTRIES:
                self._stop.wait(self.gather_s - age)  # let more arrive: one call stores them
                continue
            entries = self.spool.peek_many(REPLAY_ENTRIES)
            if not entries:
                continue
            entry = entries[-1]
            try:
                with self._lock_for(entry.deployment_id):
                    records = [r for e in entries for r in e.item]
                    fresh = records if all(e.unattempted for e in entries) else \
                        _not_stored(records, self.url)
                    refused = sum(_store_each(run, self.url) for run in runs(fresh, any_size=True))
                    self.spool.consume(entry)
                self.replayed += len(fresh) - refused
                self.replay_failed += refused
                wait = FIRST_WAIT
            except Exception as exc:  # noqa: BLE001 - the store away, or rows never storable
                self.spool.attempted(entry)  # some runs may be stored: look before a retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                if transient(exc):
                    self._stop.wait(wait)
                    wait = min(wait * 2, LONGEST_WAIT)
                    continue
                if len(entries) > 1:  # find the refused run: replay one entry at a time
                    self._replay_one(entries[0])
                    continue
                log.error("deployment %s: spooled records refused, dropped: %s",
                          entry.deployment_id, exc)
                self.replay_failed += len(entry.item)
                self.spool.consume(entry)

    def _replay_one(self, entry: Entry) -> None:
        assert self.spool is not None
        try:
            with self._lock_for(entry.deployment_id):
                fresh = _not_stored(entry.item, self.url)
                refused = sum(_store_each(run, self.url) for run in runs(fresh, any_size=True))
                self.spool.consume(entry)
            self.replayed += len(fresh) - refused
            self.replay_failed += refused
        except Exception as exc:  # noqa: BLE001 - the store away: the loop waits and retries
            self.spool.attempted(entry)
            self.last_error = f"{type(exc).__name__}: {exc}"
            if not transient(exc):
                log.error("deployment %s: spooled records refused, dropped: %s",
                          entry.deployment_id, exc)
                self.replay_failed += len(entry.item)
                self.spool.consume(entry)


def runs(records: list[Record], *, any_size: bool = False) -> list[list[Record]]:
    """Consecutive records loggable in one call: same deployment, version, batch and kind,
    and for predictions the same optional parts (probabilities, extra columns, row times, a
    request time); the call logs each record as its own request (`request_rows`).

    Only single-row requests are joined unless `any_size`: a request still waiting for its
    answer gets its own call's warnings, and a refused call fails only its own request. The
    spool's replay joins requests of any size (already answered; `_store_each` retries a
    refused run one request at a time)."""
    grouped: list[list[Record]] = []
    for record in records:
        previous = grouped[-1][-1] if grouped else None
        if previous is not None and _joinable(previous, record, any_size):
            grouped[-1].append(record)
        else:
            grouped.append([record])
    return grouped


def _joinable(a: Record, b: Record, any_size: bool) -> bool:
    same = ((a.deployment_id, a.version, a.batch_id, a.kind)
            == (b.deployment_id, b.version, b.batch_id, b.kind))
    if not same or b.kind != "rows":
        return same and b.kind == "error"
    if not any_size and not (a.rows == b.rows == 1 and a.request_ms is not None):
        return False
    return ((a.request_ms is None) == (b.request_ms is None)
            and (a.probabilities is None) == (b.probabilities is None)
            and (a.additional is None) == (b.additional is None)
            and (a.row_ts is None) == (b.row_ts is None))


def _store_each(run: list[Record], url: str | None) -> int:
    """Store a spooled run; when the store refuses it (not a transient failure), each record
    alone, so one refused request (a sample id stored before, say) does not drop the others of
    its run: returns how many records were refused (logged, dropped)."""
    try:
        _store(run, url)
        return 0
    except Exception as exc:
        if transient(exc):
            raise
        if len(run) == 1:
            log.error("deployment %s: a spooled request of %d row(s) refused, dropped: %s",
                      run[0].deployment_id, run[0].rows, exc)
            return 1
    return sum(_store_each([record], url) for record in run)


def _store(run: list[Record], url: str | None) -> IngestResult | None:
    head = run[0]
    deployment = _at_version(head, url)
    if head.kind == "stats":
        return _log_stats(deployment, head)
    if head.kind == "error":
        deployment.log_errors([r.ts for r in run], [r.request_ms or 0.0 for r in run],
                              batch_id=head.batch_id)
        return None
    if len(run) == 1:
        return deployment.log_batch(
            head.sample_ids, head.row_ts if head.row_ts is not None else [head.ts] * head.rows,
            head.frame,
            head.predictions, head.probabilities, head.batch_id, request_ms=head.request_ms,
            additional_data=head.additional)
    probabilities = None
    if head.probabilities is not None:
        probabilities = np.concatenate([np.asarray(r.probabilities) for r in run])
    additional = None
    if head.additional is not None:
        additional = _concat([r.additional for r in run])
    timed = head.request_ms is not None
    return deployment.log_batch(
        [s for r in run for s in r.sample_ids or ()],
        [t for r in run for t in (r.row_ts if r.row_ts is not None else [r.ts] * r.rows)],
        _concat([r.frame for r in run]),
        [p for r in run for p in r.predictions], probabilities, head.batch_id,
        request_ms=[r.request_ms for r in run] if timed else None, additional_data=additional,
        request_rows=[r.rows for r in run])


def _concat(parts: list[Any]) -> pd.DataFrame | dict[str, list[Any]]:
    """The rows of several records' frames (DataFrames or columns) as one."""
    if all(isinstance(p, dict) for p in parts):
        names = list(dict.fromkeys(name for p in parts for name in p))
        if all(len(p) == len(names) for p in parts):  # the same columns: join the lists
            return {name: [v for p in parts for v in p[name]] for name in names}
    return pd.concat([p if isinstance(p, pd.DataFrame) else pd.DataFrame(p) for p in parts],
                     ignore_index=True)


def _log_stats(deployment: Deployment, record: Record) -> None:
    """One request of `record.predictions` predictions, in service stats only."""
    batch = resolve_batch(deployment, record.batch_id) if record.batch_id else None
    hours = np.array([int(record.ts // HOUR)])
    times = None if record.request_ms is None else np.array([float(record.request_ms)])
    main, bins = request_rollups(deployment, hours, times, batch.key if batch else 0,
                                 per_row=True)
    for row in main:
        row.update(predictions=int(record.predictions), max_ts=float(record.ts))
    with deployment._engine.begin() as conn:
        lock_deployment(conn, deployment)
        write_rollups(conn, (main, bins))


def _not_stored(run: list[Record], url: str | None) -> list[Record]:
    """The records of a spooled run whose sample ids are not stored yet."""
    head = run[0]
    if head.kind != "rows":
        return run
    deployment = Deployment.get(head.deployment_id, url=url)
    ids = [s for r in run for s in r.sample_ids or ()]
    hashes = hash_texts(id_texts(ids))
    found = logged_hashes(deployment, hashes)
    if not found:
        return run
    kept, position = [], 0
    for record in run:
        mine = hashes[position:position + record.rows]
        position += record.rows
        if not any(int(h) in found for h in mine):
            kept.append(record)
    return kept


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
    if record.version is None or record.model is None:
        return current
    engine = current._engine
    with engine.connect() as conn:
        row = conn.execute(select(deployments).where(deployments.c.key == current.key)).one()
    return _AtVersion(engine, row, record.version, record.model)
